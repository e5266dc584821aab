import { runExecutor, type ExecutorContext } from '@nx/devkit';
import { runStageExecutor } from '@helix-release/core';
import { runCustomStage, type CustomStageRun } from '../../lib/custom-stage';
import type { CustomStageExecutorOptions } from './schema';

/**
 * Runs a team's custom stage: its executor (`options.executor`) is invoked
 * through Nx's runExecutor on a synthetic target of this project, then the
 * outcome is checked by {@link runCustomStage}.
 */
export default async function customStageExecutor(options: CustomStageExecutorOptions, context: ExecutorContext) {
  return runStageExecutor({ name: options.stage, evidence: 'artifacts' }, options, context, (ctx, records) => {
    const run: CustomStageRun = async () => {
      const project = context.projectName ?? 'release';
      const target = `__helix_custom_${options.stage}`;
      const projects = { ...context.projectsConfigurations.projects };
      const current = projects[project]!;
      projects[project] = { ...current, targets: { ...current.targets, [target]: { executor: options.executor, options: options.options ?? {} } } };
      const results = await runExecutor(
        { project, target },
        {},
        { ...context, targetName: target, projectsConfigurations: { ...context.projectsConfigurations, projects } },
      );
      let success = true;
      for await (const result of results) success &&= result.success;
      return success;
    };
    return runCustomStage(ctx, options, records, run);
  });
}
