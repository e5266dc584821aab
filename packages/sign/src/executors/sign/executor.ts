import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { signDescriptor } from '../../descriptor';
import { signStage } from '../../lib/sign';
import type { SignExecutorOptions } from './schema';

/** Nx adapter for {@link signStage}. */
export default async function signExecutor(options: SignExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(signDescriptor, options, context, signStage);
}
