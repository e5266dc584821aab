/**
 * The typed release manifest. Stages never import each other: a stage that
 * adds files to the release writes a *stage record* listing them, and the
 * evidence stages read the records of the stages in the current plan.
 */
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReleaseError } from './errors';
import { stableJson } from './canonical-json';
import { writeFileAtomic } from './fsx';
import { sha256File } from './hash';
import { checkEntryName } from './zip-write';

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

/** What a stage hands to the stages after it. */
export interface StageRecord {
  schema: 'helix-release/stage-record/v1';
  /** Stage (target) name, e.g. `package`. */
  stage: string;
  /** Nx project, e.g. `helix-studio`; `release` for release-level stages. */
  project: string;
  artifacts: ReleaseArtifact[];
  /** Stage-specific data (e.g. the lock report). */
  data?: unknown;
}

/** The folder holding stage records: `<workspaceRoot>/dist/manifest`. */
export function manifestDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'dist', 'manifest');
}

/** Path of one stage record. */
export function stageRecordPath(workspaceRoot: string, project: string, stage: string): string {
  return join(manifestDir(workspaceRoot), project, `${stage}.json`);
}

/**
 * Checks a release path: relative, `/`-separated, no `.`/`..`, no control
 * characters (a newline would forge a SHA256SUMS.txt line), no backslash.
 */
export function checkReleasePath(path: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control character (newline, tab, …) in the name';
  return checkEntryName(path);
}

/** Writes a stage record atomically. */
export async function writeStageRecord(workspaceRoot: string, record: Omit<StageRecord, 'schema'>): Promise<string> {
  for (const artifact of record.artifacts) {
    const problem = checkReleasePath(artifact.path);
    if (problem) throw new ReleaseError('MANIFEST_INVALID', `${JSON.stringify(artifact.path)}: ${problem}`);
  }
  const path = stageRecordPath(workspaceRoot, record.project, record.stage);
  await writeFileAtomic(path, stableJson({ schema: 'helix-release/stage-record/v1', ...record }));
  return path;
}

/** Reads a stage record; throws FILE_MISSING with a hint when the stage has not run. */
export async function readStageRecord(workspaceRoot: string, project: string, stage: string): Promise<StageRecord> {
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
  const record = JSON.parse(text) as StageRecord;
  if (record.schema !== 'helix-release/stage-record/v1' || !Array.isArray(record.artifacts)) {
    throw new ReleaseError('MANIFEST_INVALID', 'not a helix-release stage record; delete dist/ and rebuild', { file: path });
  }
  return record;
}

/** The release's evidence files, by role. Their names are contracts (see the source document). */
export const RELEASE_FILES = {
  sums: 'SHA256SUMS.txt',
  meta: 'BUILD_META.txt',
  provenance: 'release-provenance.intoto.json',
  publicKey: 'release-signing-public-key.asc',
  fingerprint: 'release-signing-key-fingerprint.txt',
  conformanceResults: 'conformance-results.json',
  conformanceLog: 'conformance.log',
} as const;

/**
 * True for the files SHA256SUMS.txt does not list: itself, BUILD_META.txt and
 * the provenance statement (each signed on its own and each listing the sums'
 * subjects), the public key export and fingerprint file (the trust anchor),
 * and detached signatures.
 */
export function isEvidenceFile(path: string): boolean {
  return (
    path === RELEASE_FILES.sums ||
    path === RELEASE_FILES.meta ||
    path === RELEASE_FILES.provenance ||
    path === RELEASE_FILES.publicKey ||
    path === RELEASE_FILES.fingerprint ||
    path.endsWith('.asc')
  );
}

/** The evidence a stage's change makes stale, by the stage's place in the order. */
export type EvidenceLevel = 'artifacts' | 'checksums' | 'build-meta' | 'provenance';

/**
 * Removes the evidence files that describe the release as it was before this
 * stage ran, so that a stage failing later can never leave a SHA256SUMS.txt,
 * BUILD_META.txt, statement or signature describing other bytes. A stage that
 * changes artifacts (package, plugin-zip, custom stages, conformance, sbom)
 * removes all of it; checksums and build-meta (which run side by side) leave
 * each other's file alone; provenance removes the signatures.
 */
export async function invalidateEvidence(releaseDir: string, level: EvidenceLevel): Promise<void> {
  const names = await readdir(releaseDir).catch(() => [] as string[]);
  const doomed = names.filter((name) => {
    if (name.endsWith('.asc') || name === RELEASE_FILES.fingerprint) return true;
    if (name === RELEASE_FILES.provenance) return level !== 'provenance';
    if (name === RELEASE_FILES.sums) return level === 'artifacts';
    if (name === RELEASE_FILES.meta) return level === 'artifacts';
    return false;
  });
  await Promise.all(doomed.map((name) => rm(join(releaseDir, name), { force: true })));
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
