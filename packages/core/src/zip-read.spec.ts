import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { extractZipSafely, readZipDirectory, readZipEntry } from './zip-read';
import { writeReproducibleZip, type ZipInput } from './zip-write';

const TRUST_ZIPS = resolve(__dirname, '..', '..', '..', 'workspace-fixtures', 'plugin-trust-cases', 'zips');
const EPOCH = 1_700_000_000;

/** Every path below `dir` (files, folders and links), relative and sorted. */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const e of await readdir(at, { withFileTypes: true })) {
      const full = join(at, e.name);
      out.push(relative(dir, full));
      if (e.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return out.sort();
}

/** A zip whose entry `zz/evil` is renamed to `../evil` in place (same length; CRC covers only the data). */
async function zipWithTraversal(path: string): Promise<void> {
  await writeReproducibleZip(path, [
    { name: 'good.txt', kind: 'buffer', data: Buffer.from('fine') },
    { name: 'zz/evil', kind: 'buffer', data: Buffer.from('pwned') },
  ], EPOCH);
  const buf = await readFile(path);
  const from = Buffer.from('zz/evil');
  const to = Buffer.from('../evil');
  let replaced = 0;
  for (let at = buf.indexOf(from); at >= 0; at = buf.indexOf(from, at + 1)) {
    to.copy(buf, at);
    replaced++;
  }
  expect(replaced).toBe(2); // local header and central directory
  await writeFile(path, buf);
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'helix-zip-read-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('reading what the writer wrote', () => {
  const big = Buffer.from(Array.from({ length: 20_000 }, (_, i) => `line ${i}\n`).join(''));
  const entries: ZipInput[] = [
    { name: 'app/bin/run', kind: 'buffer', data: Buffer.from('#!/bin/sh\n'), executable: true },
    { name: 'app/empty', kind: 'buffer', data: Buffer.alloc(0) },
    { name: 'app/big.txt', kind: 'buffer', data: big },
    { name: 'app/ünïcode ä.txt', kind: 'buffer', data: Buffer.from('é') },
    { name: 'app/lib/link', kind: 'symlink', target: '../bin/run' },
  ];
  let zipPath: string;
  let buf: Buffer;
  beforeAll(async () => {
    zipPath = join(tmp, 'round-trip.zip');
    await writeReproducibleZip(zipPath, entries, EPOCH);
    buf = await readFile(zipPath);
  });

  it('readZipDirectory lists every entry with name, mode, sizes and kind', () => {
    const dir = readZipDirectory(buf, zipPath);
    expect(dir.map((e) => ({ name: e.name, mode: e.unixMode?.toString(8), size: e.uncompressedSize, symlink: e.isSymlink, directory: e.isDirectory }))).toEqual([
      { name: 'app/big.txt', mode: '100644', size: big.length, symlink: false, directory: false },
      { name: 'app/bin/run', mode: '100755', size: 10, symlink: false, directory: false },
      { name: 'app/empty', mode: '100644', size: 0, symlink: false, directory: false },
      { name: 'app/lib/link', mode: '120777', size: '../bin/run'.length, symlink: true, directory: false },
      { name: 'app/ünïcode ä.txt', mode: '100644', size: 2, symlink: false, directory: false },
    ]);
    // Deflated where it pays, symlinks stored; UTF-8 flag on every entry.
    const byName = new Map(dir.map((e) => [e.name, e]));
    expect(byName.get('app/big.txt')!.method).toBe(8);
    expect(byName.get('app/big.txt')!.compressedSize).toBeLessThan(big.length);
    expect(byName.get('app/lib/link')!.method).toBe(0);
    expect(dir.every((e) => (e.flags & 0x800) !== 0)).toBe(true);
  });

  it('readZipEntry gives back every content byte for byte', () => {
    const dir = readZipDirectory(buf, zipPath);
    for (const input of entries) {
      const entry = dir.find((e) => e.name === input.name)!;
      const expected = input.kind === 'symlink' ? Buffer.from(input.target) : Buffer.from(input.kind === 'buffer' ? input.data : '');
      expect(readZipEntry(buf, entry, zipPath).equals(expected), input.name).toBe(true);
    }
  });

  it('extractZipSafely recreates files, executable bits and inside symlinks', async () => {
    const dest = join(tmp, 'extracted');
    await extractZipSafely(zipPath, dest, { allowSymlinks: true });
    expect(await tree(dest)).toEqual(['app', 'app/big.txt', 'app/bin', 'app/bin/run', 'app/empty', 'app/lib', 'app/lib/link', 'app/ünïcode ä.txt']);
    expect((await readFile(join(dest, 'app/big.txt'))).equals(big)).toBe(true);
    expect(await readFile(join(dest, 'app/ünïcode ä.txt'), 'utf8')).toBe('é');
    expect((await lstat(join(dest, 'app/bin/run'))).mode & 0o100).toBe(0o100);
    expect((await lstat(join(dest, 'app/empty'))).mode & 0o111).toBe(0);
    expect((await lstat(join(dest, 'app/lib/link'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dest, 'app/lib/link'))).toBe('../bin/run');
    expect(await readFile(join(dest, 'app/lib/link'), 'utf8')).toBe('#!/bin/sh\n');
  });

  it('refuses symlink entries unless allowed, before writing anything', async () => {
    const dest = join(tmp, 'no-links');
    await expect(extractZipSafely(zipPath, dest, { allowSymlinks: false })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', file: zipPath, message: expect.stringContaining('app/lib/link: symlink entries are not allowed') });
    await expect(lstat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('extractZipSafely refuses hostile archives and writes nothing outside', () => {
  it.each([
    ['a hand-made `../evil` entry', 'hand-made', /"\.\.\/evil": name contains '\.\.'/],
    ['the shared path-traversal.zip fixture', 'path-traversal.zip', /"\.\.\/evil\.py": name contains '\.\.'/],
    ['the shared absolute-path.zip fixture', 'absolute-path.zip', /absolute name|backslash, colon/],
    ['the shared backslash-path.zip fixture', 'backslash-path.zip', /backslash, colon or NUL/],
    ['the shared duplicate-name.zip fixture', 'duplicate-name.zip', /appears twice/],
  ])('%s', async (_what, source, message) => {
    const work = await mkdtemp(join(tmp, 'hostile-'));
    const zipPath = join(work, 'in.zip');
    if (source === 'hand-made') await zipWithTraversal(zipPath);
    else await writeFile(zipPath, await readFile(join(TRUST_ZIPS, source)));
    await mkdir(join(work, 'out'));
    const dest = join(work, 'out', 'dest');
    const before = await tree(work);

    await expect(extractZipSafely(zipPath, dest, { allowSymlinks: false })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', file: zipPath, message: expect.stringMatching(message) });
    // Not the evil file, and not even the good entries: names are all judged first.
    expect(await tree(work)).toEqual(before);
  });

  it('refuses a symlink entry that leads outside the archive', async () => {
    const work = await mkdtemp(join(tmp, 'link-out-'));
    const zipPath = join(work, 'in.zip');
    await writeReproducibleZip(zipPath, [
      { name: 'a/ok', kind: 'buffer', data: Buffer.from('x') },
      { name: 'a/link', kind: 'symlink', target: '../../outside' },
    ], EPOCH);
    const dest = join(work, 'dest');
    await expect(extractZipSafely(zipPath, dest, { allowSymlinks: true })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', message: expect.stringContaining('a/link: symlink to ../../outside leads outside the archive') });
    await writeReproducibleZip(zipPath, [{ name: 'abs', kind: 'symlink', target: '/etc/passwd' }], EPOCH);
    await expect(extractZipSafely(zipPath, dest, { allowSymlinks: true })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', message: expect.stringContaining('leads outside the archive') });
    expect(await tree(work)).toEqual(['in.zip']);
  });

  it('refuses to overwrite a file already in the destination', async () => {
    const work = await mkdtemp(join(tmp, 'exists-'));
    const zipPath = join(work, 'in.zip');
    await writeReproducibleZip(zipPath, [{ name: 'a.txt', kind: 'buffer', data: Buffer.from('new') }], EPOCH);
    await mkdir(join(work, 'dest'));
    await writeFile(join(work, 'dest', 'a.txt'), 'old');
    await expect(extractZipSafely(zipPath, join(work, 'dest'), { allowSymlinks: false })).rejects.toMatchObject({ code: 'EEXIST' });
    expect(await readFile(join(work, 'dest', 'a.txt'), 'utf8')).toBe('old');
  });
});

describe('readZipDirectory / readZipEntry on broken archives', () => {
  it.each([
    ['not-a-zip.zip', 'ZIP_MALFORMED'],
    ['encrypted-entry.zip', 'ZIP_UNSUPPORTED'],
    ['size-lie.zip', 'ZIP_UNSAFE'],
    ['raw-byte-flip.zip', 'ZIP_MALFORMED'],
  ])('%s → %s', async (fixture, code) => {
    const path = join(TRUST_ZIPS, fixture);
    const buf = await readFile(path);
    const readAll = () => {
      for (const entry of readZipDirectory(buf, path)) readZipEntry(buf, entry, path);
    };
    expect(readAll).toThrow(expect.objectContaining({ code, file: path }));
  });
});
