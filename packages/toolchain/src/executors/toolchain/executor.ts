import { runStageExecutor, toolchainPaths, type ExecutorContextLike } from '@helix-release/core';
import { provisionToolchain, withToolchainLock } from '../../lib/provision';
import type { ToolchainExecutorOptions } from './schema';

/** Nx adapter for {@link provisionToolchain}. */
export default async function toolchainExecutor(options: ToolchainExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor({ name: 'toolchain' }, {}, context, async (ctx) => {
    await withToolchainLock(toolchainPaths(ctx.workspaceRoot).root, ctx.logger, () =>
      provisionToolchain({ workspaceRoot: ctx.workspaceRoot, python: ctx.config.python, dev: options.dev ?? false, logger: ctx.logger }),
    );
  });
}
