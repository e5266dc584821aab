/** Fixture for config.spec.ts: a valid config loaded through cosmiconfig and the TypeScript loader. */
import { defineConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  plugins: { root: 'plugins', keyName: 'fixture-plugins' },
  stages: [{ name: 'license-report', executor: '@acme/license:report', after: 'build', outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }] }],
});
