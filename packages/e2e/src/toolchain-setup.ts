/**
 * Global setup of both vitest projects: provisions the pinned toolchain with
 * the test-only tools (`npx nx run release:toolchain --dev`), so `npm test`
 * works on a fresh clone, and the Studio's test venv (test-python.ts).
 * Idempotent: a provisioned toolchain takes seconds.
 */
import { testPython } from '../../../workspace-fixtures/studio/tests/test-python';
import { nx, repoRoot } from './workspace';

/** Provisions the toolchain or fails the run with Nx's output. */
export async function provisionToolchain(): Promise<void> {
  const r = await nx(repoRoot, ['run', 'release:toolchain', '--dev']);
  if (r.code !== 0) throw new Error(`provisioning the toolchain failed (npx nx run release:toolchain --dev):\n${r.output}`);
}

export default async function setup(): Promise<void> {
  await provisionToolchain();
  // The Studio's test venv, made here once rather than by whichever spec runs first.
  await testPython();
}
