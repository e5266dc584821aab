import type { StageDescriptor } from '@helix-release/core';
import { DSSE_SUFFIX, RELEASE_FILES, SIGNATURE_SUFFIX } from '@helix-release/format';

/** Stage `sign`'s contract: last; detached signatures. Never cached. */
export const signDescriptor: StageDescriptor = {
  name: 'sign',
  executor: '@helix-release/sign:sign',
  package: '@helix-release/sign',
  scope: 'release',
  after: ['provenance'],
  // Never cached: a signature must come from the key of this run, never
  // from a cache entry another branch could have written.
  cache: false,
  readsWholeConfig: true,
  writes: () => [`**/*${SIGNATURE_SUFFIX}`, `**/*${DSSE_SUFFIX}`, RELEASE_FILES.publicKey, RELEASE_FILES.publicKeyPem, RELEASE_FILES.fingerprint],
  inputs: () => [],
  description: () => 'Detached OpenPGP signatures, DSSE envelopes, the public key exports and the fingerprint file.',
};
