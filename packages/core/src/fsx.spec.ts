/**
 * relativeInside (PATH_OUTSIDE for anything not strictly inside the root),
 * and the atomic writers: a failed write leaves neither a temporary sibling
 * nor a half-written file, and an earlier file at the path stays as it was.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseError } from './errors';
import { isTempFile, relativeInside, tempSibling, writeFileAtomic, writeStreamAtomic } from './fsx';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'helix-fsx-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('relativeInside', () => {
  const root = '/work/ws/dist/release';
  it.each<[what: string, root: string, child: string, expected: string]>([
    ['a file directly inside', root, '/work/ws/dist/release/SHA256SUMS.txt', 'SHA256SUMS.txt'],
    ['a file in a sub-folder', root, '/work/ws/dist/release/plugins/hello-1.0.0.zip', 'plugins/hello-1.0.0.zip'],
    ['a path with a .. that stays inside', root, '/work/ws/dist/release/plugins/../BUILD_META.txt', 'BUILD_META.txt'],
    ['a name that starts with two dots', root, '/work/ws/dist/release/..hidden', '..hidden'],
    ['a root given with a trailing slash', `${root}/`, '/work/ws/dist/release/a/b.txt', 'a/b.txt'],
  ])('accepts %s', (_what, base, child, expected) => {
    expect(relativeInside(base, child)).toBe(expected);
  });

  it.each<[what: string, child: string, name?: string]>([
    ['the root itself', root],
    ['the root with a trailing slash', `${root}/`],
    ['its parent', '/work/ws/dist'],
    ['a sibling whose name extends the root', '/work/ws/dist/release-old/SHA256SUMS.txt'],
    ['a path climbing out with ..', '/work/ws/dist/release/plugins/../../secret.txt', 'the SBOM'],
    ['an unrelated absolute path', '/etc/passwd', 'a custom stage output'],
    ['a relative path (resolved against the working folder)', 'dist/release/SHA256SUMS.txt'],
  ])('refuses %s with PATH_OUTSIDE', (_what, child, name) => {
    let err: unknown;
    try {
      relativeInside(root, child, name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReleaseError);
    const e = err as ReleaseError;
    expect(e.code).toBe('PATH_OUTSIDE');
    expect(e.file).toBe(child);
    expect(e.message).toBe(`${name ?? 'path'} must be inside ${root}`);
  });
});

/** The names in `folder` that look like a temporary sibling of the atomic writers. */
const temps = async (folder: string) => (await readdir(folder)).filter((f) => /\.tmp-\d+-[0-9a-f]{8}$/.test(f));

describe('writeFileAtomic', () => {
  it('writes the file, creating its folders, and leaves no temporary file', async () => {
    const target = join(dir, 'ok', 'deep', 'file.txt');
    await writeFileAtomic(target, 'hello\n');
    expect(await readFile(target, 'utf8')).toBe('hello\n');
    expect(await readdir(join(dir, 'ok', 'deep'))).toEqual(['file.txt']);
  });

  it('replaces an earlier file as a whole', async () => {
    const target = join(dir, 'replace.txt');
    await writeFile(target, 'old old old old\n');
    await writeFileAtomic(target, Buffer.from('new\n'));
    expect(await readFile(target, 'utf8')).toBe('new\n');
    expect(await temps(dir)).toEqual([]);
  });

  it('fails when the path is a non-empty folder, and removes its temporary file', async () => {
    const folder = join(dir, 'rename-fails');
    const target = join(folder, 'target');
    await mkdir(join(target, 'inside'), { recursive: true });
    await expect(writeFileAtomic(target, 'data')).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await readdir(folder)).toEqual(['target']);
    expect(await readdir(target)).toEqual(['inside']);
  });

  it('fails when a parent is a file, and writes nothing', async () => {
    const folder = join(dir, 'parent-is-file');
    await mkdir(folder);
    await writeFile(join(folder, 'plain'), 'a file\n');
    await expect(writeFileAtomic(join(folder, 'plain', 'child.txt'), 'data')).rejects.toThrow(/EEXIST|ENOTDIR/);
    expect(await readdir(folder)).toEqual(['plain']);
    expect(await readFile(join(folder, 'plain'), 'utf8')).toBe('a file\n');
  });
});

describe('writeStreamAtomic', () => {
  /** A stream that gives `chunks`, then fails. */
  const failingAfter = (chunks: string[]) =>
    new Readable({
      read() {
        const next = chunks.shift();
        if (next !== undefined) this.push(next);
        else this.destroy(new Error('the source broke'));
      },
    });

  it('streams the file and leaves no temporary file', async () => {
    const folder = join(dir, 'stream-ok');
    await writeStreamAtomic(join(folder, 'out.bin'), Readable.from([Buffer.from('one '), Buffer.from('two')]));
    expect(await readFile(join(folder, 'out.bin'), 'utf8')).toBe('one two');
    expect(await readdir(folder)).toEqual(['out.bin']);
  });

  it('fails when the source fails midway: no temporary file, no partial file', async () => {
    const folder = join(dir, 'stream-fails');
    await expect(writeStreamAtomic(join(folder, 'out.bin'), failingAfter(['first chunk ', 'second chunk ']))).rejects.toThrow('the source broke');
    expect(await readdir(folder)).toEqual([]);
  });

  it('keeps an earlier file intact when the source fails', async () => {
    const folder = join(dir, 'stream-keeps');
    await mkdir(folder);
    await writeFile(join(folder, 'out.bin'), 'the earlier, complete file\n');
    await expect(writeStreamAtomic(join(folder, 'out.bin'), failingAfter(['half of a new file']))).rejects.toThrow('the source broke');
    expect(await readFile(join(folder, 'out.bin'), 'utf8')).toBe('the earlier, complete file\n');
    expect(await readdir(folder)).toEqual(['out.bin']);
  });

  it('fails when the path is a non-empty folder, and removes its temporary file', async () => {
    const folder = join(dir, 'stream-rename-fails');
    await mkdir(join(folder, 'target', 'inside'), { recursive: true });
    await expect(writeStreamAtomic(join(folder, 'target'), Readable.from([Buffer.from('data')]))).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(await readdir(folder)).toEqual(['target']);
    expect(await temps(folder)).toEqual([]);
  });
});

describe('tempSibling / isTempFile', () => {
  it('recognises exactly the temporary siblings atomic writes make, at any depth', () => {
    for (const path of ['helix-studio-1.4.0-linux-x86_64.zip', 'plugins/hello-1.0.0.zip', 'SHA256SUMS.txt.asc']) {
      const temp = tempSibling(path);
      expect(temp.startsWith(path.includes('/') ? 'plugins/.' : '.'), temp).toBe(true);
      expect(isTempFile(temp), temp).toBe(true);
      expect(isTempFile(path), path).toBe(false);
    }
    // A file a user named like one, but not made by us, is a stray, not a temp file.
    expect(isTempFile('.notes.tmp-draft')).toBe(false);
  });
});
