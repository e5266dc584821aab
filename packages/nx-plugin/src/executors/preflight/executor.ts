import { readGitState, runStageExecutor, type ExecutorContextLike } from '@helix-release/core';
import { checkLayout } from '../../lib/infer';
import { checkReleaseTag, releaseVersion, type AppVersion } from '../../lib/preflight';

/** The apps of the project graph (the nx-plugin's createNodes marks them with their version). */
function appsOf(context: ExecutorContextLike & { projectsConfigurations?: { projects: Record<string, { metadata?: Record<string, unknown> }> } }): AppVersion[] {
  return Object.entries(context.projectsConfigurations?.projects ?? {}).flatMap(([project, config]) => {
    const helix = config.metadata?.['helix'];
    const kind = typeof helix === 'object' && helix !== null ? Reflect.get(helix, 'kind') : undefined;
    const version = typeof helix === 'object' && helix !== null ? Reflect.get(helix, 'version') : undefined;
    return kind === 'app' && typeof version === 'string' ? [{ project, version }] : [];
  });
}

/** `release:preflight`: the workspace has apps where the config says, and the release's version and its tag agree, before any stage runs. */
export default async function preflightExecutor(_options: unknown, context: ExecutorContextLike) {
  return runStageExecutor({ name: 'preflight' }, {}, context, async (ctx) => {
    const apps = appsOf(context);
    checkLayout(ctx.workspaceRoot, ctx.config, apps.length);
    const version = releaseVersion(ctx.config, apps);
    const git = await readGitState(ctx.workspaceRoot);
    checkReleaseTag(git.tag, version, ctx.config.file);
    ctx.logger.info(`release ${version}${git.tag ? ` from tag ${git.tag}` : ' (HEAD is not tagged)'}`);
  });
}
