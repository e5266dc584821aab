import { currentRunOwner, finishReleaseRun, runStageExecutor, type ExecutorContextLike, type PlanOptions } from '@helix-release/core';
import { releaseSummary } from '../../lib/summary';

/** `release:all`: prints the summary of the release the run left (never cached). */
export default async function summaryExecutor(options: PlanOptions, context: ExecutorContextLike) {
  return runStageExecutor({ name: 'all' }, options, context, async (ctx, records) => {
    const summary = await releaseSummary(ctx, records);
    for (const line of summary.lines) ctx.logger.info(line);
    if (summary.warnings.length) ctx.logger.notice(summary.warnings.join('\n'));
    // The run is over: the next one need not wait for it.
    await finishReleaseRun(ctx.workspaceRoot, currentRunOwner());
  });
}
