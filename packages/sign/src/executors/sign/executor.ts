import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { signStage } from '../../lib/sign';
import type { SignExecutorOptions } from './schema';

/** Nx adapter for {@link signStage}. */
export default async function signExecutor(options: SignExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor('sign', context, (ctx) => signStage(ctx, options.records));
}
