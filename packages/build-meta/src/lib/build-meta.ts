/**
 * Stage `build-meta`: BUILD_META.txt, stable across rebuilds of the same
 * commit on the same machine (its only time is SOURCE_DATE_EPOCH).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  builderIdentity,
  describeReleaseFile,
  epochToIso,
  platformTag,
  readGitState,
  releaseToolVersions,
  releaseVersionOf,
  writeFileAtomic,
  writeStageRecord,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { RELEASE_FILES, formatBuildMeta, type BuildMeta } from '@helix-release/format';

/** BUILD_META's toolchain lines. */
async function toolLines(ctx: StageContext, records: ReleaseRecords): Promise<Pick<BuildMeta, 'python' | 'pythonSha256' | 'buildOs' | 'pyinstaller' | 'uv' | 'syft' | 'syftSha256' | 'node' | 'zlib'>> {
  const t = await releaseToolVersions(ctx.workspaceRoot, ctx.config.python, records);
  // The build host, briefly (the provenance has the rest): when every installer built here names the same one.
  const hosts = records.of('package').map((r) => r.data?.host);
  const one = (values: (string | undefined)[]) => (values.length && values.every((v) => v !== undefined && v === values[0]) ? values[0] : undefined);
  const pythonSha256 = one(hosts.map((h) => h?.python.sha256));
  const buildOs = one(hosts.map((h) => (h ? `${h.os.id}@${h.os.version}` : undefined)));
  return {
    python: t.python.join(', '),
    ...(pythonSha256 ? { pythonSha256 } : {}),
    ...(buildOs ? { buildOs } : {}),
    pyinstaller: `${t.pyinstaller.join(', ')}${t.fromPins ? ' (pinned)' : ''}`,
    uv: t.uv,
    syft: t.syft,
    ...(t.syftSha256 ? { syftSha256: t.syftSha256 } : {}),
    node: t.node,
    zlib: t.zlib,
  };
}

/** Runs the stage. */
export async function buildMetaStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact> {
  const out = join(ctx.releaseDir, RELEASE_FILES.meta);
  await rm(out, { force: true });
  const artifacts = await records.checked(ctx.releaseDir, { hash: false });
  const git = await readGitState(ctx.workspaceRoot);
  const version = releaseVersionOf(ctx.config, artifacts);
  const sde = ctx.sourceDateEpoch.seconds;
  const meta: BuildMeta = {
    tag: git.tag ?? version,
    tagged: git.tag !== undefined,
    version,
    commit: git.commit || 'unknown',
    dirty: git.dirty,
    sourceDateEpoch: sde,
    sourceDate: epochToIso(sde),
    builder: builderIdentity(ctx.env).kind,
    platform: platformTag(),
    ...(await toolLines(ctx, records)),
    versions: artifacts.filter((a) => (a.kind === 'installer' || a.kind === 'plugin') && a.version).map((a) => ({ path: a.path, version: a.version! })),
    files: artifacts.map((a) => ({ path: a.path, sha256: a.sha256 })),
  };
  if (git.dirty) {
    const shown = git.changes.slice(0, 5).join(', ') + (git.changes.length > 5 ? `, and ${git.changes.length - 5} more` : '');
    ctx.logger.warn(`the working tree has uncommitted changes (${shown}): BUILD_META.txt says dirty: true, and the release is not reproducible from the commit alone; commit them, or add build byproducts to .gitignore`);
  }
  await writeFileAtomic(out, formatBuildMeta(meta));
  const artifact = await describeReleaseFile(ctx.releaseDir, RELEASE_FILES.meta, 'meta');
  await writeStageRecord(ctx.workspaceRoot, { stage: 'build-meta', project: ctx.project, artifacts: [artifact], data: meta });
  ctx.logger.info(`${RELEASE_FILES.meta}: commit ${meta.commit}${meta.tagged ? `, tag ${meta.tag}` : ''}, ${meta.files.length} files`);
  return artifact;
}
