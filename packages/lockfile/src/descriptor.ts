import type { StageDescriptor } from '@helix-release/core';

/** Stage `lock`'s contract: per app, before packaging; writes only its record (the lock report). */
export const lockDescriptor: StageDescriptor = {
  name: 'lock',
  executor: '@helix-release/lockfile:lock',
  package: '@helix-release/lockfile',
  scope: 'app',
  after: [],
  toolchain: true,
  cache: true,
  readsWholeConfig: false,
  writes: () => [],
  inputs: () => ['{projectRoot}/requirements*.txt', '{projectRoot}/pyproject.toml', '{projectRoot}/uv.lock', 'toolchainPins'],
  // It reads no setting of release.config.ts.
  options: () => ({}),
  description: () => 'Check that every requirement is pinned with hashes and uv.lock is current; write the lock report.',
};
