import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { checksumsStage } from '../../lib/checksums';
import type { ChecksumsExecutorOptions } from './schema';

/** Nx adapter for {@link checksumsStage}. */
export default async function checksumsExecutor(options: ChecksumsExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor('checksums', context, (ctx) => checksumsStage(ctx, options.records));
}
