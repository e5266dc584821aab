import type { StageDescriptor } from '@helix-release/core';
import { RELEASE_FILES } from '@helix-release/format';

/** Stage `build-meta`'s contract: beside checksums; BUILD_META.txt. */
export const buildMetaDescriptor: StageDescriptor = {
  name: 'build-meta',
  executor: '@helix-release/build-meta:build-meta',
  package: '@helix-release/build-meta',
  scope: 'release',
  after: ['sbom'],
  evidence: 'build-meta',
  cache: true,
  readsWholeConfig: true,
  writes: () => [RELEASE_FILES.meta],
  inputs: () => ['toolchainPins', 'sourceDateEpoch', 'gitState', 'ciEnvironment'],
  description: () => 'BUILD_META.txt: tag, commit, toolchain and one sha256 per release file.',
};
