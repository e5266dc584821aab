import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HASH_CHUNK_BYTES, sha256File, sha256Files, sha256Hex } from './hash';

describe('sha256File / sha256Files', () => {
  let dir: string;
  const C = HASH_CHUNK_BYTES;
  // Random bytes around the boundaries of sha256File's read chunk (whatever
  // HASH_CHUNK_BYTES is): one short of a chunk, exactly one, one byte into
  // the next, exactly two, one byte into the third.
  const contents: Record<string, Buffer> = {
    empty: Buffer.alloc(0),
    'three-bytes': Buffer.from('abc'),
    'chunk-minus-one': randomBytes(C - 1),
    chunk: randomBytes(C),
    'chunk-plus-one': randomBytes(C + 1),
    'two-chunks': randomBytes(2 * C),
    'two-chunks-plus-one': randomBytes(2 * C + 1),
  };
  /** The digest node:crypto gives over the same bytes, independent of the code under test. */
  const reference = (data: Buffer) => createHash('sha256').update(data).digest('hex');

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

  it('tests the chunk sizes it says it does', () => {
    expect(Number.isInteger(C) && C > 1).toBe(true);
    expect(Object.fromEntries(Object.entries(contents).map(([name, data]) => [name, data.length]))).toEqual({
      empty: 0,
      'three-bytes': 3,
      'chunk-minus-one': HASH_CHUNK_BYTES - 1,
      chunk: HASH_CHUNK_BYTES,
      'chunk-plus-one': HASH_CHUNK_BYTES + 1,
      'two-chunks': 2 * HASH_CHUNK_BYTES,
      'two-chunks-plus-one': 2 * HASH_CHUNK_BYTES + 1,
    });
  });

  it.each(Object.keys(contents))('sha256File(%s) equals node:crypto over the same bytes', async (name) => {
    expect(await sha256File(join(dir, name))).toBe(reference(contents[name]!));
  });

  it('gives a file that differs only in its last byte, past a chunk boundary, another digest', async () => {
    const changed = Buffer.from(contents['chunk-plus-one']!);
    changed[C]! ^= 0x01;
    await writeFile(join(dir, 'chunk-plus-one-changed'), changed);
    expect(await sha256File(join(dir, 'chunk-plus-one-changed'))).toBe(reference(changed));
    expect(reference(changed)).not.toBe(reference(contents['chunk-plus-one']!));
  });

  it('sha256Files returns the digests in the order of the paths, at any concurrency', async () => {
    const names = ['two-chunks', 'empty', 'chunk-plus-one', 'three-bytes', 'chunk-minus-one', 'empty'];
    const expected = names.map((n) => reference(contents[n]!));
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
