/**
 * SBOMs, in two stages. Each runs the pinned syft on an artifact and writes
 * `SBOM-<artifact file name>.spdx.json` (SPDX 2.3 JSON), normalised to be
 * reproducible and, for installers, cross-checked against the lock, and
 * `SBOM-<artifact file name>.cdx.json` (CycloneDX 1.6 JSON) derived from that
 * same document (cyclonedx.ts), so the two always say the same.
 *
 * - `artifact-sbom` (per app and per plugin, cached per artifact): the SBOM
 *   of the artifact its project built, dated by its own clock.
 * - `sbom` (release-level): takes over each artifact's SBOM when it describes
 *   exactly the bytes in the release, runs syft itself for every other
 *   artifact (imported ones, a custom stage's with `sbom: true`), and removes
 *   every SBOM whose artifact is no longer part of the release.
 */
import { readFile, readdir, rm } from 'node:fs/promises';
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
  type ArtifactSbomRecordData,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { isSbomFile, sbomName, sbomNames } from '@helix-release/format';
import { crossCheckLock } from './cross-check';
import { cyclonedxFromSpdx } from './cyclonedx';
import { SbomError } from './errors';
import { osOrigins, zipContents } from './contents';
import { enrichSpdx, type BuildFacts } from './enrich';
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

/** The PyInstaller version the toolchain pins (tools/toolchain/requirements-tools.txt), for artifacts with no package record. */
async function pinnedPyInstaller(workspaceRoot: string): Promise<string | undefined> {
  const text = await readFile(join(workspaceRoot, 'tools', 'toolchain', 'requirements-tools.txt'), 'utf8').catch(() => '');
  return /^pyinstaller==([^\s;\\]+)/im.exec(text)?.[1];
}

/** What the build of an installer recorded (its package record), if the plan handed it. */
function buildFacts(records: ReleaseRecords, artifact: ReleaseArtifact): BuildFacts | undefined {
  const record = records.of('package').find((r) => r.project === artifact.name && r.artifacts.some((a) => a.path === artifact.path));
  return record?.data;
}

/** The organisation of the SBOMs: the configured one, else the artifact's product name. */
export function organizationFor(ctx: StageContext, artifact: ReleaseArtifact): string {
  return ctx.config.organization ?? artifact.name ?? basename(artifact.path);
}

/** Runs syft on one artifact and returns the normalised, enriched document. */
export async function describeArtifact(ctx: StageContext, syft: string, artifact: ReleaseArtifact, records?: ReleaseRecords): Promise<SpdxDocument> {
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
  const organization = organizationFor(ctx, artifact);
  const norm = { artifactPath: artifact.path, sha256: artifact.sha256, sourceDateEpoch: ctx.sourceDateEpoch.seconds, organization };
  normaliseSpdx(doc, norm);
  const files = await zipContents(file);
  const recorded = records ? buildFacts(records, artifact) : undefined;
  const build: BuildFacts | undefined = artifact.kind === 'installer' ? { ...recorded, pyinstaller: recorded?.pyinstaller ?? (await pinnedPyInstaller(ctx.workspaceRoot)) } : recorded;
  enrichSpdx(doc, { artifact, organization, files, build, osOrigins: files ? await osOrigins(files) : undefined });
  return normaliseSpdx(doc, norm);
}

/** Removes both SBOMs of each artifact (after a failure: no partial set may look like a finished stage). */
async function removeSboms(releaseDir: string, artifacts: readonly ReleaseArtifact[]): Promise<void> {
  await Promise.all(artifacts.flatMap((a) => sbomNames(a.path)).map((f) => rm(join(releaseDir, f), { force: true })));
}

/**
 * Describes one artifact: runs syft, cross-checks an installer against its
 * app's lock, writes its SPDX SBOM and the CycloneDX SBOM of the same document.
 */
async function writeSbom(ctx: StageContext, syft: string, artifact: ReleaseArtifact, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const doc = await describeArtifact(ctx, syft, artifact, records);
  const out = join(ctx.releaseDir, sbomName(artifact.path));
  if (artifact.kind === 'installer' && artifact.name) {
    // The plan hands the SBOM stages every app's lock report; one missing is RECORD_MISSING.
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
  // Both made before either is written: a document CycloneDX cannot carry leaves neither behind.
  const cdxName = sbomName(artifact.path, 'cyclonedx');
  const bom = cyclonedxFromSpdx(doc, join(ctx.releaseDir, cdxName));
  await writeFileAtomic(out, stableJson(doc));
  await writeFileAtomic(join(ctx.releaseDir, cdxName), stableJson(bom));
  return Promise.all(sbomNames(artifact.path).map((name) => describeReleaseFile(ctx.releaseDir, name, 'sbom', { name: artifact.path })));
}

/** Stage `artifact-sbom`: the SBOM of the one artifact this project built (none when it built none that wants one). */
export async function artifactSbomStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const artifacts = (await records.checked(ctx.releaseDir, { hash: true })).filter((a) => a.sbom);
  const syft = await resolveSyft(ctx.workspaceRoot, ctx.env);
  const written: ReleaseArtifact[] = [];
  const described: ArtifactSbomRecordData['artifacts'] = [];
  try {
    for (const artifact of artifacts) {
      written.push(...(await writeSbom(ctx, syft.command, artifact, records)));
      described.push({ path: artifact.path, sha256: artifact.sha256 });
    }
  } catch (err) {
    await removeSboms(ctx.releaseDir, artifacts);
    throw err;
  }
  await writeStageRecord(ctx.workspaceRoot, { stage: 'artifact-sbom', project: ctx.project, artifacts: written, data: { syft: syft.version, syftSha256: syft.sha256, artifacts: described } });
  ctx.logger.info(`${written.map((w) => w.path).join(', ') || 'no SBOM'} written with syft ${syft.version}`);
  return written;
}

/**
 * The per-artifact SBOMs that describe exactly the artifacts in the release,
 * by artifact path (both formats of each, or none of it), all made by one
 * syft version (else none: the release stage then describes everything
 * itself, with one syft).
 */
function takenOver(records: ReleaseRecords, artifacts: readonly ReleaseArtifact[]): { sboms: Map<string, ReleaseArtifact[]>; syft?: string; syftSha256?: string } {
  const digest = new Map(artifacts.map((a) => [a.path, a.sha256]));
  const sboms = new Map<string, ReleaseArtifact[]>();
  const versions = new Set<string>();
  const binaries = new Set<string | undefined>();
  for (const record of records.of('artifact-sbom')) {
    const data = recordData(record);
    for (const subject of data.artifacts) {
      if (digest.get(subject.path) !== subject.sha256) continue;
      // A record from before CycloneDX (one SBOM per artifact) is not taken over: the artifact is described anew.
      const names = sbomNames(subject.path);
      const files = names.flatMap((name) => record.artifacts.filter((a) => a.name === subject.path && a.path === name).slice(0, 1));
      if (files.length !== names.length) continue;
      sboms.set(subject.path, files);
      versions.add(data.syft);
      binaries.add(data.syftSha256);
    }
  }
  return versions.size === 1 && binaries.size === 1 ? { sboms, syft: [...versions][0], syftSha256: [...binaries][0] } : { sboms: new Map() };
}

/** Runs the release-level stage over the artifacts of the records the plan hands it. */
export async function sbomStage(ctx: StageContext, records: ReleaseRecords): Promise<ReleaseArtifact[]> {
  const artifacts = (await records.checked(ctx.releaseDir, { hash: true })).filter((a) => a.sbom);
  const names = new Map<string, string>();
  for (const a of artifacts) {
    const name = sbomName(a.path);
    if (names.has(name)) throw new SbomError('SBOM_NAME_CLASH', `${a.path} and ${names.get(name)} would share ${name}; give them different file names`, { file: a.path });
    for (const n of sbomNames(a.path)) names.set(n, a.path);
  }
  const taken = takenOver(records, artifacts);
  const syft = taken.sboms.size < artifacts.length ? await resolveSyft(ctx.workspaceRoot, ctx.env) : undefined;
  // One syft (version and binary) writes every SBOM of a release: a per-artifact one from another syft is written anew.
  const sboms = syft && (taken.syft !== syft.version || taken.syftSha256 !== syft.sha256) ? new Map<string, ReleaseArtifact[]>() : taken.sboms;
  const todo = artifacts.filter((a) => !sboms.has(a.path));
  const stale = (await readdir(ctx.releaseDir).catch(() => [] as string[])).filter(isSbomFile);
  for (const f of stale) {
    const artifact = names.get(f);
    if (artifact !== undefined && sboms.has(artifact)) continue;
    if (artifact === undefined) ctx.logger.warn(`removing ${f}: its artifact is no longer part of the release`);
    await rm(join(ctx.releaseDir, f), { force: true });
  }

  let written: ReleaseArtifact[] = [];
  if (syft && todo.length) {
    ctx.logger.info(`syft ${syft.version} (${syft.command}) over ${todo.length} artifacts no project described: ${todo.map((a) => a.path).join(', ')}`);
    try {
      // Two syft runs at a time: each is mostly single-threaded I/O and parsing.
      written = (await mapConcurrent(todo, 2, (artifact) => writeSbom(ctx, syft.command, artifact, records))).flat();
    } catch (err) {
      // No partial set of SBOMs is left to look like a finished stage.
      await removeSboms(ctx.releaseDir, todo);
      throw err;
    }
  }
  if (sboms.size) ctx.logger.info(`taking over ${sboms.size} per-artifact SBOMs (syft ${taken.syft}), in SPDX and CycloneDX`);
  const out = [...[...sboms.values()].flat(), ...written].sort((a, b) => (a.path < b.path ? -1 : 1));
  await writeStageRecord(ctx.workspaceRoot, { stage: 'sbom', project: ctx.project, artifacts: out, data: { syft: syft?.version ?? taken.syft ?? 'none', ...((syft?.sha256 ?? taken.syftSha256) ? { syftSha256: syft?.sha256 ?? taken.syftSha256 } : {}) } });
  ctx.logger.info(`${out.length} SBOMs in the release`);
  return out;
}
