import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256Hex } from './hash';
import { writeStageRecord, type ReleaseArtifact, type StageRecord } from './manifest';
import { IMPORT_ENV, IMPORT_RECORD, checkedArtifacts, effectiveRecordRefs, readRecords } from './records';

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

describe('effectiveRecordRefs / readRecords', () => {
  const refs = ['helix-studio/package', 'plugin-hello/plugin-zip', 'release/license-report', 'release/conformance'];

  it.each<[string, NodeJS.ProcessEnv, string[]]>([
    ['normal mode keeps the plan\'s refs', {}, refs],
    ['a value other than 1 is not import mode', { [IMPORT_ENV]: 'true' }, refs],
    ['import mode swaps the build records for the import record', { [IMPORT_ENV]: '1' }, [IMPORT_RECORD, 'release/license-report', 'release/conformance']],
  ])('%s', (_what, env, expected) => {
    const input = [...refs];
    expect(effectiveRecordRefs(input, env)).toEqual(expected);
    expect(input).toEqual(refs); // not modified in place
  });

  it('reads the import record in import mode and the build records otherwise', async () => {
    const root = await mkdtemp(join(tmpdir(), 'helix-records-ws-'));
    try {
      await writeStageRecord(root, { project: 'helix-studio', stage: 'package', artifacts: [artifact('a.zip', 'a')] });
      await writeStageRecord(root, { project: 'imported', stage: 'import', artifacts: [artifact('b.zip', 'b')] });
      await writeStageRecord(root, { project: 'release', stage: 'conformance', artifacts: [artifact('conformance.log', 'c', 'conformance')] });
      const wanted = ['helix-studio/package', 'release/conformance'];
      expect((await readRecords(root, wanted, {})).map((r) => `${r.project}/${r.stage}:${r.artifacts[0]!.path}`)).toEqual(['helix-studio/package:a.zip', 'release/conformance:conformance.log']);
      expect((await readRecords(root, wanted, { [IMPORT_ENV]: '1' })).map((r) => `${r.project}/${r.stage}:${r.artifacts[0]!.path}`)).toEqual(['imported/import:b.zip', 'release/conformance:conformance.log']);
      await expect(readRecords(root, ['plugin-x/plugin-zip'], {})).rejects.toMatchObject({ code: 'FILE_MISSING', message: expect.stringContaining('npx nx run plugin-x:plugin-zip') });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
