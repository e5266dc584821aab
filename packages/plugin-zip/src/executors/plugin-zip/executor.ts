import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { pluginZipStage } from '../../lib/plugin-zip';

/** Nx adapter for {@link pluginZipStage}. */
export default async function pluginZipExecutor(_options: unknown, context: ExecutorContextLike) {
  return runStageExecutor('plugin-zip', context, (ctx) => pluginZipStage(ctx));
}
