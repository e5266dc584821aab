import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { artifactSbomDescriptor } from '../../descriptor';
import { artifactSbomStage } from '../../lib/sbom';
import type { ArtifactSbomExecutorOptions } from './schema';

/** Nx adapter for {@link artifactSbomStage}. */
export default async function artifactSbomExecutor(options: ArtifactSbomExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(artifactSbomDescriptor, options, context, artifactSbomStage);
}
