/**
 * The checks around a custom stage. A stage fails the release, with its name
 * in the message, when it fails, when it does not write a declared output, or
 * when it writes anything else: another file in the release folder, a stage
 * record (dist/manifest) or work folder (dist/work), which later stages trust,
 * or any other file of the workspace, git-ignored or not. Its temporary files
 * go to a folder of its own (TMPDIR, TMP and TEMP name it while it runs),
 * removed when it ends.
 *
 * The check compares the workspace before and after the stage runs:
 * dist/manifest and dist/work by the sha256 of every file (a file of
 * dist/work whose lstat is the same after is not hashed again), the rest by
 * lstat (type, mode, size, mtime, ctime and inode: every write moves the
 * ctime, so keeping the size and the mtime, `touch -r`, hides none). It leaves out what
 * other tasks change meanwhile: the release files of the stages that may run
 * beside it (`siblingOutputs`), their records, work folders and timings
 * (`concurrentTasks`), the evidence files; and what is not the release's:
 * `.git`, `.nx` (Nx's cache and workspace data), every `node_modules`,
 * `.cache` (tools' caches when HOME is the checkout), the run lock
 * `.helix/release-run.json`, and the system's temporary folder should it be
 * inside the workspace. Writes elsewhere outside the workspace (the system's
 * temporary folder, HOME) are not checked: other tasks and programs write
 * there at the same time, so no snapshot could tell the stage's writes apart.
 *
 * On a stray, the files the stage created are removed (never one that was
 * there before it ran), and the message names every file, with what to do
 * about those it changed or deleted.
 */
import { lstat, mkdir, mkdtemp, readdir, readlink, rm, rmdir, stat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  CUSTOM_STAGE_ENV,
  ReleaseError,
  describeReleaseFile,
  mapConcurrent,
  releaseRunFile,
  sha256File,
  stableJson,
  timingFileName,
  writeFileAtomic,
  writeStageRecord,
  type CustomRecordData,
  type ReleaseArtifact,
  type ReleaseRecords,
  type StageContext,
} from '@helix-release/core';
import { isEvidenceFile } from '@helix-release/format';

/** Options the nx-plugin passes to a custom stage target (from release.config.ts). */
export interface CustomStageOptions {
  stage: string;
  executor: string;
  options?: Record<string, unknown>;
  outputs: { path: string; kind: 'custom' | 'installer' | 'plugin'; sbom: boolean }[];
  records: string[];
  /** The records of the import variant of the plan. */
  importRecords?: string[];
  /**
   * Outputs of the other custom stages: stages of one slot run in parallel,
   * so their files may appear while this one runs and are not its strays.
   */
  siblingOutputs?: string[];
  /**
   * Tasks of the release run (`<project>/<target>`) that may run while this
   * one runs, neither before nor after it: the other custom stages of its
   * slot, the per-artifact stages. Their records (dist/manifest/<project>/<target>.json),
   * work folders (dist/work/<project>/<target>/) and timings may change
   * meanwhile; every other record and work file may not.
   */
  concurrentTasks?: string[];
}

/** Runs the team's executor; resolves to its success. */
export type CustomStageRun = () => Promise<boolean>;

/** A file (or folder) as the snapshot saw it: its signature (a digest or an lstat), and for a digest the lstat it was taken at. */
interface Entry {
  dir: boolean;
  sig: string;
  stat?: string;
}

/** Workspace-relative paths (`/`-separated) and what the snapshot saw there. */
type Snapshot = Map<string, Entry>;

/**
 * How a path is checked: left out; by the sha256 of its bytes, hashed again
 * after the stage (`record`: dist/manifest) or hashed again unless its lstat
 * is the same (`digest`: dist/work, hundreds of MB of build folders; no write
 * leaves the ctime as it was); or by its lstat (any other file).
 */
type Area = 'skip' | 'record' | 'digest' | 'stat';

/** What a stage did to a file outside its outputs, and what was done about it. */
interface Stray {
  path: string;
  change: 'created' | 'changed' | 'deleted';
  removed?: boolean;
}

const statSig = (info: BigIntStats) => `${info.mode}:${info.size}:${info.mtimeNs}:${info.ctimeNs}:${info.ino}`;

/** The file an atomic write's temporary sibling (`.<name>.tmp-<pid>-<hex>`) becomes, or undefined. */
function atomicTarget(rel: string): string | undefined {
  const m = /^\.(.+)\.tmp-\d+-[0-9a-f]+$/.exec(posix.basename(rel));
  return m ? posix.join(posix.dirname(rel), m[1]!) : undefined;
}

async function snapshotWorkspace(root: string, area: (rel: string) => Area, before?: Snapshot): Promise<Snapshot> {
  const entries: Snapshot = new Map();
  const digests: { rel: string; info: BigIntStats }[] = [];
  const walk = async (rel: string): Promise<void> => {
    let list;
    try {
      list = await readdir(rel ? join(root, rel) : root, { withFileTypes: true });
    } catch {
      return;
    }
    await Promise.all(
      list.map(async (e) => {
        const child = rel ? `${rel}/${e.name}` : e.name;
        const kind = area(child);
        if (kind === 'skip') return;
        if (e.isDirectory()) {
          entries.set(child, { dir: true, sig: 'dir' });
          return walk(child);
        }
        // Gone since readdir: another task's atomic write renamed it meanwhile.
        const info = await lstat(join(root, child), { bigint: true }).catch(() => undefined);
        if (!info) return;
        if (info.isSymbolicLink()) entries.set(child, { dir: false, sig: `link:${await readlink(join(root, child)).catch(() => '?')}` });
        else if (kind === 'stat' || !info.isFile()) entries.set(child, { dir: false, sig: statSig(info) });
        else {
          const was = before?.get(child);
          if (kind === 'digest' && was?.stat !== undefined && was.stat === statSig(info)) entries.set(child, was);
          else digests.push({ rel: child, info });
        }
      }),
    );
  };
  await walk('');
  await mapConcurrent(digests, availableParallelism(), async ({ rel, info }) => {
    const digest = await sha256File(join(root, rel)).catch(() => undefined);
    entries.set(rel, digest ? { dir: false, sig: `sha256:${digest}`, stat: statSig(info) } : { dir: false, sig: `unreadable:${statSig(info)}` });
  });
  return entries;
}

function compare(before: Snapshot, after: Snapshot): Stray[] {
  const out: Stray[] = [];
  for (const [path, a] of after) {
    if (a.dir) continue;
    const b = before.get(path);
    if (!b || b.dir) out.push({ path, change: 'created' });
    else if (b.sig !== a.sig) out.push({ path, change: 'changed' });
  }
  for (const [path, b] of before) {
    const a = after.get(path);
    if (!b.dir && (!a || a.dir)) out.push({ path, change: 'deleted' });
  }
  return out.sort((x, y) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0));
}

/**
 * Removes what the stage created, and the folders it made for it. What it
 * changed or deleted stays as it is: the check knows digests, not contents,
 * and a sibling stage's snapshot may have been taken after the change, so
 * no one can tell which bytes are the genuine ones.
 */
async function removeCreated(root: string, before: Snapshot, after: Snapshot, strays: readonly Stray[]): Promise<void> {
  const removed: string[] = [];
  for (const s of strays.filter((x) => x.change === 'created')) {
    // Never a folder, and nothing that was there before the stage ran.
    await rm(join(root, s.path), { force: true }).then(() => {
      s.removed = true;
      removed.push(s.path);
    }, () => undefined);
  }
  const made = new Set<string>();
  for (const p of removed) for (let d = posix.dirname(p); d !== '.'; d = posix.dirname(d)) if (after.get(d)?.dir && !before.has(d)) made.add(d);
  // Innermost first; a folder that holds anything else stays.
  for (const d of [...made].sort((x, y) => y.length - x.length)) await rmdir(join(root, d)).catch(() => undefined);
}

function listStrays(strays: readonly Stray[]): string {
  const shown = strays.slice(0, 5).map((s) => `${s.path} (${s.change}${s.removed ? ', removed' : ''})`);
  return `${shown.join(', ')}${strays.length > 5 ? `, and ${strays.length - 5} more` : ''}`;
}

/** The workspace-relative `/` path of `abs`, or undefined when it is not inside `root`. */
function inside(root: string, abs: string): string | undefined {
  const rel = relative(root, abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split(sep).join('/') : undefined;
}

/** Which paths of the workspace the check of stage `options` covers, and how. */
function stageAreas(ctx: StageContext, options: CustomStageOptions, ownFolders: readonly string[]): (rel: string) => Area {
  const releaseRel = inside(ctx.workspaceRoot, ctx.releaseDir) ?? ctx.config.releaseDir;
  const runLock = inside(ctx.workspaceRoot, releaseRunFile(ctx.workspaceRoot));
  const own = new Set(ownFolders.map((d) => inside(ctx.workspaceRoot, d)).filter((d): d is string => d !== undefined));
  const allowed = new Set([...options.outputs.map((o) => o.path), ...(options.siblingOutputs ?? [])]);
  const tasks = options.concurrentTasks ?? [];
  const concurrentRecords = new Set(tasks.map((t) => `dist/manifest/${t}.json`));
  const concurrentWork = new Set(tasks.map((t) => `dist/work/${t}`));
  const concurrentTimings = new Set(tasks.map((t) => `dist/work/.timings/${timingFileName(t.replace(/\/([^/]*)$/, ':$1'))}`));
  const under = (rel: string, dir: string) => rel === dir || rel.startsWith(`${dir}/`);
  return (rel) => {
    const name = posix.basename(rel);
    if (name === 'node_modules' || name === '.git' || rel === '.nx' || rel === '.cache' || rel === runLock || own.has(rel)) return 'skip';
    if (under(rel, 'dist/manifest')) return concurrentRecords.has(rel) || concurrentRecords.has(atomicTarget(rel) ?? '') ? 'skip' : 'record';
    if (under(rel, 'dist/work')) return concurrentWork.has(rel) || concurrentTimings.has(rel) ? 'skip' : 'digest';
    if (rel.startsWith(`${releaseRel}/`)) {
      // Evidence files are the evidence stages' (and any stage may invalidate them).
      // A sibling's output in flight (`.<name>.tmp-<pid>-<hex>`) is the sibling's too: stages of one slot run side by side.
      const file = rel.slice(releaseRel.length + 1);
      if (allowed.has(file) || isEvidenceFile(file) || allowed.has(atomicTarget(file) ?? '')) return 'skip';
    }
    return 'stat';
  };
}

/**
 * Runs a custom stage with its checks and records its outputs. `records` are
 * the ones the plan hands it (the adapter has already removed its previous
 * record and the evidence its run makes stale).
 */
export async function runCustomStage(ctx: StageContext, options: CustomStageOptions, records: ReleaseRecords, run: CustomStageRun): Promise<ReleaseArtifact[]> {
  const name = options.stage;
  const fail = (why: string, file?: string) => new ReleaseError('CUSTOM_STAGE_FAILED', `custom stage "${name}" ${why}`, { file: file ?? ctx.config.file });
  for (const o of options.outputs) await rm(join(ctx.releaseDir, o.path), { force: true });

  const artifacts = await records.checked(ctx.releaseDir, { hash: false });
  await mkdir(ctx.workDir, { recursive: true });
  // Written before the snapshot: the stage may read it, not change it.
  const inputsFile = join(ctx.workDir, 'inputs.json');
  await writeFileAtomic(inputsFile, stableJson({ artifacts, records: records.all }));

  // The stage's own temporary folder, fresh for every run.
  const systemTemp = tmpdir();
  const temp = await mkdtemp(join(systemTemp, `helix-stage-${name}-`));
  const area = stageAreas(ctx, options, [temp, systemTemp]);
  let before: Snapshot;
  try {
    before = await snapshotWorkspace(ctx.workspaceRoot, area);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }

  const env: Record<string, string> = {
    [CUSTOM_STAGE_ENV.releaseDir]: ctx.releaseDir,
    [CUSTOM_STAGE_ENV.inputs]: inputsFile,
    [CUSTOM_STAGE_ENV.stage]: name,
    [CUSTOM_STAGE_ENV.sourceDateEpoch]: String(ctx.sourceDateEpoch.seconds),
    TMPDIR: temp,
    TMP: temp,
    TEMP: temp,
  };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  let failure: string | undefined;
  try {
    if (!(await run())) failure = `failed (its executor ${options.executor} reported failure)`;
  } catch (err) {
    failure = `threw: ${(err as Error).message}`;
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    await rm(temp, { recursive: true, force: true }).catch(() => undefined);
  }

  const after = await snapshotWorkspace(ctx.workspaceRoot, area, before);
  const strays = compare(before, after);
  await removeCreated(ctx.workspaceRoot, before, after, strays);
  const cleanup = () => Promise.all(options.outputs.map((o) => rm(join(ctx.releaseDir, o.path), { force: true })));
  if (failure !== undefined) {
    await cleanup();
    throw fail(strays.length ? `${failure}; it also wrote outside its declared outputs: ${listStrays(strays)}` : failure);
  }
  if (strays.length) {
    await cleanup();
    const left = strays.filter((s) => !s.removed).map((s) => s.path);
    const releaseRel = `${ctx.config.releaseDir}/`;
    const cleanable = (p: string) => p.startsWith('dist/') || p.startsWith(releaseRel);
    const restore = left.filter((p) => !cleanable(p));
    const advice = [
      ...(left.some(cleanable) ? ['what it changed or deleted under dist/ is no longer to be trusted: run npx nx run release:clean before the next release'] : []),
      ...(restore.length ? [`restore ${restore.slice(0, 5).join(', ')}${restore.length > 5 ? ', …' : ''} (git checkout for a tracked file) before the next release`] : []),
    ];
    throw fail(
      `wrote outside its declared outputs: ${listStrays(strays)}; a stage may write only the files it declares under ${releaseRel}, and temporary files in the folder TMPDIR names while it runs (its own, removed when it ends)${advice.map((a) => `; ${a}`).join('')}`,
      strays[0]!.path,
    );
  }
  const outputs: ReleaseArtifact[] = [];
  for (const o of options.outputs) {
    const file = join(ctx.releaseDir, o.path);
    try {
      await stat(file);
    } catch {
      await cleanup();
      throw fail(`declared the output ${o.path} but did not write it`, file);
    }
    outputs.push(await describeReleaseFile(ctx.releaseDir, o.path, o.kind, { sbom: o.sbom }));
  }
  const data: CustomRecordData = { executor: options.executor };
  await writeStageRecord(ctx.workspaceRoot, { stage: name, project: ctx.project, artifacts: outputs, data });
  ctx.logger.info(`custom stage ${name}: ${outputs.map((o) => o.path).join(', ')}`);
  return outputs;
}
