import { ReleaseError } from '@helix-release/core';

/** Error codes of the lock stage. */
export type LockErrorCode =
  | 'LOCK_UNPINNED'
  | 'LOCK_UNHASHED'
  | 'LOCK_BAD_HASH'
  | 'LOCK_URL_REQUIREMENT'
  | 'LOCK_EDITABLE'
  | 'LOCK_UNSUPPORTED_OPTION'
  | 'LOCK_DUPLICATE'
  | 'LOCK_SYNTAX'
  | 'LOCK_STALE'
  | 'LOCK_MISMATCH'
  | 'LOCK_MISSING'
  /** uv itself could not answer (no cache and no index, an unusable cache folder): not a verdict on the lock. */
  | 'LOCK_TOOL_FAILED';

/** A lock-stage error; `file` is `path:line` when a line is to blame. */
export class LockError extends ReleaseError<LockErrorCode> {}
