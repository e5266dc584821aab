import { ReleaseError } from '@helix-release/core';

/** Error codes of the conformance stage. */
export type ConformanceErrorCode = 'CONFORMANCE_FAILED' | 'CONFORMANCE_NO_PACK' | 'CONFORMANCE_OUTPUT' | 'CONFORMANCE_PACK_CONFLICT';

/** A conformance-stage error. */
export class ConformanceError extends ReleaseError<ConformanceErrorCode> {}
