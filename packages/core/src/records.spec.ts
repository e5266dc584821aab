import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from './hash';
import { resolveConfig } from './config';
import { memoryLogger } from './log';
import { readStageRecord, writeStageRecord, type ReleaseArtifact, type StageRecord } from './manifest';
import { IMPORT_RECORD, ReleaseRecords, checkedArtifacts, recordData } from './records';
import { IMPORT_ENV, createStageContext, prepareStage } from './stage';

function artifact(path: string, content: string, kind: ReleaseArtifact['kind'] = 'installer'): ReleaseArtifact {
  return { path, kind, sha256: sha256Hex(content), size: Buffer.byteLength(content), sbom: kind === 'installer' || kind === 'plugin' };
}

function record(project: string, stage: string, artifacts: ReleaseArtifact[]): StageRecord {
  return { schema: 'helix-release/stage-record/v1', project, stage, artifacts };
}

describe('checkedArtifacts', () => {
  let releaseDir: string;
  const installer = artifact('helix-studio-1.4.0-linux-x86_64.zip', 'installer bytes');
  const plugin = artifact('plugins/hello-1.0.0.zip', 'plugin bytes', 'plugin');
  const records = () => [record('helix-studio', 'package', [installer]), record('plugin-hello', 'plugin-zip', [plugin])];

  beforeEach(async () => {
    releaseDir = await mkdtemp(join(tmpdir(), 'helix-records-'));
    await mkdir(join(releaseDir, 'plugins'));
    await writeFile(join(releaseDir, installer.path), 'installer bytes');
    await writeFile(join(releaseDir, plugin.path), 'plugin bytes');
  });
  afterEach(async () => {
    await rm(releaseDir, { recursive: true, force: true });
  });

  it.each([false, true])('returns the artifacts of every record in order (hash: %s)', async (hash) => {
    expect(await checkedArtifacts(releaseDir, records(), { hash })).toEqual([installer, plugin]);
  });

  it('detects a missing file: FILE_MISSING naming the file and the stage', async () => {
    await rm(join(releaseDir, plugin.path));
    await expect(checkedArtifacts(releaseDir, records(), { hash: false })).rejects.toMatchObject({
      code: 'FILE_MISSING',
      file: join(releaseDir, plugin.path),
      message: expect.stringContaining('plugin-hello:plugin-zip recorded this file but it is not there'),
    });
  });

  it('detects a size change with or without hashing: MANIFEST_INVALID', async () => {
    await writeFile(join(releaseDir, installer.path), 'installer bytes, longer now');
    for (const hash of [false, true]) {
      await expect(checkedArtifacts(releaseDir, records(), { hash })).rejects.toMatchObject({
        code: 'MANIFEST_INVALID',
        file: join(releaseDir, installer.path),
        message: expect.stringMatching(/changed since helix-studio:package wrote it \(27 bytes, recorded 15\)/),
      });
    }
  });

  it('detects a same-size content change only when hashing: MANIFEST_INVALID', async () => {
    await writeFile(join(releaseDir, installer.path), 'INSTALLER BYTES');
    // Without hash the size check is all there is (the other stages trust it)…
    await expect(checkedArtifacts(releaseDir, records(), { hash: false })).resolves.toHaveLength(2);
    // …with hash the digest is compared.
    await expect(checkedArtifacts(releaseDir, records(), { hash: true })).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      file: join(releaseDir, installer.path),
      message: expect.stringContaining(`sha256 ${sha256Hex('INSTALLER BYTES')}, recorded ${installer.sha256}`),
    });
  });

  it('refuses a file listed by two records: MANIFEST_INVALID naming both', async () => {
    const twice = [...records(), record('release', 'license-report', [artifact('plugins/hello-1.0.0.zip', 'plugin bytes', 'custom')])];
    await expect(checkedArtifacts(releaseDir, twice, { hash: false })).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      message: 'plugins/hello-1.0.0.zip is produced by both plugin-hello:plugin-zip and release:license-report',
    });
  });

  it('refuses a file listed twice by the same record', async () => {
    await expect(checkedArtifacts(releaseDir, [record('helix-studio', 'package', [installer, installer])], { hash: false })).rejects.toMatchObject({
      code: 'MANIFEST_INVALID',
      message: expect.stringContaining('produced by both helix-studio:package and helix-studio:package'),
    });
  });
});

describe('the plan variant and the records it hands a stage', () => {
  const refs = ['helix-studio/package', 'release/conformance'];
  const options = { records: refs, importRecords: [IMPORT_RECORD, 'release/conformance'] };
  const config = resolveConfig({ apps: { root: 'apps' } });

  it.each<[string, NodeJS.ProcessEnv, 'build' | 'import']>([
    ['no variable is the build variant', {}, 'build'],
    ['a value other than 1 is not import mode', { [IMPORT_ENV]: 'true' }, 'build'],
    ['HELIX_RELEASE_IMPORT=1 selects the import variant', { [IMPORT_ENV]: '1' }, 'import'],
  ])('%s', async (_what, env, variant) => {
    const ctx = await createStageContext({ stage: 'sbom', project: 'release', workspaceRoot: tmpdir(), env, config, logger: memoryLogger() });
    expect(ctx.variant).toBe(variant);
  });

  it('reads the import record in the import variant and the build records otherwise', async () => {
    const root = await mkdtemp(join(tmpdir(), 'helix-records-ws-'));
    try {
      await writeStageRecord(root, { project: 'helix-studio', stage: 'package', artifacts: [artifact('a.zip', 'a')] });
      await writeStageRecord(root, { project: 'imported', stage: 'import', artifacts: [artifact('b.zip', 'b')] });
      await writeStageRecord(root, { project: 'release', stage: 'conformance', artifacts: [artifact('conformance.log', 'c', 'conformance')] });
      const show = (r: ReleaseRecords) => r.all.map((x) => `${x.project}/${x.stage}:${x.artifacts[0]!.path}`);
      for (const [env, expected] of [
        [{}, ['helix-studio/package:a.zip', 'release/conformance:conformance.log']],
        [{ [IMPORT_ENV]: '1' }, ['imported/import:b.zip', 'release/conformance:conformance.log']],
      ] as const) {
        const ctx = await createStageContext({ stage: 'sbom', project: 'release', workspaceRoot: root, env, config, logger: memoryLogger() });
        expect(show(await prepareStage(ctx, { name: 'sbom' }, options))).toEqual(expected);
      }
      await expect(ReleaseRecords.read(root, ['plugin-x/plugin-zip'])).rejects.toMatchObject({ code: 'FILE_MISSING', message: expect.stringContaining('npx nx run plugin-x:plugin-zip') });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('prepares a stage: its previous record and the evidence its level makes stale are gone', async () => {
    const root = await mkdtemp(join(tmpdir(), 'helix-records-ws-'));
    try {
      await writeStageRecord(root, { project: 'release', stage: 'checksums', artifacts: [] });
      await mkdir(join(root, 'dist', 'release'), { recursive: true });
      for (const f of ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', 'SHA256SUMS.txt.asc']) await writeFile(join(root, 'dist', 'release', f), f);
      const ctx = await createStageContext({ stage: 'checksums', project: 'release', workspaceRoot: root, env: {}, config, logger: memoryLogger() });
      await prepareStage(ctx, { name: 'checksums', evidence: 'checksums' }, {});
      await expect(readStageRecord(root, 'release', 'checksums')).rejects.toMatchObject({ code: 'FILE_MISSING' });
      expect((await readdir(join(root, 'dist', 'release'))).sort()).toEqual(['BUILD_META.txt', 'SHA256SUMS.txt']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('gives a typed record of the plan, and RECORD_MISSING for one the plan did not hand over', async () => {
    const lock: StageRecord<'lock'> = { schema: 'helix-release/stage-record/v1', project: 'helix-studio', stage: 'lock', artifacts: [], data: { app: 'helix-studio', lockfiles: [], packages: [] } };
    const records = new ReleaseRecords([lock, record('release', 'conformance', [])], 'release:sbom');
    expect(recordData(records.get('lock', 'helix-studio')).app).toBe('helix-studio');
    expect(records.of('conformance').map((r) => r.project)).toEqual(['release']);
    expect(() => records.get('lock', 'other-app')).toThrow(expect.objectContaining({ code: 'RECORD_MISSING', message: expect.stringContaining('release:sbom needs the record other-app/lock') }));
    expect(() => recordData(record('release', 'conformance', []))).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
  });
});
