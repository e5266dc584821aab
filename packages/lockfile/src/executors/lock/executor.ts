import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { lockDescriptor } from '../../descriptor';
import { lockStage } from '../../lib/lock';
import type { LockExecutorOptions } from './schema';

/** Nx adapter for {@link lockStage}. */
export default async function lockExecutor(options: LockExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(lockDescriptor, {}, context, (ctx) => lockStage(ctx, { projectRoot: ctx.projectRoot, requirements: options.requirements }));
}
