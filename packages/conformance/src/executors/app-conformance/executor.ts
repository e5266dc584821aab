import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { appConformanceDescriptor } from '../../descriptor';
import { appConformanceStage } from '../../lib/conformance';
import type { AppConformanceExecutorOptions } from './schema';

/** Nx adapter for {@link appConformanceStage}. */
export default async function appConformanceExecutor(options: AppConformanceExecutorOptions, context: ExecutorContextLike) {
  return runStageExecutor(appConformanceDescriptor, options, context, appConformanceStage);
}
