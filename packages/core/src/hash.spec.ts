import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File, sha256Files, sha256Hex } from './hash';

describe('sha256File / sha256Files', () => {
  let dir: string;
  const contents: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    'three-bytes': Buffer.from('abc'),
    // Exactly five 1 MiB chunks, and one byte past a chunk boundary.
    'five-mib': randomBytes(5 * 1024 * 1024),
    'five-mib-plus-one': randomBytes(5 * 1024 * 1024 + 1),
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helix-hash-'));
    for (const [name, data] of Object.entries(contents)) await writeFile(join(dir, name), data);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('sha256Hex matches known vectors', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });

  it.each(Object.keys(contents))('sha256File(%s) equals sha256Hex of its content', async (name) => {
    expect(await sha256File(join(dir, name))).toBe(sha256Hex(contents[name]!));
  });

  it('sha256Files returns the digests in the order of the paths, at any concurrency', async () => {
    const names = ['five-mib', 'empty', 'five-mib-plus-one', 'three-bytes', 'empty'];
    const expected = names.map((n) => sha256Hex(contents[n]!));
    for (const concurrency of [1, 2, 16]) {
      expect(await sha256Files(names.map((n) => join(dir, n)), concurrency)).toEqual(expected);
    }
    expect(await sha256Files([])).toEqual([]);
  });

  it('reports a missing file as FILE_MISSING naming it', async () => {
    const missing = join(dir, 'never-built.zip');
    await expect(sha256File(missing)).rejects.toMatchObject({ code: 'FILE_MISSING', file: missing });
    await expect(sha256Files([join(dir, 'empty'), missing])).rejects.toMatchObject({ code: 'FILE_MISSING', file: missing });
  });
});
