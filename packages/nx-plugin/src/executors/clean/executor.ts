import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';

/** Removes the release folder, dist/manifest and dist/work. */
export default async function cleanExecutor(_options: unknown, context: ExecutorContextLike) {
  // Untimed: it leaves dist/work empty, timings included.
  return runStageExecutor({ name: 'clean', timed: false }, {}, context, async (ctx) => {
    for (const dir of [ctx.releaseDir, join(ctx.workspaceRoot, 'dist', 'manifest'), join(ctx.workspaceRoot, 'dist', 'work')]) {
      await rm(dir, { recursive: true, force: true });
      ctx.logger.info(`removed ${dir}`);
    }
  });
}
