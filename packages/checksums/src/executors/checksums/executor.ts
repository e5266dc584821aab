import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { checksumsDescriptor } from '../../descriptor';
import { checksumsStage } from '../../lib/checksums';
import type { ChecksumsExecutorOptions } from './schema';

/** Nx adapter for {@link checksumsStage}. */
export default async function checksumsExecutor(options: ChecksumsExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(checksumsDescriptor, options, context, checksumsStage);
}
