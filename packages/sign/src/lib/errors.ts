import { ReleaseError } from '@helix-release/core';

/** Error codes of the sign stage. */
export type SignErrorCode =
  | 'SIGN_KEY_REQUIRED'
  | 'SIGN_KEY_MALFORMED'
  | 'SIGN_KEY_NOT_PRIVATE'
  | 'SIGN_BAD_PASSPHRASE'
  | 'SIGN_KEY_EXPIRED'
  | 'SIGN_KEY_REVOKED'
  | 'SIGN_KEY_UNUSABLE'
  | 'SIGN_FINGERPRINT_MISMATCH'
  | 'SIGN_FINGERPRINT_MISSING'
  | 'SIGN_FILE_CHANGED'
  /** An SBOM that is not JSON, or that describes no single file of SHA256SUMS.txt: its DSSE statement would have no subject. */
  | 'SIGN_SBOM_UNBOUND'
  /** The folder holds a file no stage of this run produced (checked every run: sign is never cached). */
  | 'SIGN_STRAY_FILE';

/** A sign-stage error. Messages never contain key material or passphrases. */
export class SignError extends ReleaseError<SignErrorCode> {}
