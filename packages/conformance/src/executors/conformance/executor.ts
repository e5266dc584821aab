import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { conformanceDescriptor } from '../../descriptor';
import { conformanceStage } from '../../lib/conformance';
import type { ConformanceExecutorOptions } from './schema';

/** Nx adapter for {@link conformanceStage}. */
export default async function conformanceExecutor(options: ConformanceExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(conformanceDescriptor, options, context, conformanceStage);
}
