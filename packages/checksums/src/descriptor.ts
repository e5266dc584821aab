import type { StageDescriptor } from '@helix-release/core';
import { RELEASE_FILES } from '@helix-release/format';

/** Stage `checksums`'s contract: after the SBOMs; SHA256SUMS.txt over every release file. */
export const checksumsDescriptor: StageDescriptor = {
  name: 'checksums',
  executor: '@helix-release/checksums:checksums',
  package: '@helix-release/checksums',
  scope: 'release',
  after: ['sbom'],
  evidence: 'checksums',
  cache: true,
  readsWholeConfig: true,
  writes: () => [RELEASE_FILES.sums],
  inputs: () => [],
  description: () => 'SHA256SUMS.txt over every release file.',
};
