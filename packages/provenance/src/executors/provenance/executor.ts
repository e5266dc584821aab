import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { provenanceStage } from '../../lib/provenance';
import type { ProvenanceExecutorOptions } from './schema';

/** Nx adapter for {@link provenanceStage}. */
export default async function provenanceExecutor(options: ProvenanceExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor('provenance', context, (ctx) => provenanceStage(ctx, options.records, options.targets));
}
