/** Fixture for config.spec.ts: `plugins.reqireSigned` is a typo. */
import { defineConfig, type ReleaseConfig } from '@helix-release/core';

export default defineConfig({
  apps: { root: 'apps' },
  plugins: { root: 'plugins', reqireSigned: false },
} as unknown as ReleaseConfig);
