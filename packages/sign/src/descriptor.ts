import type { StageDescriptor } from '@helix-release/core';
import { RELEASE_FILES, SIGNATURE_SUFFIX } from '@helix-release/format';

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
  writes: () => [`**/*${SIGNATURE_SUFFIX}`, RELEASE_FILES.publicKey, RELEASE_FILES.fingerprint],
  inputs: () => [],
  description: () => 'Detached OpenPGP signatures, the public key export and the fingerprint file.',
};
