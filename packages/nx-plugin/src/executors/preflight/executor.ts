import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { claimReleaseRun, currentRunOwner, listFiles, platformTag, readGitState, runStageExecutor, startTimings, type ExecutorContextLike } from '@helix-release/core';
import { checkLayout } from '../../lib/infer';
import { checkArtifactNames, checkReleaseTag, checkSourceCommit, releaseVersion, supersededFiles, type AppVersion, type CurrentArtifact } from '../../lib/preflight';

type GraphContext = ExecutorContextLike & { projectsConfigurations?: { projects: Record<string, { metadata?: Record<string, unknown> }> } };

/** The apps and plugins of the project graph (the nx-plugin's createNodes marks them with their name, version and artifact). */
function artifactsOf(context: GraphContext): (CurrentArtifact & { project: string; version: string })[] {
  return Object.entries(context.projectsConfigurations?.projects ?? {}).flatMap(([project, config]) => {
    const helix = config.metadata?.['helix'];
    const field = (key: string): unknown => (typeof helix === 'object' && helix !== null ? Reflect.get(helix, key) : undefined);
    const [kind, name, version, artifact] = [field('kind'), field('name'), field('version'), field('artifact')];
    if ((kind !== 'app' && kind !== 'plugin') || typeof name !== 'string' || typeof version !== 'string' || typeof artifact !== 'string') return [];
    return [{ kind, name, version, artifact, project }];
  });
}

/** Removes what earlier versions of the current apps and plugins left in the release folder, saying so. */
async function removeSuperseded(releaseDir: string, current: readonly CurrentArtifact[], logger: { info(message: string): void }): Promise<void> {
  if (!existsSync(releaseDir)) return;
  const files = await listFiles(releaseDir);
  for (const file of supersededFiles(files, current, platformTag())) {
    await rm(join(releaseDir, file), { force: true });
    logger.info(`removed ${file}: an earlier version of an artifact this release builds anew`);
  }
}

/** `release:preflight`: the workspace has apps where the config says, and the release's version and its tag agree, before any stage runs. */
export default async function preflightExecutor(_options: unknown, context: ExecutorContextLike) {
  return runStageExecutor({ name: 'preflight' }, {}, context, async (ctx) => {
    // The first task of every run: the stage times the summary prints start here.
    await startTimings(ctx.workspaceRoot);
    const artifacts = artifactsOf(context as GraphContext);
    const apps: AppVersion[] = artifacts.filter((a) => a.kind === 'app');
    checkLayout(ctx.workspaceRoot, ctx.config, apps.map((a) => a.project));
    checkArtifactNames(artifacts, ctx.config.file);
    const version = releaseVersion(ctx.config, apps);
    const git = await readGitState(ctx.workspaceRoot);
    checkSourceCommit(git.commit, ctx.workspaceRoot);
    checkReleaseTag(git.tag, version, ctx.config.file);
    // The clock too, before any stage deletes what it replaces: a SOURCE_DATE_EPOCH no zip or
    // signature can state (or that is not a number) stops the release with the folder as it was.
    void ctx.sourceDateEpoch;
    // One run at a time in a workspace: a second one stops here, naming the first.
    await claimReleaseRun(ctx.workspaceRoot, currentRunOwner(), (m) => ctx.logger.info(m));
    // Only once every check has passed: a refused release leaves the folder as it was.
    await removeSuperseded(ctx.releaseDir, artifacts, ctx.logger);
    ctx.logger.info(`release ${version}${git.tag ? ` from tag ${git.tag}` : ' (HEAD is not tagged)'}`);
  });
}
