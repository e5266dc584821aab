import { ReleaseError } from '@helix-release/core';

/** Error codes of the checksums stage and the SHA256SUMS.txt reader. */
export type ChecksumsErrorCode = 'CHECKSUMS_EMPTY' | 'CHECKSUMS_STRAY_FILE' | 'CHECKSUMS_CHANGED';

/** A checksums error. */
export class ChecksumsError extends ReleaseError<ChecksumsErrorCode> {}
