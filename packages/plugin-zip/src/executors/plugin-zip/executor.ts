import { runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { pluginZipDescriptor } from '../../descriptor';
import { pluginZipStage } from '../../lib/plugin-zip';

/** Nx adapter for {@link pluginZipStage}. */
export default async function pluginZipExecutor(_options: unknown, context: ExecutorContextLike) {
  return runStageExecutor(pluginZipDescriptor, {}, context, (ctx) => pluginZipStage(ctx));
}
