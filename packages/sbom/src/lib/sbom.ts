/**
 * Stage `sbom`: for every artifact of the release (installers, plugins and
 * any artifact a custom stage adds with `sbom: true`), run the pinned syft and
 * write `SBOM-<artifact file name>.spdx.json` (SPDX 2.3 JSON), normalised to be
 * reproducible and, for installers, cross-checked against the lock.
 *
 * Every SBOM the stage wrote before is removed first, so no SBOM of an
 * artifact that no longer exists survives a run.
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import {
  describeReleaseFile,
  mapConcurrent,
  pythonVersionOf,
  recordData,
  resolveSyft,
  runTool,
  stableJson,
  writeFileAtomic,
  writeStageRecord,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { isSbomFile, sbomName } from '@helix-release/format';
import { crossCheckLock } from './cross-check';
import { SbomError } from './errors';
import { normaliseSpdx, type SpdxDocument } from './normalise';

/** syft's settings: no update check, file digests on, nothing fetched from the network. */
export const SYFT_ENV: Record<string, string> = {
  SYFT_CHECK_FOR_APP_UPDATE: 'false',
  SYFT_FILE_METADATA_SELECTION: 'all',
  SYFT_FILE_METADATA_DIGESTS: 'sha1,sha256',
  SYFT_ENRICH: '',
  SYFT_PARALLELISM: '1',
  TZ: 'UTC',
};

/** The Python an app was built with: its package record's, else (imported artifacts) the local interpreter's. */
async function pythonVersionFor(ctx: StageContext, app: string, records: ReleaseRecords): Promise<string> {
  const recorded = records.of('package').find((r) => r.project === app)?.data?.python;
  return recorded ?? pythonVersionOf(ctx.config.python);
}

/** Runs syft on one artifact and returns the normalised document. */
export async function describeArtifact(ctx: StageContext, syft: string, artifact: ReleaseArtifact): Promise<SpdxDocument> {
  const file = join(ctx.releaseDir, artifact.path);
  const { stdout } = await runTool({
    command: syft,
    args: ['scan', `file:${file}`, '-o', 'spdx-json', '--source-name', basename(artifact.path), ...(artifact.version ? ['--source-version', artifact.version] : [])],
    env: SYFT_ENV,
    timeoutMs: 15 * 60_000,
  });
  let doc: SpdxDocument;
  try {
    doc = JSON.parse(stdout) as SpdxDocument;
  } catch {
    throw new SbomError('SBOM_SYFT_OUTPUT', `syft printed no SPDX JSON for this artifact (${stdout.length} bytes of output)`, { file });
  }
  return normaliseSpdx(doc, { artifactPath: artifact.path, sha256: artifact.sha256, sourceDateEpoch: ctx.sourceDateEpoch.seconds });
}

/** Runs the stage over the artifacts of `refs`. */
export async function sbomStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const artifacts = (await records.checked(ctx.releaseDir, { hash: false })).filter((a) => a.sbom);
  const names = new Map<string, string>();
  for (const a of artifacts) {
    const name = sbomName(a.path);
    if (names.has(name)) throw new SbomError('SBOM_NAME_CLASH', `${a.path} and ${names.get(name)} would share ${name}; give them different file names`, { file: a.path });
    names.set(name, a.path);
  }
  const stale = (await readdir(ctx.releaseDir).catch(() => [] as string[])).filter(isSbomFile);
  for (const f of stale) {
    if (!names.has(f)) ctx.logger.warn(`removing ${f}: its artifact is no longer part of the release`);
    await rm(join(ctx.releaseDir, f), { force: true });
  }

  const syft = await resolveSyft(ctx.workspaceRoot, ctx.env);
  ctx.logger.info(`syft ${syft.version} (${syft.command}) over ${artifacts.length} artifacts`);
  let written: ReleaseArtifact[];
  try {
    // Two syft runs at a time: each is mostly single-threaded I/O and parsing.
    written = await mapConcurrent(artifacts, 2, async (artifact) => {
      const doc = await describeArtifact(ctx, syft.command, artifact);
      const out = join(ctx.releaseDir, sbomName(artifact.path));
      if (artifact.kind === 'installer' && artifact.name) {
        // The plan hands the sbom stage every app's lock report; one missing is RECORD_MISSING.
        const report = recordData(records.get('lock', artifact.name));
        const python = await pythonVersionFor(ctx, artifact.name, records);
        const result = crossCheckLock(doc, report.packages, {
          platform: artifact.platform ?? 'linux-x86_64',
          python,
          sbomFile: out,
          lockFile: report.lockfiles[0]?.path ?? 'requirements.txt',
        });
        ctx.logger.info(`${sbomName(artifact.path)}: lock cross-check passed (${result.checked.join(', ')}${result.notApplicable.length ? `; not for this platform: ${result.notApplicable.join(', ')}` : ''})`);
        if (result.unlocked.length) ctx.logger.warn(`${artifact.path} bundles Python packages the lock does not list: ${result.unlocked.join(', ')}`);
      }
      await writeFileAtomic(out, stableJson(doc));
      return describeReleaseFile(ctx.releaseDir, sbomName(artifact.path), 'sbom', { name: artifact.path });
    });
  } catch (err) {
    // No partial set of SBOMs is left to look like a finished stage.
    await Promise.all([...names.keys()].map((f) => rm(join(ctx.releaseDir, f), { force: true })));
    throw err;
  }
  written.sort((a, b) => (a.path < b.path ? -1 : 1));
  await writeStageRecord(ctx.workspaceRoot, { stage: 'sbom', project: ctx.project, artifacts: written, data: { syft: syft.version } });
  ctx.logger.info(`${written.length} SBOMs written`);
  return written;
}
