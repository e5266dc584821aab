/**
 * Reading the release so far: the stage records the plan hands a stage, with
 * the files they list checked against the disk.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isEvidenceFile } from '@helix-release/format';
import { ReleaseError } from './errors';
import { isTempFile, listFiles } from './fsx';
import { sha256File } from './hash';
import { evictCachedCopiesOf, evictionNote } from './cache-evict';
import { isRecordOf, readStageRecord, type RecordedStage, type ReleaseArtifact, type StageRecord } from './manifest';

/** A stage record reference, `<project>/<stage>`. */
export type RecordRef = `${string}/${string}`;

/** The record `imported/import` written by `helix-release import`. */
export const IMPORT_RECORD: RecordRef = 'imported/import';

/** `<project>/<stage>` of a ref. */
export function parseRecordRef(ref: string): { project: string; stage: string } {
  const slash = ref.lastIndexOf('/');
  return { project: ref.slice(0, slash), stage: ref.slice(slash + 1) };
}

/**
 * The records the plan hands one stage, in plan order. A stage reads only
 * these: asking for a record the plan did not hand it is RECORD_MISSING, so a
 * forgotten dependency fails loudly instead of silently dropping evidence.
 */
export class ReleaseRecords {
  /** For the stage named in errors. */
  private readonly reader: string;

  constructor(
    /** Every record, in plan order. */
    readonly all: readonly StageRecord[],
    reader = 'this stage',
  ) {
    this.reader = reader;
  }

  /** Reads the records of `refs` from the manifest folder. */
  static async read(workspaceRoot: string, refs: readonly string[], reader?: string): Promise<ReleaseRecords> {
    const out: StageRecord[] = [];
    for (const ref of refs) {
      const { project, stage } = parseRecordRef(ref);
      out.push(await readStageRecord(workspaceRoot, project, stage));
    }
    return new ReleaseRecords(out, reader);
  }

  /** Every record of a built-in stage, typed. */
  of<S extends RecordedStage>(stage: S): StageRecord<S>[] {
    return this.all.filter((r): r is StageRecord<S> => isRecordOf(r, stage));
  }

  /** The record of `stage` for `project`; RECORD_MISSING when the plan did not hand it over. */
  get<S extends RecordedStage>(stage: S, project: string): StageRecord<S> {
    const record = this.of(stage).find((r) => r.project === project);
    if (!record) {
      throw new ReleaseError(
        'RECORD_MISSING',
        `${this.reader} needs the record ${project}/${stage}, but the release plan does not hand it over (${this.all.length ? this.all.map((r) => `${r.project}/${r.stage}`).join(', ') : 'no records'}); ` +
          `an installer must come from an app of this workspace, and its lock stage must be part of the plan`,
        { file: `dist/manifest/${project}/${stage}.json` },
      );
    }
    return record;
  }

  /** Every artifact of every record, in record order. */
  get artifacts(): ReleaseArtifact[] {
    return this.all.flatMap((r) => r.artifacts);
  }

  /**
   * The artifacts, each checked to exist in the release folder with the size
   * its stage recorded (and, with `hash`, the sha256: the stages that run,
   * describe or sign the bytes — conformance, sbom, sign — hash them, so a file
   * replaced behind its (sealed) record is never used; the checksums stage
   * hashes anyway; the others trust the size check); a path two stages claim
   * is an error.
   */
  async checked(releaseDir: string, options: { hash: boolean }): Promise<ReleaseArtifact[]> {
    return checkedArtifacts(releaseDir, this.all, options);
  }
}

/** The data of a built-in stage's record; MANIFEST_INVALID when the record has none. */
export function recordData<T>(record: { project: string; stage: string; data?: T }): T {
  if (record.data === undefined) {
    throw new ReleaseError('MANIFEST_INVALID', `the record ${record.project}/${record.stage} holds no data; re-run that stage`, { file: `dist/manifest/${record.project}/${record.stage}.json` });
  }
  return record.data;
}

/** See {@link ReleaseRecords.checked}. */
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
        const evicted = await evictCachedCopiesOf(file);
        throw new ReleaseError('MANIFEST_INVALID', `changed since ${owner} wrote it (${size} bytes, recorded ${artifact.size})${evictionNote(evicted)}; re-run the release`, { file });
      }
      const digest = options.hash ? await sha256File(file) : artifact.sha256;
      if (digest !== artifact.sha256) {
        const evicted = await evictCachedCopiesOf(file);
        throw new ReleaseError('MANIFEST_INVALID', `changed since ${owner} wrote it (sha256 ${digest}, recorded ${artifact.sha256})${evictionNote(evicted)}; re-run the release`, { file });
      }
      out.push(artifact);
    }
  }
  return out;
}

/**
 * What the release folder holds beyond what the stages recorded and the
 * evidence files: `strays` (a file no stage produced, which would ship
 * unaccounted for) and `temps` (leftovers of a killed atomic write).
 */
export async function unaccountedFiles(releaseDir: string, recorded: ReadonlySet<string>): Promise<{ strays: string[]; temps: string[] }> {
  const present = await listFiles(releaseDir).catch(() => [] as string[]);
  const extra = present.filter((p) => !recorded.has(p) && !isEvidenceFile(p));
  return { strays: extra.filter((p) => !isTempFile(p)), temps: extra.filter(isTempFile) };
}
