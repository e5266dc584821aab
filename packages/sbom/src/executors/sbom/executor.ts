import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { sbomDescriptor } from '../../descriptor';
import { sbomStage } from '../../lib/sbom';
import type { SbomExecutorOptions } from './schema';

/** Nx adapter for {@link sbomStage}. */
export default async function sbomExecutor(options: SbomExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(sbomDescriptor, options, context, sbomStage);
}
