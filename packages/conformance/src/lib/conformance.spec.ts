import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ReleaseRecords,
  describeReleaseFile,
  memoryLogger,
  platformTag,
  resolveConfig,
  stageRecordPath,
  writeReproducibleZip,
  writeStageRecord,
  type ResolvedConfig,
  type StageContext,
} from '@helix-release/core';
import { KIT_TOOLS, RELEASE_FILES } from '@helix-release/format';
import { appConformanceStage, conformanceStage } from './conformance';

const SDE = 1_700_000_000;
const PLATFORM = platformTag();
const PREFIX = `helix-studio-1.4.0-${PLATFORM}`;
const INSTALLER = `${PREFIX}.zip`;
const WITH_PACK = resolveConfig({ apps: { root: 'apps' }, conformance: { pack: 'conformance/pack' } });
const WITHOUT_PACK = resolveConfig({ apps: { root: 'apps' } });

let ws: string;

// Our own files (the kit, conformance.sh) come from the temp workspace in these tests, not from this repository.
const assets = vi.hoisted(() => ({ root: '' }));
vi.mock('@helix-release/core', async (original) => ({ ...(await original<typeof import('@helix-release/core')>()), helixFile: (rel: string) => `${assets.root}/${rel}` }));

const context = (config: ResolvedConfig, project = 'release', stage = 'conformance'): StageContext => ({
  stage,
  project,
  workspaceRoot: ws,
  projectRoot: ws,
  config,
  releaseDir: join(ws, config.releaseDir),
  workDir: join(ws, 'dist', 'work', project, stage),
  sourceDateEpoch: { seconds: SDE, origin: 'git' },
  variant: 'build',
  env: {},
  logger: memoryLogger(),
});

/** Writes `rel` in the temp workspace. */
async function put(rel: string, content: string, mode = 0o644): Promise<void> {
  await mkdir(dirname(join(ws, rel)), { recursive: true });
  await writeFile(join(ws, rel), content, { mode });
}

/**
 * A fake tools/conformance.sh: runs the studio it is given (so its output
 * shows the stage unpacked the installer and named the recorded executable),
 * then does `body`.
 */
const fakeConformance = (body: string) =>
  put(
    'tools/conformance.sh',
    ['#!/usr/bin/env bash', 'while [ $# -gt 0 ]; do case "$1" in --app) studio=$2; shift 2;; *) shift;; esac; done', 'echo "studio says: $("$studio" --version)"', body, ''].join('\n'),
    0o755,
  );

beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-conformance-'));
  assets.root = ws;
  // The kit the stage ships (conformance.sh is replaced per case).
  for (const tool of KIT_TOOLS) await put(tool, `# stub of ${tool}\n`, 0o755);
  await put('conformance/pack/cases/plugin-loads.json', '{"case":"plugin-loads"}\n');
  // A real installer zip: one top folder holding the app's executable.
  const releaseDir = join(ws, WITH_PACK.releaseDir);
  await mkdir(releaseDir, { recursive: true });
  await writeReproducibleZip(
    join(releaseDir, INSTALLER),
    [
      { name: `${PREFIX}/helix-studio`, kind: 'buffer', data: Buffer.from('#!/bin/sh\necho "helix-studio 1.4.0"\n'), executable: true },
      { name: `${PREFIX}/_internal/base_library.zip`, kind: 'buffer', data: Buffer.from('lib') },
    ],
    SDE,
  );
  const installer = await describeReleaseFile(releaseDir, INSTALLER, 'installer', { sbom: true, name: 'helix-studio', version: '1.4.0', platform: PLATFORM });
  await writeStageRecord(ws, {
    project: 'helix-studio',
    stage: 'package',
    artifacts: [installer],
    data: { python: '3.11.7', pyinstaller: '6.11.1', wheels: [], executable: `${PREFIX}/helix-studio`, entries: 2 },
  });
});
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('conformanceStage', () => {
  it('fails with CONFORMANCE_NO_PACK naming the config when it has no conformance pack', async () => {
    const ctx = context(WITHOUT_PACK);
    await writeFile(join(ctx.releaseDir, RELEASE_FILES.conformanceResults), '{"stale":true}\n');
    const err = await conformanceStage(ctx, await ReleaseRecords.read(ws, ['helix-studio/package'])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFORMANCE_NO_PACK', file: 'release.config.ts' });
    expect((err as Error).message).toBe('release.config.ts has no conformance.pack and no app has its own (apps.settings.<app>.conformance); a release is not published without its conformance results');
    // Results of an earlier run do not survive.
    expect(existsSync(join(ctx.releaseDir, RELEASE_FILES.conformanceResults))).toBe(false);
    expect(existsSync(stageRecordPath(ws, 'release', 'conformance'))).toBe(false);
  });

  it.each<[string, string, string[]]>([
    ['prints no case and no summary', 'echo "starting the pack"', ['(exit 0):\nstudio says: helix-studio 1.4.0\nstarting the pack\n']],
    ['prints cases but no summary', 'echo "PASS plugin-loads"', ['(exit 0):', 'PASS plugin-loads']],
    ['prints a summary that disagrees with its cases', 'printf "PASS plugin-loads\\n2 passed, 0 failed\\n"', ['(exit 0):', '2 passed, 0 failed']],
    ['prints a summary of no cases', 'echo "0 passed, 0 failed"', ['(exit 0):', '0 passed, 0 failed']],
    ['fails before any case, on stderr', 'echo "cannot create the profile folder" >&2; exit 1', ['(exit 1):', 'cannot create the profile folder']],
  ])('fails with CONFORMANCE_OUTPUT naming conformance.sh when it %s', async (_what, body, mentions) => {
    await fakeConformance(body);
    const ctx = context(WITH_PACK);
    const err = await conformanceStage(ctx, await ReleaseRecords.read(ws, ['helix-studio/package'])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CONFORMANCE_OUTPUT', file: 'tools/conformance.sh' });
    const message = (err as Error).message;
    expect(message).toMatch(/^conformance\.sh printed no usable result \(exit [01]\):\n/);
    // The fake ran the executable the package record names, unpacked from the zip.
    expect(message).toContain('studio says: helix-studio 1.4.0');
    for (const m of mentions) expect(message).toContain(m);
    expect(existsSync(join(ctx.releaseDir, RELEASE_FILES.conformanceResults))).toBe(false);
    expect(existsSync(stageRecordPath(ws, 'release', 'conformance'))).toBe(false);
  });
});

/**
 * A fake conformance.sh that counts its runs in `runs.txt`, prints one passing
 * and one failing case, and writes a log naming the app it ran.
 */
const countingConformance = () =>
  put(
    'tools/conformance.sh',
    [
      '#!/usr/bin/env bash',
      'while [ $# -gt 0 ]; do case "$1" in --app) studio=$2; shift 2;; --log) log=$2; shift 2;; *) shift;; esac; done',
      `echo run >> ${JSON.stringify(join('RUNS'))}`,
      'echo "=== plugin-loads $("$studio" --version)" > "$log"',
      'echo "PASS plugin-loads"; echo "FAIL rejects-unsigned: exit code 0, expected 3"; echo "1 passed, 1 failed"; exit 1',
      '',
    ].join('\n').replace('RUNS', join(ws, 'runs.txt')),
    0o755,
  );
const runs = () => (existsSync(join(ws, 'runs.txt')) ? readFileSync(join(ws, 'runs.txt'), 'utf8').split('\n').filter(Boolean).length : 0);

describe('appConformanceStage, and conformanceStage taking its run over', () => {
  it("records the app's run, failed cases included, and writes nothing into the release", async () => {
    await countingConformance();
    const ctx = context(WITH_PACK, 'helix-studio', 'app-conformance');
    const before = (await readdir(ctx.releaseDir)).sort();
    const runsBefore = runs();
    const data = await appConformanceStage(ctx, await ReleaseRecords.read(ws, ['helix-studio/package']));
    expect(runs()).toBe(runsBefore + 1);
    expect(data).toMatchObject({ ran: true, passed: ['plugin-loads'], failed: ['rejects-unsigned'], why: { 'rejects-unsigned': 'exit code 0, expected 3' }, log: '=== plugin-loads helix-studio 1.4.0\n', plugins: [] });
    expect(data.ran && data.installer.path).toBe(INSTALLER);
    expect(existsSync(stageRecordPath(ws, 'helix-studio', 'app-conformance'))).toBe(true);
    expect((await readdir(ctx.releaseDir)).sort()).toEqual(before);
  });

  it('takes over a run of exactly these bytes without running the pack again, and fails the release on its failed case', async () => {
    const ctx = context(WITH_PACK);
    const runsBefore = runs();
    const err = await conformanceStage(ctx, await ReleaseRecords.read(ws, ['helix-studio/package', 'helix-studio/app-conformance'])).catch((e: unknown) => e);
    expect(runs()).toBe(runsBefore);
    expect(err).toMatchObject({ code: 'CONFORMANCE_FAILED' });
    const results = JSON.parse(readFileSync(join(ctx.releaseDir, RELEASE_FILES.conformanceResults), 'utf8'));
    expect(results.predicate).toMatchObject({ result: 'FAILED', passedTests: ['plugin-loads'], failedTests: ['rejects-unsigned'] });
    expect(readFileSync(join(ctx.releaseDir, RELEASE_FILES.conformanceLog), 'utf8')).toBe(`##### ${INSTALLER}\n=== plugin-loads helix-studio 1.4.0\n`);
  });

  it('runs the pack itself when the recorded run tested other bytes (another pack)', async () => {
    await put('conformance/pack/cases/another.json', '{"case":"another"}\n');
    try {
      const ctx = context(WITH_PACK);
      const runsBefore = runs();
      await conformanceStage(ctx, await ReleaseRecords.read(ws, ['helix-studio/package', 'helix-studio/app-conformance'])).catch(() => undefined);
      expect(runs()).toBe(runsBefore + 1);
      const results = JSON.parse(readFileSync(join(ctx.releaseDir, RELEASE_FILES.conformanceResults), 'utf8'));
      expect(results.predicate.failedTests).toEqual(['rejects-unsigned']);
    } finally {
      await rm(join(ws, 'conformance/pack/cases/another.json'));
    }
  });
});
