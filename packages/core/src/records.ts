/**
 * Reading the release so far: the stage records a release-level stage was
 * given (by the plan), with the files they list checked against the disk.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ReleaseError } from './errors';
import { sha256File } from './hash';
import { readStageRecord, type ReleaseArtifact, type StageRecord } from './manifest';

/**
 * Set by tools/release_local.sh: the release is made of artifacts imported
 * from elsewhere (recorded as `imported/import`) instead of the ones the
 * package and plugin-zip stages build here.
 */
export const IMPORT_ENV = 'HELIX_RELEASE_IMPORT';

/** The record `imported/import` written by `helix-release import`. */
export const IMPORT_RECORD = 'imported/import';

/** The refs to read: the plan's, or in import mode the import record in place of the build records. */
export function effectiveRecordRefs(refs: readonly string[], env: NodeJS.ProcessEnv): string[] {
  if (env[IMPORT_ENV] !== '1') return [...refs];
  const kept = refs.filter((ref) => !/\/(package|plugin-zip)$/.test(ref));
  return [IMPORT_RECORD, ...kept];
}

/** Reads records by `<project>/<stage>` ref. */
export async function readRecords(workspaceRoot: string, refs: readonly string[], env: NodeJS.ProcessEnv): Promise<StageRecord[]> {
  const out: StageRecord[] = [];
  for (const ref of effectiveRecordRefs(refs, env)) {
    const slash = ref.lastIndexOf('/');
    out.push(await readStageRecord(workspaceRoot, ref.slice(0, slash), ref.slice(slash + 1)));
  }
  return out;
}

/**
 * The artifacts of `records`, each checked to exist in the release folder
 * with the size its stage recorded (and, with `hash`, the sha256: the
 * checksums stage hashes anyway, the others trust the size check);
 * duplicates are an error.
 */
export async function checkedArtifacts(releaseDir: string, records: readonly StageRecord[], options: { hash: boolean }): Promise<ReleaseArtifact[]> {
  const seen = new Map<string, string>();
  const out: ReleaseArtifact[] = [];
  for (const record of records) {
    for (const artifact of record.artifacts) {
      const owner = `${record.project}:${record.stage}`;
      const other = seen.get(artifact.path);
      if (other) throw new ReleaseError('MANIFEST_INVALID', `${artifact.path} is produced by both ${other} and ${owner}`, { file: join(releaseDir, artifact.path) });
      seen.set(artifact.path, owner);
      const file = join(releaseDir, artifact.path);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch (cause) {
        throw new ReleaseError('FILE_MISSING', `${owner} recorded this file but it is not there; re-run that stage (or the whole release)`, { file, cause });
      }
      if (size !== artifact.size) {
        throw new ReleaseError('MANIFEST_INVALID', `changed since ${owner} wrote it (${size} bytes, recorded ${artifact.size}); re-run the release`, { file });
      }
      const digest = options.hash ? await sha256File(file) : artifact.sha256;
      if (digest !== artifact.sha256) {
        throw new ReleaseError('MANIFEST_INVALID', `changed since ${owner} wrote it (sha256 ${digest}, recorded ${artifact.sha256}); re-run the release`, { file });
      }
      out.push(artifact);
    }
  }
  return out;
}
