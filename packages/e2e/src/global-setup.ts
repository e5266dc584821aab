/**
 * Builds the sample release once, with `npx nx run release:all` in a fresh
 * copy of the workspace, and hands its path to the e2e files
 * (`inject('baseWorkspace')`). Files that need a release of their own copy
 * this workspace (with its Nx cache) instead of building from scratch.
 */
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { provisionToolchain } from './toolchain-setup';
import { makeWorkspace, nx, removeTemp, tempRoot } from './workspace';

declare module 'vitest' {
  export interface ProvidedContext {
    baseWorkspace: string;
    baseBuildOutput: string;
  }
}

let root: string | undefined;

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  await provisionToolchain();
  root = await tempRoot('base');
  const ws = await makeWorkspace(join(root, 'ws'));
  // TZ=UTC and umask 022 on purpose: determinism.e2e.spec.ts rebuilds under another zone and umask and compares.
  const build = await nx(ws, ['run', 'release:all'], { TZ: 'UTC', LANG: 'C.UTF-8' }, 0o022);
  if (build.code !== 0) throw new Error(`npx nx run release:all failed in ${ws}:\n${build.output}`);
  project.provide('baseWorkspace', ws);
  project.provide('baseBuildOutput', build.output);
  return async () => removeTemp(root);
}
