/**
 * The checks around a custom stage. A stage fails the release, with its name
 * in the message, when it fails, when it does not write a declared output, or
 * when it writes anything else: another file in the release folder, a file of
 * the workspace, or a file elsewhere under dist/.
 */
import { lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  CUSTOM_STAGE_ENV,
  ReleaseError,
  describeReleaseFile,
  isTempFile,
  runTool,
  stableJson,
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
}

/** Runs the team's executor; resolves to its success. */
export type CustomStageRun = () => Promise<boolean>;

type Snapshot = Map<string, string>;

async function snapshotTree(root: string, skip: (rel: string) => boolean): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const walk = async (rel: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(join(root, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (skip(child)) continue;
      if (e.isDirectory()) await walk(child);
      else {
        // Gone since readdir: another stage's atomic write renamed it meanwhile.
        const info = await lstat(join(root, child)).catch(() => undefined);
        if (info) out.set(child, `${info.size}:${info.mtimeMs}`);
      }
    }
  };
  await walk('');
  return out;
}

async function snapshotWorkspace(workspaceRoot: string): Promise<Snapshot> {
  // Tracked files that differ from HEAD and untracked files git does not ignore.
  const { stdout } = await runTool({ command: 'git', args: ['ls-files', '-m', '-o', '--exclude-standard', '-z'], cwd: workspaceRoot }).catch(() => ({ stdout: '' }));
  const out: Snapshot = new Map();
  for (const rel of stdout.split('\0').filter(Boolean)) {
    const info = await lstat(join(workspaceRoot, rel)).catch(() => undefined);
    out.set(rel, info ? `${info.size}:${info.mtimeMs}` : 'deleted');
  }
  return out;
}

function changed(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const [path, sig] of after) if (before.get(path) !== sig) out.push(path);
  for (const path of before.keys()) if (!after.has(path)) out.push(path);
  return out.sort();
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
  const inputsFile = join(ctx.workDir, 'inputs.json');
  await writeFileAtomic(inputsFile, stableJson({ artifacts, records: records.all }));

  const declared = new Set(options.outputs.map((o) => o.path));
  const distRoot = join(ctx.workspaceRoot, 'dist');
  const releaseRel = ctx.config.releaseDir.replace(/^dist\//, '');
  const allowed = new Set([...declared, ...(options.siblingOutputs ?? [])]);
  // Evidence files are the evidence stages' (and any stage may invalidate them).
  // A sibling's output in flight (`.<name>.tmp-<pid>-<hex>`) is the sibling's too: stages of one slot run side by side.
  const inFlight = (rel: string) => isTempFile(rel) && [...allowed].some((o) => posix.dirname(rel) === posix.dirname(o) && posix.basename(rel).startsWith(`.${posix.basename(o)}.tmp-`));
  const skipDist = (rel: string) =>
    rel === 'work' ||
    rel === 'manifest' ||
    (rel.startsWith(`${releaseRel}/`) && (allowed.has(rel.slice(releaseRel.length + 1)) || isEvidenceFile(rel.slice(releaseRel.length + 1)) || inFlight(rel.slice(releaseRel.length + 1))));
  const beforeDist = await snapshotTree(distRoot, skipDist);
  const beforeWorkspace = await snapshotWorkspace(ctx.workspaceRoot);

  const saved = { ...process.env };
  Object.assign(process.env, {
    [CUSTOM_STAGE_ENV.releaseDir]: ctx.releaseDir,
    [CUSTOM_STAGE_ENV.inputs]: inputsFile,
    [CUSTOM_STAGE_ENV.stage]: name,
    [CUSTOM_STAGE_ENV.sourceDateEpoch]: String(ctx.sourceDateEpoch.seconds),
  });
  const cleanup = () => Promise.all(options.outputs.map((o) => rm(join(ctx.releaseDir, o.path), { force: true })));
  let success: boolean;
  try {
    success = await run();
  } catch (err) {
    await cleanup();
    throw fail(`threw: ${(err as Error).message}`);
  } finally {
    for (const key of Object.values(CUSTOM_STAGE_ENV)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  }
  if (!success) {
    await cleanup();
    throw fail(`failed (its executor ${options.executor} reported failure)`);
  }
  const strayDist = changed(beforeDist, await snapshotTree(distRoot, skipDist));
  const strayWorkspace = changed(beforeWorkspace, await snapshotWorkspace(ctx.workspaceRoot));
  const stray = [...strayDist.map((p) => `dist/${p}`), ...strayWorkspace];
  if (stray.length) {
    await cleanup();
    throw fail(`wrote outside its declared outputs: ${stray.slice(0, 5).join(', ')}${stray.length > 5 ? ', …' : ''}; a stage may write only the files it declares under ${ctx.config.releaseDir}/`, stray[0]);
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
