import { ReleaseError } from '@helix-release/core';

/** Error codes of the sbom stage. */
export type SbomErrorCode = 'SBOM_SYFT_OUTPUT' | 'SBOM_LOCK_MISSING' | 'SBOM_LOCK_VERSION' | 'SBOM_NAME_CLASH';

/** An sbom-stage error. */
export class SbomError extends ReleaseError<SbomErrorCode> {}
