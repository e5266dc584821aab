import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ReleaseRecords,
  describeReleaseFile,
  memoryLogger,
  resolveConfig,
  sha256Hex,
  stageRecordPath,
  writeStageRecord,
  type ReleaseArtifact,
  type StageContext,
} from '@helix-release/core';
import { RELEASE_FILES } from '@helix-release/format';
import { checksumsStage } from './checksums';

const INSTALLER = 'helix-studio-1.4.0-linux-x86_64.zip';
const PLUGIN = 'plugins/hello-1.0.0.zip';
const SBOM = `SBOM-${INSTALLER}.spdx.json`;
const REFS = ['helix-studio/package', 'plugin-hello/plugin-zip', 'release/sbom'];
const config = resolveConfig({ apps: { root: 'apps' }, plugins: { root: 'plugins' } });

let ws: string;
let ctx: StageContext;
/** The recorded artifacts by path, as the stages described them. */
let recorded: Map<string, ReleaseArtifact>;

const releaseFile = (rel: string) => join(ctx.releaseDir, rel);

async function put(rel: string, content: string): Promise<void> {
  await mkdir(dirname(releaseFile(rel)), { recursive: true });
  await writeFile(releaseFile(rel), content);
}

/** Writes a release file and the record of the stage that produced it. */
async function produce(project: string, stage: string, files: Record<string, string>, extra: Partial<ReleaseArtifact> = {}): Promise<void> {
  const artifacts: ReleaseArtifact[] = [];
  for (const [rel, content] of Object.entries(files)) {
    await put(rel, content);
    const artifact = await describeReleaseFile(ctx.releaseDir, rel, extra.kind ?? 'custom', extra);
    recorded.set(rel, artifact);
    artifacts.push(artifact);
  }
  await writeStageRecord(ws, { project, stage, artifacts });
}

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-checksums-'));
  ctx = {
    stage: 'checksums',
    project: 'release',
    workspaceRoot: ws,
    projectRoot: ws,
    config,
    releaseDir: join(ws, config.releaseDir),
    workDir: join(ws, 'dist', 'work', 'release', 'checksums'),
    sourceDateEpoch: { seconds: 1_700_000_000, origin: 'git' },
    variant: 'build',
    env: {},
    logger: memoryLogger(),
  };
  recorded = new Map();
  await produce('helix-studio', 'package', { [INSTALLER]: 'installer bytes\n' }, { kind: 'installer', sbom: true, name: 'helix-studio', version: '1.4.0', platform: 'linux-x86_64' });
  await produce('plugin-hello', 'plugin-zip', { [PLUGIN]: 'plugin bytes\n' }, { kind: 'plugin', sbom: true, name: 'hello', version: '1.0.0' });
  await produce('release', 'sbom', { [SBOM]: '{"spdxVersion":"SPDX-2.3"}\n' }, { kind: 'sbom', name: INSTALLER });
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('checksumsStage', () => {
  it.each<[string, () => Promise<unknown>, { code: string; file: () => string; message: () => string }]>([
    [
      'CHECKSUMS_EMPTY: the records list no file',
      async () => {
        for (const ref of REFS) await writeStageRecord(ws, { project: ref.split('/')[0]!, stage: ref.split('/')[1]!, artifacts: [] });
        for (const rel of [INSTALLER, PLUGIN, SBOM]) await rm(releaseFile(rel));
      },
      { code: 'CHECKSUMS_EMPTY', file: () => ctx.releaseDir, message: () => 'the release has no files to list; build something first' },
    ],
    [
      'CHECKSUMS_STRAY_FILE: a file no stage produced',
      () => put('stray.txt', 'left over\n'),
      { code: 'CHECKSUMS_STRAY_FILE', file: () => releaseFile('stray.txt'), message: () => 'stray.txt is in the release folder but no stage of this release produced it (left from an earlier build?); remove it' },
    ],
    [
      'CHECKSUMS_STRAY_FILE: two stray files, one in a subfolder',
      () => Promise.all([put('plugins/hello-0.9.0.zip', 'old plugin\n'), put('leftover.log', 'log\n')]),
      { code: 'CHECKSUMS_STRAY_FILE', file: () => releaseFile('leftover.log'), message: () => 'leftover.log, plugins/hello-0.9.0.zip are in the release folder but no stage of this release produced them' },
    ],
    [
      'CHECKSUMS_CHANGED: a recorded file changed, keeping its size',
      () => put(PLUGIN, 'PLUGIN BYTES\n'),
      { code: 'CHECKSUMS_CHANGED', file: () => releaseFile(PLUGIN), message: () => `changed since its stage recorded sha256 ${recorded.get(PLUGIN)!.sha256}; re-run the release` },
    ],
  ])('%s', async (_what, arrange, expected) => {
    // A SHA256SUMS.txt of an earlier run must not survive a failed one.
    await put(RELEASE_FILES.sums, 'stale sums\n');
    await arrange();
    const records = await ReleaseRecords.read(ws, REFS);
    const err = await checksumsStage(ctx, records).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: expected.code, file: expected.file() });
    expect((err as Error).message).toContain(expected.message());
    expect(existsSync(releaseFile(RELEASE_FILES.sums))).toBe(false);
    expect(existsSync(stageRecordPath(ws, 'release', 'checksums'))).toBe(false);
  });

  it('writes a SHA256SUMS.txt that sha256sum -c --strict accepts in the release folder, and records it', async () => {
    // Evidence files are not listed and are not strays.
    await put(RELEASE_FILES.meta, 'format: helix-build-meta v1\n');
    await put(`${INSTALLER}.asc`, 'signature\n');
    const artifact = await checksumsStage(ctx, await ReleaseRecords.read(ws, REFS));
    const text = await readFile(releaseFile(RELEASE_FILES.sums), 'utf8');
    expect(text).toBe(
      [INSTALLER, SBOM, PLUGIN]
        .sort()
        .map((p) => `${recorded.get(p)!.sha256}  ${p}\n`)
        .join(''),
    );
    const check = execFileSync('sha256sum', ['-c', '--strict', RELEASE_FILES.sums], { cwd: ctx.releaseDir, encoding: 'utf8' });
    expect(check.trim().split('\n').sort()).toEqual([`${INSTALLER}: OK`, `${PLUGIN}: OK`, `${SBOM}: OK`].sort());
    expect(artifact).toEqual({ path: RELEASE_FILES.sums, kind: 'checksums', sha256: sha256Hex(text), size: Buffer.byteLength(text), sbom: false });
    expect((await ReleaseRecords.read(ws, ['release/checksums'])).all[0]!.artifacts).toEqual([artifact]);
  });
});
