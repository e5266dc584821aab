/**
 * Typed errors: ReleaseError and its helpers are part of the format (the
 * verifiers and every stage share them); core adds its own codes.
 */
export { ReleaseError, describeError, isReleaseError } from '@helix-release/format';

/** Error codes raised by the core package. */
export type CoreErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'CONFIG_LOAD_FAILED'
  | 'SOURCE_DATE_EPOCH_INVALID'
  | 'SOURCE_DATE_EPOCH_UNAVAILABLE'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_FAILED'
  | 'ZIP_INPUT_INVALID'
  | 'ZIP_MALFORMED'
  | 'ZIP_UNSUPPORTED'
  | 'ZIP_UNSAFE'
  | 'MANIFEST_INVALID'
  | 'FILE_MISSING'
  | 'WRITE_FAILED'
  | 'PATH_OUTSIDE'
  | 'RELEASE_BUSY';

