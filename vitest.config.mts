import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (fast, beside the code) and `e2e` (real PyInstaller,
 * syft, gpg and sha256sum on a copy of the workspace; one release is built
 * once in globalSetup and shared by the e2e files).
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.spec.ts', 'workspace-fixtures/**/*.spec.ts', 'tools/**/*.spec.ts'],
          exclude: ['**/node_modules/**', 'packages/e2e/**'],
          globalSetup: ['packages/e2e/src/toolchain-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['packages/e2e/src/**/*.e2e.spec.ts'],
          globalSetup: ['packages/e2e/src/global-setup.ts'],
          testTimeout: 15 * 60_000,
          hookTimeout: 30 * 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
