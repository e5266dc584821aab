import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  await writeFile(join(ws, '.gitignore'), 'dist/\n');
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
  await writeStageRecord(ws, { project: 'helix-studio', stage: 'package', artifacts: [INSTALLER] });
});
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});
afterEach(async () => {
  // Whatever a test's stage left behind must not leak into the next test's snapshot.
  await rm(join(ctx.releaseDir, 'extra.txt'), { force: true });
  await rm(join(ws, 'stray.txt'), { force: true });
  await rm(join(ws, 'dist', 'other'), { recursive: true, force: true });
  git('checkout', '--', 'README.md');
});

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
        message: expect.stringContaining('wrote outside its declared outputs: dist/release/.extra.txt.tmp-4242-0badf00d'),
      });
    } finally {
      await rm(inFlight, { force: true });
      await rm(join(ctx.releaseDir, '.extra.txt.tmp-4242-0badf00d'), { force: true });
    }
  });

  it.each<[string, CustomStageRun, RegExp]>([
    ['(a) its executor reports failure', async () => (await writeOutput(), false), /failed \(its executor @acme\/license:report reported failure\)/],
    ['(b) it does not write the declared output', async () => true, /declared the output THIRD_PARTY_LICENSES\.txt but did not write it/],
    ['(c) it also writes another file in the release folder', async () => (await writeOutput(), await writeFile(join(ctx.releaseDir, 'extra.txt'), 'x'), true), /wrote outside its declared outputs: dist\/release\/extra\.txt; a stage may write only the files it declares under dist\/release\//],
    ['(d) it writes a file in the workspace root', async () => (await writeOutput(), await writeFile(join(ws, 'stray.txt'), 'x'), true), /wrote outside its declared outputs: stray\.txt/],
    ['(d2) it changes a tracked file of the workspace', async () => (await writeOutput(), await writeFile(join(ws, 'README.md'), 'changed by the stage\n'), true), /wrote outside its declared outputs: README\.md/],
    ['(d3) it writes elsewhere under dist/', async () => (await writeOutput(), await mkdir(join(ws, 'dist', 'other'), { recursive: true }), await writeFile(join(ws, 'dist', 'other', 'x'), 'x'), true), /wrote outside its declared outputs: dist\/other\/x/],
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
