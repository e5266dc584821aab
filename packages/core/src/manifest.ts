/**
 * The typed release manifest. Stages never import each other: a stage that
 * adds files to the release writes a *stage record* listing them (and, for
 * built-in stages, data of a type declared here, in {@link StageDataMap}), and
 * the later stages read the records the release plan hands them.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { checkReleasePath, isStaleEvidence, type BuildMeta, type EvidenceLevel } from '@helix-release/format';
import { ReleaseError } from './errors';
import { stableJson } from './canonical-json';
import { writeFileAtomic } from './fsx';
import { sha256File } from './hash';
import { recordKey, sealMatches, sealOf } from './record-seal';
import { evictCachedCopies, evictionNote } from './cache-evict';

/** What a release file is. */
export type ArtifactKind =
  | 'installer'
  | 'plugin'
  | 'sbom'
  | 'checksums'
  | 'meta'
  | 'signature'
  | 'provenance'
  | 'conformance'
  | 'tool'
  | 'custom';

/** One file of the release, as a stage reports it. */
export interface ReleaseArtifact {
  /** Path inside the release folder, with `/` separators. */
  path: string;
  kind: ArtifactKind;
  sha256: string;
  size: number;
  /** Whether the sbom stage must write an SBOM for it. */
  sbom: boolean;
  /** For installers and plugins: the product name, version and platform. */
  name?: string;
  version?: string;
  platform?: string;
}

/** A locked package, as the lock report lists it. */
export interface LockedPackage {
  name: string;
  version: string;
  /** PEP 508 environment marker ('' when none). */
  marker: string;
  /** Every `sha256:<hex>` the lockfile allows for it. */
  hashes: string[];
}

/** The lock report (`<app>/lock`): what package, sbom and provenance consume. */
export interface LockReport {
  /** The app's project name. */
  app: string;
  /** Every lockfile with its sha256; paths relative to the workspace root. */
  lockfiles: { path: string; sha256: string }[];
  /** The resolved set, from the main requirements file, sorted by name. */
  packages: LockedPackage[];
}

/** One wheel that went into a build, with its sha256. */
export interface InstalledWheel {
  /** Normalised project name. */
  name: string;
  version: string;
  file: string;
  sha256: string;
}

/** What `<app>/package` records beside the installer. */
export interface PackageRecordData {
  python: string;
  pyinstaller: string;
  /** The app's locked wheels as installed (not the toolchain's). */
  wheels: InstalledWheel[];
  /** The app's executable inside the zip. */
  executable: string;
  /** Number of files in the zip. */
  entries: number;
  /** What a rebuilder must match: the build host's interpreter, PyInstaller bootloader and OS (absent in older records). */
  host?: BuildHost;
}

/** The build host's toolchain as the package stage found it (docs/provenance-build-type.md). */
export interface BuildHost {
  /** The base interpreter the venv was made from (the venv's python is a link to it). */
  python: { version: string; sha256: string; libpython?: { name: string; sha256: string } };
  /** The bootloader PyInstaller copied into the bundle, and the platform folder it came from. */
  bootloader: { platform: string; sha256: string };
  /** `/etc/os-release` ID and VERSION_ID (`unknown` where there is none). */
  os: { id: string; version: string };
}

/** What `<plugin>/plugin-zip` records. */
export interface PluginZipRecordData {
  signed: boolean;
  keyName?: string;
  /** Base64 of the raw Ed25519 public key it was signed with. */
  publicKey?: string;
}

/** What `release/conformance` records. */
export type ConformanceRecordData = { ran: false } | { ran: true; passed: string[]; failed: string[] };

/** A file a conformance run tested, by its path in the release and its sha256. */
export interface TestedFile {
  path: string;
  sha256: string;
}

/**
 * What `<app>/app-conformance` records: one run of the merged pack against
 * the app's installer with the plugins, failed cases included (the release's
 * conformance stage publishes them and fails the release on them).
 */
export type AppConformanceRecordData =
  | { ran: false; why: string }
  | {
      ran: true;
      installer: TestedFile;
      plugins: TestedFile[];
      /** sha256 of the merged pack's `sha256sum`-style listing, as conformance-results.json names it. */
      pack: string;
      /** sha256 of tools/conformance.sh. */
      runner: string;
      passed: string[];
      failed: string[];
      /** Why each failed case failed, by case name. */
      why: Record<string, string>;
      /** The runner's case log. */
      log: string;
    };

/** What `release/sbom` records. */
export interface SbomRecordData {
  /** The syft version that wrote the SBOMs. */
  syft: string;
  /** The sha256 of that syft's binary (resolveSyft checked it is a build of the pinned module). */
  syftSha256?: string;
}

/** What `<project>/artifact-sbom` records: the syft version and the artifact each SBOM describes. */
export interface ArtifactSbomRecordData extends SbomRecordData {
  artifacts: TestedFile[];
}

/** What `release/sign` records. */
export type SignRecordData = { signed: false } | { signed: true; fingerprint: string; development: boolean };

/** What `imported/import` records. */
export interface ImportRecordData {
  imported: number;
}

/** What a custom stage's record holds. */
export interface CustomRecordData {
  executor: string;
}

/** The data of each built-in stage's record, by stage name: the one type producer and consumers share. */
export interface StageDataMap {
  lock: LockReport;
  package: PackageRecordData;
  'plugin-zip': PluginZipRecordData;
  'app-conformance': AppConformanceRecordData;
  conformance: ConformanceRecordData;
  'artifact-sbom': ArtifactSbomRecordData;
  sbom: SbomRecordData;
  checksums: undefined;
  'build-meta': BuildMeta;
  provenance: undefined;
  sign: SignRecordData;
  import: ImportRecordData;
}

/** A stage whose record data has a type. */
export type RecordedStage = keyof StageDataMap;

/** What a stage hands to the stages after it. */
export interface StageRecord<S extends string = string> {
  schema: 'helix-release/stage-record/v1';
  /** Stage (target) name, e.g. `package`. */
  stage: S;
  /** Nx project, e.g. `helix-studio`; `release` for release-level stages. */
  project: string;
  artifacts: ReleaseArtifact[];
  /** Stage-specific data: typed for built-in stages, a custom stage's own otherwise. */
  data?: S extends RecordedStage ? StageDataMap[S] : CustomRecordData | unknown;
  /** `hmac-sha256:<hex>` under this workspace's record key (record-seal.ts); readStageRecord refuses a record without it. */
  seal?: string;
}

/** True when `record` is one of `stage` (so its data has that stage's type). */
export function isRecordOf<S extends RecordedStage>(record: StageRecord, stage: S): record is StageRecord<S> {
  return record.stage === stage;
}

/** The folder holding stage records: `<workspaceRoot>/dist/manifest`. */
export function manifestDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'dist', 'manifest');
}

/** Path of one stage record. */
export function stageRecordPath(workspaceRoot: string, project: string, stage: string): string {
  return join(manifestDir(workspaceRoot), project, `${stage}.json`);
}

/** Writes a stage record atomically, sealed with the workspace's record key. */
export async function writeStageRecord<S extends string>(workspaceRoot: string, record: Omit<StageRecord<S>, 'schema' | 'seal'>): Promise<string> {
  for (const artifact of record.artifacts) {
    const problem = checkReleasePath(artifact.path);
    if (problem) throw new ReleaseError('MANIFEST_INVALID', `${JSON.stringify(artifact.path)}: ${problem}`);
  }
  const path = stageRecordPath(workspaceRoot, record.project, record.stage);
  const unsealed = JSON.parse(stableJson({ schema: 'helix-release/stage-record/v1', ...record })) as Record<string, unknown>;
  await writeFileAtomic(path, stableJson({ ...unsealed, seal: sealOf(unsealed, await recordKey(workspaceRoot)) }));
  return path;
}

/** Reads a stage record; throws FILE_MISSING with a hint when the stage has not run. */
export async function readStageRecord<S extends string>(workspaceRoot: string, project: string, stage: S): Promise<StageRecord<S>> {
  const path = stageRecordPath(workspaceRoot, project, stage);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ReleaseError(
      'FILE_MISSING',
      `no record of ${project}:${stage}; run \`npx nx run ${project}:${stage}\` (or the whole release) first`,
      { file: path, cause },
    );
  }
  let record: Partial<StageRecord<S>> | undefined;
  try {
    record = JSON.parse(text) as Partial<StageRecord<S>>;
  } catch {
    record = undefined;
  }
  if (record?.schema !== 'helix-release/stage-record/v1' || !Array.isArray(record.artifacts) || record.stage !== stage || record.project !== project) {
    throw new ReleaseError('MANIFEST_INVALID', 'not a helix-release stage record of this stage; delete dist/ and rebuild', { file: path });
  }
  if (!sealMatches(record as Record<string, unknown>, await recordKey(workspaceRoot))) {
    const evicted = await evictCachedCopies(workspaceRoot, path);
    throw new ReleaseError(
      'MANIFEST_INVALID',
      `this record of ${project}:${stage} was not written by a stage run of this workspace (its seal does not match .helix/record-key): ` +
        `it was restored from an Nx cache entry made elsewhere, or it or its cache entry was altered, so nothing it lists is released${evictionNote(evicted)}; ` +
        (evicted.entries.length ? 'run the release again' : 'run `npx nx reset` and then the release again') +
        ' (tag builds run with --skip-nx-cache and never restore)',
      { file: path },
    );
  }
  return record as StageRecord<S>;
}

/**
 * Removes the evidence files that describe the release as it was before a
 * stage of `level` ran, so that a stage failing later can never leave a
 * SHA256SUMS.txt, BUILD_META.txt, statement or signature describing other
 * bytes. The stage adapter calls it with the level of the stage's descriptor.
 */
export async function invalidateEvidence(releaseDir: string, level: EvidenceLevel): Promise<void> {
  const names = await readdir(releaseDir).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => isStaleEvidence(name, level)).map((name) => rm(join(releaseDir, name), { force: true })));
}

/**
 * The record of a file a stage has just written in the release folder: its
 * path, kind, sha256 and size (hashed once, here), plus any extra fields.
 */
export async function describeReleaseFile(
  releaseDir: string,
  path: string,
  kind: ArtifactKind,
  extra: Partial<Omit<ReleaseArtifact, 'path' | 'kind' | 'sha256' | 'size'>> = {},
): Promise<ReleaseArtifact> {
  const file = join(releaseDir, path);
  const [sha256, info] = await Promise.all([sha256File(file), stat(file)]);
  return { path, kind, sha256, size: info.size, sbom: false, ...extra };
}
