import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { buildMetaDescriptor } from '../../descriptor';
import { buildMetaStage } from '../../lib/build-meta';
import type { BuildMetaExecutorOptions } from './schema';

/** Nx adapter for {@link buildMetaStage}. */
export default async function buildMetaExecutor(options: BuildMetaExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(buildMetaDescriptor, options, context, buildMetaStage);
}
