import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readStageRecord, stageRecordPath, writeStageRecord } from './manifest';
import { recordKey, recordKeyPath, sealMatches, sealOf } from './record-seal';

let ws: string;
beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-seal-'));
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

const RECORD = { stage: 'package', project: 'helix-studio', artifacts: [{ path: 'app.zip', kind: 'installer' as const, sha256: 'a'.repeat(64), size: 3, sbom: true }], data: { python: '3.11.7' } };

async function refusal(workspace: string): Promise<Error & { code?: string; file?: string }> {
  return (await readStageRecord(workspace, 'helix-studio', 'package').then(
    () => new Error('read'),
    (err: unknown) => err,
  )) as Error & { code?: string; file?: string };
}

describe('record seals', () => {
  it('makes the workspace key once, 32 random bytes readable by the owner alone, and the same for every caller', async () => {
    const [a, b] = await Promise.all([recordKey(ws), recordKey(ws)]);
    expect(a.equals(b)).toBe(true);
    expect(a).toHaveLength(32);
    expect((await stat(recordKeyPath(ws))).mode & 0o777).toBe(0o600);
    expect((await readFile(recordKeyPath(ws), 'utf8')).trim()).toBe(a.toString('hex'));
  });

  it('reads back a record written by this workspace', async () => {
    await writeStageRecord(ws, RECORD);
    const record = await readStageRecord(ws, 'helix-studio', 'package');
    expect(record.data).toEqual({ python: '3.11.7' });
    expect(record.seal).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  it.each([
    ['its data edited (a forged Python version)', (r: Record<string, unknown>) => ((r['data'] as Record<string, string>)['python'] = '9.9.9-forged')],
    ['its artifact digest and size edited (a replaced zip and record)', (r: Record<string, unknown>) => ((r['artifacts'] as Record<string, unknown>[])[0]!['sha256'] = 'b'.repeat(64))],
    ['its seal removed', (r: Record<string, unknown>) => delete r['seal']],
  ])('refuses a record with %s, naming the file and the way out', async (_name, edit) => {
    const file = await writeStageRecord(ws, RECORD);
    const record = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    edit(record);
    await writeFile(file, JSON.stringify(record, null, 2));
    const err = await refusal(ws);
    expect(err.code).toBe('MANIFEST_INVALID');
    expect(err.file).toBe(stageRecordPath(ws, 'helix-studio', 'package'));
    expect(err.message).toContain('was not written by a stage run of this workspace');
    expect(err.message).toContain('run `npx nx reset` and then the release again');
  });

  it('refuses a record made in another workspace (another key), as a cache entry from elsewhere is', async () => {
    const other = await mkdtemp(join(tmpdir(), 'helix-seal-other-'));
    try {
      const file = await writeStageRecord(other, RECORD);
      await writeStageRecord(ws, RECORD); // this workspace has its own key now
      await writeFile(stageRecordPath(ws, 'helix-studio', 'package'), await readFile(file));
      expect((await refusal(ws)).message).toContain('its seal does not match .helix/record-key');
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('seals the canonical form: the order of keys does not matter, every value does', () => {
    const key = Buffer.alloc(32, 7);
    const seal = sealOf({ b: 1, a: { d: 2, c: 3 } }, key);
    expect(sealMatches({ a: { c: 3, d: 2 }, b: 1, seal }, key)).toBe(true);
    expect(sealMatches({ a: { c: 3, d: 2 }, b: 2, seal }, key)).toBe(false);
    expect(sealMatches({ a: { c: 3, d: 2 }, b: 1, seal }, Buffer.alloc(32, 8))).toBe(false);
  });

  it('refuses a damaged key file with the way out', async () => {
    await mkdir(join(ws, '.helix'), { recursive: true });
    await writeFile(recordKeyPath(ws), 'not hex\n');
    await expect(recordKey(ws)).rejects.toMatchObject({ code: 'MANIFEST_INVALID', file: recordKeyPath(ws), message: expect.stringContaining('npx nx reset') });
  });

  it('takes HELIX_RECORD_KEY when it is given (runs that share a cache share it), and refuses one that is not 64 hex digits', async () => {
    const shared = 'ab'.repeat(32);
    expect((await recordKey(ws, { HELIX_RECORD_KEY: shared })).toString('hex')).toBe(shared);
    await expect(recordKey(ws, { HELIX_RECORD_KEY: 'short' })).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining('64 hex digits') });
  });
});
