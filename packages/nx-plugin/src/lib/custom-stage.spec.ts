import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  CUSTOM_STAGE_ENV,
  prepareStage,
  memoryLogger,
  readCustomStageInputs,
  readStageRecord,
  resolveConfig,
  sha256Hex,
  stageRecordPath,
  writeStageRecord,
  type CustomStageInputs,
  type ReleaseArtifact,
  type StageContext,
} from '@helix-release/core';
import { runCustomStage, type CustomStageOptions, type CustomStageRun } from './custom-stage';

const STAGE = 'license-report';
const OUTPUT = 'THIRD_PARTY_LICENSES.txt';
const INSTALLER: ReleaseArtifact = { path: 'helix-studio-1.4.0-linux-x86_64.zip', kind: 'installer', sha256: sha256Hex('installer'), size: 9, sbom: true, name: 'helix-studio', version: '1.4.0' };

const config = resolveConfig({ apps: { root: 'apps' }, stages: [{ name: STAGE, executor: '@acme/license:report', after: 'build', outputs: [{ path: OUTPUT }] }] });
const options: CustomStageOptions = { stage: STAGE, executor: '@acme/license:report', outputs: config.stages[0]!.outputs, records: ['helix-studio/package'] };

let ws: string;
let ctx: StageContext;
/** Another stage's record, the work folder of one, and an ignored file of the workspace (the toolchain), as they were. */
const PACKAGE: string = 'package';
let packageRecord: Buffer;
const PACKAGE_RECORD_REL = 'dist/manifest/helix-studio/package.json';
const WORK_REL = 'dist/work/helix-studio/package/venv/pyvenv.cfg';
const IGNORED_REL = '.helix/toolchain/bin/syft';
const WORK_FILE = () => join(ws, WORK_REL);
const IGNORED_FILE = () => join(ws, IGNORED_REL);
let PACKAGE_RECORD = '';
/** What the executor adapter does before the stage: drop its record and stale evidence, read its planned records. */
const planned = () => prepareStage(ctx, { name: STAGE, evidence: 'artifacts' }, options);
const output = () => join(ctx.releaseDir, OUTPUT);

function git(...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=T', '-c', 'user.email=t@example.invalid', '-c', 'commit.gpgsign=false', ...args], {
    cwd: ws,
    stdio: 'pipe',
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_DATE: '@1700000000 +0000', GIT_COMMITTER_DATE: '@1700000000 +0000' },
  });
}

beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-custom-stage-'));
  PACKAGE_RECORD = join(ws, PACKAGE_RECORD_REL);
  // As in a real workspace: what a release writes besides dist/ is git-ignored too.
  await writeFile(join(ws, '.gitignore'), 'dist/\n.helix/\n.nx/\nnode_modules/\n__pycache__/\n');
  await writeFile(join(ws, 'README.md'), 'workspace\n');
  git('init', '-q', '-b', 'main');
  git('add', '-A');
  git('commit', '-q', '-m', 'init');
  ctx = {
    stage: STAGE,
    project: 'release',
    workspaceRoot: ws,
    projectRoot: ws,
    config,
    releaseDir: join(ws, config.releaseDir),
    workDir: join(ws, 'dist', 'work', 'release', STAGE),
    sourceDateEpoch: { seconds: 1_700_000_000, origin: 'git' },
    variant: 'build',
    env: {},
    logger: memoryLogger(),
  };
  await mkdir(ctx.releaseDir, { recursive: true });
  await writeFile(join(ctx.releaseDir, INSTALLER.path), 'installer');
  await writeStageRecord(ws, { project: 'helix-studio', stage: PACKAGE, artifacts: [INSTALLER], data: { python: '3.12.8' } });
  await mkdir(dirname(WORK_FILE()), { recursive: true });
  await writeFile(WORK_FILE(), 'home = /usr/bin\n');
  await mkdir(dirname(IGNORED_FILE()), { recursive: true });
  await writeFile(IGNORED_FILE(), 'syft, provisioned\n');
  packageRecord = await readFile(PACKAGE_RECORD);
  await wholeSecondTimes();
});

/** Node sets times in microseconds at best: on a whole second, a forger keeps the mtime exactly (as `touch -r` would). */
async function wholeSecondTimes(): Promise<void> {
  for (const file of [PACKAGE_RECORD, WORK_FILE(), IGNORED_FILE()]) await utimes(file, 1_700_000_000, 1_700_000_000);
}
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});
afterEach(async () => {
  // Whatever a test's stage left behind must not leak into the next test's snapshot.
  await rm(join(ctx.releaseDir, 'extra.txt'), { force: true });
  await rm(join(ws, 'stray.txt'), { force: true });
  await rm(join(ws, 'dist', 'other'), { recursive: true, force: true });
  git('checkout', '--', 'README.md');
  await writeFile(PACKAGE_RECORD, packageRecord);
  await writeFile(WORK_FILE(), 'home = /usr/bin\n');
  await writeFile(IGNORED_FILE(), 'syft, provisioned\n');
  await wholeSecondTimes();
});

/** Rewrites `file` with `change`, keeping its size and its times (what `touch -r` does). */
async function forge(file: string, change: (text: string) => string): Promise<void> {
  const before = await stat(file);
  const text = await readFile(file, 'utf8');
  const forged = change(text);
  expect(forged).not.toBe(text);
  expect(Buffer.byteLength(forged)).toBe(before.size);
  await writeFile(file, forged);
  await utimes(file, before.atime, before.mtime);
  expect(statSync(file).mtimeMs).toBe(before.mtimeMs);
}

describe('runCustomStage', () => {
  it('records the declared output when the stage writes exactly it, giving the stage the release as input', async () => {
    let seen: CustomStageInputs | undefined;
    const run: CustomStageRun = async () => {
      seen = await readCustomStageInputs(process.env);
      await writeFile(join(seen.releaseDir, OUTPUT), 'MIT: everything\n');
      return true;
    };
    const outputs = await runCustomStage(ctx, options, await planned(), run);
    const expected: ReleaseArtifact = { path: OUTPUT, kind: 'custom', sha256: sha256Hex('MIT: everything\n'), size: 16, sbom: false };
    expect(outputs).toEqual([expected]);
    expect(seen).toMatchObject({ stage: STAGE, releaseDir: ctx.releaseDir, sourceDateEpoch: 1_700_000_000, artifacts: [INSTALLER] });
    expect(seen!.records.map((r) => `${r.project}/${r.stage}`)).toEqual(['helix-studio/package']);
    const record = await readStageRecord(ws, 'release', STAGE);
    expect(record).toMatchObject({ stage: STAGE, project: 'release', artifacts: [expected], data: { executor: '@acme/license:report' } });
    expect(await readFile(output(), 'utf8')).toBe('MIT: everything\n');
    // The variables are set only while the stage runs.
    for (const name of Object.values(CUSTOM_STAGE_ENV).filter((n) => n !== 'SOURCE_DATE_EPOCH')) expect(process.env[name], name).toBeUndefined();
  });

  const writeOutput = () => writeFile(join(process.env[CUSTOM_STAGE_ENV.releaseDir]!, OUTPUT), 'licenses\n');

  it("takes a sibling stage's output in flight (its atomic write's temporary file) for the sibling's, not a stray", async () => {
    const inFlight = join(ctx.releaseDir, '.NOTICE.txt.tmp-4242-0badf00d');
    try {
      const outputs = await runCustomStage(ctx, { ...options, siblingOutputs: ['NOTICE.txt'] }, await planned(), async () => {
        await writeOutput();
        await writeFile(inFlight, 'half of a NOTICE'); // a sibling of the same slot, writing meanwhile
        return true;
      });
      expect(outputs.map((o) => o.path)).toEqual([OUTPUT]);
      // The temporary file of a name no sibling declares is a stray like any other.
      const other = () => writeFile(join(ctx.releaseDir, '.extra.txt.tmp-4242-0badf00d'), 'x');
      await expect(runCustomStage(ctx, { ...options, siblingOutputs: ['NOTICE.txt'] }, await planned(), async () => (await writeOutput(), await other(), true))).rejects.toMatchObject({
        code: 'CUSTOM_STAGE_FAILED',
        message: expect.stringContaining('wrote outside its declared outputs: dist/release/.extra.txt.tmp-4242-0badf00d (created, removed)'),
      });
    } finally {
      await rm(inFlight, { force: true });
      await rm(join(ctx.releaseDir, '.extra.txt.tmp-4242-0badf00d'), { force: true });
    }
  });

  it('gives the stage a temporary folder of its own (TMPDIR, TMP, TEMP), fresh for every run and removed after it', async () => {
    const system = tmpdir();
    const seen: { tmp: string; env: (string | undefined)[]; found: string[] }[] = [];
    const run: CustomStageRun = async () => {
      const tmp = tmpdir();
      seen.push({ tmp, env: [process.env['TMPDIR'], process.env['TMP'], process.env['TEMP']], found: await readdir(tmp) });
      await writeFile(join(tmp, 'scratch.txt'), 'scratch');
      await mkdir(join(tmp, 'unpacked', 'deep'), { recursive: true });
      await writeFile(join(tmp, 'unpacked', 'deep', 'x'), 'x');
      await writeOutput();
      return true;
    };
    for (let i = 0; i < 2; i++) expect((await runCustomStage(ctx, options, await planned(), run)).map((o) => o.path)).toEqual([OUTPUT]);
    expect(seen[0]!.tmp).not.toBe(seen[1]!.tmp);
    for (const { tmp, env, found } of seen) {
      expect(dirname(tmp)).toBe(system);
      expect(tmp).toMatch(/helix-stage-license-report-/);
      expect(env).toEqual([tmp, tmp, tmp]);
      expect(found).toEqual([]);
      expect(existsSync(tmp), tmp).toBe(false);
    }
    expect(tmpdir()).toBe(system);
  });

  it("does not take Nx's cache, node_modules or the run lock for strays: the release writes them meanwhile", async () => {
    const files = ['.nx/workspace-data/file-map.json', '.nx/cache/123/outputs', 'node_modules/.cache/x', 'packages/x/node_modules/y', '.helix/release-run.json'];
    try {
      await runCustomStage(ctx, options, await planned(), async () => {
        for (const f of files) {
          await mkdir(dirname(join(ws, f)), { recursive: true });
          await writeFile(join(ws, f), 'written meanwhile');
        }
        await writeOutput();
        return true;
      });
      for (const f of files) expect(existsSync(join(ws, f)), f).toBe(true);
    } finally {
      for (const d of ['.nx', 'node_modules', 'packages', '.helix/release-run.json']) await rm(join(ws, d), { recursive: true, force: true });
    }
  });

  it('takes the records, work folders and timings of the tasks that run beside it for theirs, and only those', async () => {
    const beside = { ...options, concurrentTasks: ['helix-studio/artifact-sbom', 'release/notice'] };
    const theirs = [
      'dist/manifest/helix-studio/artifact-sbom.json',
      'dist/manifest/helix-studio/.artifact-sbom.json.tmp-4242-0badf00d',
      'dist/work/helix-studio/artifact-sbom/syft/out.json',
      'dist/work/release/notice/inputs.json',
      'dist/work/.timings/helix-studio_artifact-sbom.json',
      'dist/work/.timings/release_notice.json',
    ];
    const write = async (rel: string) => {
      await mkdir(dirname(join(ws, rel)), { recursive: true });
      await writeFile(join(ws, rel), 'theirs');
    };
    try {
      await runCustomStage(ctx, beside, await planned(), async () => {
        for (const rel of theirs) await write(rel);
        await writeOutput();
        return true;
      });
      for (const rel of theirs) expect(existsSync(join(ws, rel)), rel).toBe(true);
      // The same files of a task that ran before it (app-conformance) are strays.
      const before = ['dist/manifest/helix-studio/app-conformance.json', 'dist/work/helix-studio/app-conformance/x', 'dist/work/.timings/helix-studio_app-conformance.json'];
      const err = await runCustomStage(ctx, beside, await planned(), async () => {
        for (const rel of before) await write(rel);
        await writeOutput();
        return true;
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'CUSTOM_STAGE_FAILED', file: 'dist/manifest/helix-studio/app-conformance.json' });
      for (const rel of before) {
        expect((err as Error).message).toContain(`${rel} (created, removed)`);
        expect(existsSync(join(ws, rel)), rel).toBe(false);
      }
    } finally {
      for (const rel of [...theirs, 'dist/work/helix-studio/artifact-sbom', 'dist/work/release/notice', 'dist/work/helix-studio/app-conformance']) await rm(join(ws, rel), { recursive: true, force: true });
    }
  });

  it('names the first five strays and counts the rest', async () => {
    const err = await runCustomStage(ctx, options, await planned(), async () => {
      for (let i = 0; i < 7; i++) await writeFile(join(ws, `stray-${i}.txt`), 'x');
      await writeOutput();
      return true;
    }).catch((e: unknown) => e);
    expect((err as Error).message).toContain('stray-0.txt (created, removed), stray-1.txt (created, removed), stray-2.txt (created, removed), stray-3.txt (created, removed), stray-4.txt (created, removed), and 2 more;');
    for (let i = 0; i < 7; i++) expect(existsSync(join(ws, `stray-${i}.txt`))).toBe(false);
  });

  it.each<[string, CustomStageRun, RegExp]>([
    ['(a) its executor reports failure', async () => (await writeOutput(), false), /failed \(its executor @acme\/license:report reported failure\)/],
    ['(b) it does not write the declared output', async () => true, /declared the output THIRD_PARTY_LICENSES\.txt but did not write it/],
    ['(c) it also writes another file in the release folder', async () => (await writeOutput(), await writeFile(join(ctx.releaseDir, 'extra.txt'), 'x'), true), /wrote outside its declared outputs: dist\/release\/extra\.txt \(created, removed\); a stage may write only the files it declares under dist\/release\/, and temporary files in the folder TMPDIR names while it runs/],
    ['(d) it writes a file in the workspace root', async () => (await writeOutput(), await writeFile(join(ws, 'stray.txt'), 'x'), true), /wrote outside its declared outputs: stray\.txt \(created, removed\)/],
    ['(d2) it changes a tracked file of the workspace', async () => (await writeOutput(), await writeFile(join(ws, 'README.md'), 'changed by the stage\n'), true), /wrote outside its declared outputs: README\.md \(changed\); .*; restore README\.md \(git checkout for a tracked file\) before the next release$/],
    ['(d3) it writes elsewhere under dist/', async () => (await writeOutput(), await mkdir(join(ws, 'dist', 'other'), { recursive: true }), await writeFile(join(ws, 'dist', 'other', 'x'), 'x'), true), /wrote outside its declared outputs: dist\/other\/x \(created, removed\)/],
    ["(f) it edits another stage's record, keeping its size and mtime", async () => (await writeOutput(), await forge(PACKAGE_RECORD, (t) => t.replace('"3.12.8"', '"9.99.9"')), true), /wrote outside its declared outputs: dist\/manifest\/helix-studio\/package\.json \(changed\); .*; what it changed or deleted under dist\/ is no longer to be trusted: run npx nx run release:clean before the next release$/],
    ["(f2) it deletes another stage's record", async () => (await writeOutput(), await rm(PACKAGE_RECORD), true), /wrote outside its declared outputs: dist\/manifest\/helix-studio\/package\.json \(deleted\); .*release:clean/],
    ['(f3) it writes its own record', async () => (await writeOutput(), await writeStageRecord(ws, { project: 'release', stage: STAGE, artifacts: [] }), true), /wrote outside its declared outputs: dist\/manifest\/release\/license-report\.json \(created, removed\)/],
    ['(g) it creates a file in dist/work', async () => (await writeOutput(), await writeFile(join(ws, 'dist/work/helix-studio/package/forged.txt'), 'x'), true), /wrote outside its declared outputs: dist\/work\/helix-studio\/package\/forged\.txt \(created, removed\)/],
    ["(g2) it edits a file of another stage's work folder, keeping its size and mtime", async () => (await writeOutput(), await forge(WORK_FILE(), (t) => t.replace('/usr', '/tmp')), true), /wrote outside its declared outputs: dist\/work\/helix-studio\/package\/venv\/pyvenv\.cfg \(changed\);.*release:clean/],
    ['(h) it writes a git-ignored path', async () => (await writeOutput(), await mkdir(join(ws, 'tools/__pycache__'), { recursive: true }), await writeFile(join(ws, 'tools/__pycache__/x.cpython-312.pyc'), 'x'), true), /wrote outside its declared outputs: tools\/__pycache__\/x\.cpython-312\.pyc \(created, removed\)/],
    ['(h2) it edits a git-ignored file (the toolchain), keeping its size and mtime', async () => (await writeOutput(), await forge(IGNORED_FILE(), (t) => t.replace('syft', 'evil')), true), /wrote outside its declared outputs: \.helix\/toolchain\/bin\/syft \(changed\); .*; restore \.helix\/toolchain\/bin\/syft /],
    ['(a2) its executor reports failure after writing elsewhere', async () => (await writeOutput(), await writeFile(join(ws, 'stray.txt'), 'x'), false), /failed \(its executor @acme\/license:report reported failure\); it also wrote outside its declared outputs: stray\.txt \(created, removed\)$/],
    ['(e) its executor throws', async () => (await writeOutput(), Promise.reject(new Error('kaboom'))), /threw: kaboom/],
  ])('fails with CUSTOM_STAGE_FAILED naming the stage when %s, leaving no output or record behind', async (_what, run, message) => {
    // A stale output and record of an earlier run must not survive either.
    await writeFile(output(), 'stale\n');
    await writeStageRecord(ws, { project: 'release', stage: STAGE, artifacts: [] });
    let ran = false;
    await expect(runCustomStage(ctx, options, await planned(), async () => ((ran = true), run()))).rejects.toMatchObject({
      code: 'CUSTOM_STAGE_FAILED',
      message: expect.stringMatching(new RegExp(`^custom stage "${STAGE}" ${message.source}`)),
    });
    expect(ran).toBe(true);
    expect(existsSync(output())).toBe(false);
    expect(existsSync(stageRecordPath(ws, 'release', STAGE))).toBe(false);
    expect(process.env[CUSTOM_STAGE_ENV.releaseDir]).toBeUndefined();
    // What it created is gone, with the folders it made for it; nothing that was there before the run is removed.
    for (const rel of ['dist/release/extra.txt', 'stray.txt', 'dist/other', 'dist/work/helix-studio/package/forged.txt', 'tools']) expect(existsSync(join(ws, rel)), rel).toBe(false);
    for (const file of [WORK_FILE(), IGNORED_FILE(), join(ws, 'README.md'), join(ctx.releaseDir, INSTALLER.path)]) expect(existsSync(file), file).toBe(true);
  });

  it('does not run the stage when a file of its input records is missing', async () => {
    await rm(join(ctx.releaseDir, INSTALLER.path));
    try {
      let ran = false;
      await expect(runCustomStage(ctx, options, await planned(), async () => (ran = true))).rejects.toMatchObject({ code: 'FILE_MISSING', file: join(ctx.releaseDir, INSTALLER.path) });
      expect(ran).toBe(false);
    } finally {
      await writeFile(join(ctx.releaseDir, INSTALLER.path), 'installer');
    }
  });
});
