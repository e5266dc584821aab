import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { packageDescriptor } from '../../descriptor';
import { packageStage } from '../../lib/package';
import type { PackageExecutorOptions } from './schema';

/** Nx adapter for {@link packageStage}. */
export default async function packageExecutor(options: PackageExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(packageDescriptor, {}, context, (ctx) => packageStage(ctx, options));
}
