import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { provenanceDescriptor } from '../../descriptor';
import { provenanceStage } from '../../lib/provenance';
import type { ProvenanceExecutorOptions } from './schema';

/** Nx adapter for {@link provenanceStage}. */
export default async function provenanceExecutor(options: ProvenanceExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(provenanceDescriptor, options, context, (ctx, records) =>
    provenanceStage(ctx, records, ctx.variant === 'import' ? (options.importTargets ?? options.targets) : options.targets),
  );
}
