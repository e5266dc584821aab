import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { readZipDirectory } from './zip-read';
import { collectFolderEntries, dosDateForEpoch, validateZipInputs, writeReproducibleZip, type ZipInput } from './zip-write';

const run = promisify(execFile);
const REPO_ROOT = resolve(__dirname, '..', '..', '..');
const CHILD = resolve(__dirname, '..', 'testdata', 'zip-writer-child.ts');

/** 2023-11-14T22:13:20Z: already the 15th in Tokyo, still 17:13 in New York. */
const EPOCH = 1_700_000_000;

interface DosStamp {
  name: string;
  /** `YYYY-MM-DD hh:mm:ss` as the DOS fields hold it. */
  central: string;
  local: string;
  centralExtraLength: number;
  localExtraLength: number;
  versionMadeBy: number;
  externalAttributes: number;
}

function dosToText(date: number, time: number): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${(date >> 9) + 1980}-${p((date >> 5) & 0xf)}-${p(date & 0x1f)} ${p(time >> 11)}:${p((time >> 5) & 0x3f)}:${p((time & 0x1f) * 2)}`;
}

/** Our own parse of the DOS date/time fields of every central and local header. */
function dosStamps(buf: Buffer): DosStamp[] {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let pos = buf.readUInt32LE(eocd + 16);
  const out: DosStamp[] = [];
  for (let i = 0; i < count; i++) {
    expect(buf.readUInt32LE(pos)).toBe(0x02014b50);
    const nameLen = buf.readUInt16LE(pos + 28);
    const extraLen = buf.readUInt16LE(pos + 30);
    const commentLen = buf.readUInt16LE(pos + 32);
    const local = buf.readUInt32LE(pos + 42);
    expect(buf.readUInt32LE(local)).toBe(0x04034b50);
    out.push({
      name: buf.subarray(pos + 46, pos + 46 + nameLen).toString('utf8'),
      central: dosToText(buf.readUInt16LE(pos + 14), buf.readUInt16LE(pos + 12)),
      local: dosToText(buf.readUInt16LE(local + 12), buf.readUInt16LE(local + 10)),
      centralExtraLength: extraLen,
      localExtraLength: buf.readUInt16LE(local + 28),
      versionMadeBy: buf.readUInt16LE(pos + 4),
      externalAttributes: buf.readUInt32LE(pos + 38),
    });
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** UTC calendar fields of an epoch, as `YYYY-MM-DD hh:mm:ss` with seconds rounded down to even. */
function utcText(seconds: number): string {
  const d = new Date(seconds * 1000);
  d.setUTCSeconds(d.getUTCSeconds() - (d.getUTCSeconds() % 2));
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

function thrown(fn: () => unknown): { code?: string; message: string; file?: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string; file?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'helix-zip-write-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('writeReproducibleZip', () => {
  it('gives byte-identical output for the same entries in different orders and supplied in different ways', async () => {
    const dir = await mkdtemp(join(tmp, 'order-'));
    await writeFile(join(dir, 'tool.sh'), '#!/bin/sh\n');
    await writeFile(join(dir, 'big.txt'), 'x'.repeat(100_000));
    const entries: ZipInput[] = [
      { name: 'b/tool.sh', kind: 'file', sourcePath: join(dir, 'tool.sh'), executable: true },
      { name: 'a.txt', kind: 'buffer', data: Buffer.from('hello\n') },
      { name: 'B.txt', kind: 'buffer', data: Buffer.from('upper\n') },
      { name: 'b/big.txt', kind: 'file', sourcePath: join(dir, 'big.txt'), executable: false },
      { name: 'b/link', kind: 'symlink', target: 'tool.sh' },
    ];
    const one = join(dir, 'one.zip');
    const two = join(dir, 'two.zip');
    const three = join(dir, 'three.zip');
    await writeReproducibleZip(one, entries, EPOCH);
    await writeReproducibleZip(two, [...entries].reverse(), EPOCH);
    // The same content as a buffer instead of a file gives the same bytes too.
    const asBuffers = entries.map((e): ZipInput => (e.kind === 'file' ? { name: e.name, kind: 'buffer', data: Buffer.from(e.name.endsWith('.sh') ? '#!/bin/sh\n' : 'x'.repeat(100_000)), executable: e.executable } : e));
    await writeReproducibleZip(three, [asBuffers[3]!, asBuffers[0]!, asBuffers[4]!, asBuffers[2]!, asBuffers[1]!], EPOCH);
    const bytes = await readFile(one);
    expect((await readFile(two)).equals(bytes)).toBe(true);
    expect((await readFile(three)).equals(bytes)).toBe(true);
    // Entries are stored sorted by the bytes of their names.
    expect(readZipDirectory(bytes, one).map((e) => e.name)).toEqual(['B.txt', 'a.txt', 'b/big.txt', 'b/link', 'b/tool.sh']);

    // And the comparison can fail: another epoch or another content gives other bytes.
    await writeReproducibleZip(two, entries, EPOCH + 2);
    expect((await readFile(two)).equals(bytes)).toBe(false);
    await writeReproducibleZip(two, [...entries.slice(0, 1), { name: 'a.txt', kind: 'buffer', data: Buffer.from('hellO\n') }, ...entries.slice(2)], EPOCH);
    expect((await readFile(two)).equals(bytes)).toBe(false);
  });

  it('writes no extra fields, Unix "made by", and every DOS stamp holds the UTC fields of the epoch', async () => {
    const out = join(tmp, 'stamps.zip');
    await writeReproducibleZip(out, [{ name: 'a', kind: 'buffer', data: Buffer.from('a') }, { name: 'l', kind: 'symlink', target: 'a' }], EPOCH);
    const stamps = dosStamps(await readFile(out));
    expect(stamps).toHaveLength(2);
    for (const s of stamps) {
      expect(s).toMatchObject({ central: '2023-11-14 22:13:20', local: '2023-11-14 22:13:20', centralExtraLength: 0, localExtraLength: 0 });
      expect(s.versionMadeBy >> 8).toBe(3);
    }
  });

  it('writes modes 0644/0755 by the owner-execute bit, and symlinks as 0777 links', async () => {
    const dir = await mkdtemp(join(tmp, 'modes-'));
    const modes: [name: string, onDisk: number, inZip: number][] = [
      ['owner-rwx', 0o700, 0o100755],
      ['owner-rx', 0o500, 0o100755],
      ['all-rwx', 0o777, 0o100755],
      ['owner-exec-only-bit', 0o744, 0o100755],
      ['group-exec-only', 0o654, 0o100644],
      ['other-exec-only', 0o645, 0o100644],
      ['private', 0o600, 0o100644],
      ['plain', 0o644, 0o100644],
      ['world-writable', 0o666, 0o100644],
    ];
    const src = join(dir, 'src');
    await mkdir(src);
    for (const [name, mode] of modes) {
      await writeFile(join(src, name), name);
      await chmod(join(src, name), mode);
    }
    await symlink('plain', join(src, 'link'));
    const out = join(dir, 'modes.zip');
    await writeReproducibleZip(out, await collectFolderEntries(src, { symlinks: 'keep' }), EPOCH);
    const buf = await readFile(out);
    const byName = new Map(readZipDirectory(buf, out).map((e) => [e.name, e]));
    for (const [name, , inZip] of modes) expect(byName.get(name)?.unixMode?.toString(8), name).toBe(inZip.toString(8));
    expect(byName.get('link')).toMatchObject({ unixMode: 0o120777, isSymlink: true });
    // Buffers: executable flag decides, default 0644.
    const out2 = join(dir, 'buffers.zip');
    await writeReproducibleZip(out2, [{ name: 'x', kind: 'buffer', data: Buffer.from('x'), executable: true }, { name: 'y', kind: 'buffer', data: Buffer.from('y') }], EPOCH);
    expect(readZipDirectory(await readFile(out2), out2).map((e) => e.unixMode)).toEqual([0o100755, 0o100644]);
  });

  it('refuses bad entries before writing anything', async () => {
    const out = join(tmp, 'never.zip');
    await expect(writeReproducibleZip(out, [{ name: '../x', kind: 'buffer', data: Buffer.from('x') }], EPOCH)).rejects.toMatchObject({ code: 'ZIP_INPUT_INVALID', file: out });
    await expect(readFile(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('writeReproducibleZip under different TZ and umask (child processes)', () => {
  const runs = [
    { tz: 'UTC', umask: '022', order: 'forward', expectModes: { 'README.md': '644', 'bin/run.sh': '755' } },
    { tz: 'Asia/Tokyo', umask: '077', order: 'reverse', expectModes: { 'README.md': '600', 'bin/run.sh': '700' } },
    { tz: 'America/New_York', umask: '027', order: 'reverse', expectModes: { 'README.md': '640', 'bin/run.sh': '750' } },
  ];

  it('gives the same bytes, with the UTC DOS fields, in every run', async () => {
    const results = await Promise.all(
      runs.map(async (r) => {
        const work = await mkdtemp(join(tmp, `child-${r.umask}-`));
        const out = join(work, 'out.zip');
        const { stdout } = await run('sh', ['-c', `umask ${r.umask} && exec node -r @swc-node/register "$0" "$@"`, CHILD, work, out, String(EPOCH), r.order], {
          cwd: REPO_ROOT,
          env: { ...process.env, TZ: r.tz },
        });
        return { run: r, report: JSON.parse(stdout) as { tz: string; modes: Record<string, string> }, bytes: await readFile(out), out };
      }),
    );
    for (const { run: r, report } of results) {
      // The runs really differed: the zone and the on-disk modes are what we set.
      expect(report.tz).toBe(r.tz);
      expect(report.modes).toMatchObject(r.expectModes);
    }
    const [first, ...others] = results;
    for (const other of others) expect(other.bytes.equals(first!.bytes), `${other.run.tz} umask ${other.run.umask}`).toBe(true);

    const entries = readZipDirectory(first!.bytes, first!.out);
    expect(entries.map((e) => [e.name, e.unixMode?.toString(8)])).toEqual([
      ['app/README.md', '100644'],
      ['app/Z-upper.txt', '100644'],
      ['app/bin/run.sh', '100755'],
      ['app/data/empty', '100644'],
      ['app/data/readme-link', '120777'],
      ['app/data/ä-unicode.txt', '100644'],
    ]);
    for (const stamp of dosStamps(first!.bytes)) {
      expect(stamp.central).toBe('2023-11-14 22:13:20');
      expect(stamp.local).toBe('2023-11-14 22:13:20');
    }
  });

  it('reads back as the UTC fields with zipinfo too, whatever its TZ', async () => {
    const out = join(tmp, 'zipinfo.zip');
    await writeReproducibleZip(out, [{ name: 'a.txt', kind: 'buffer', data: Buffer.from('a') }], EPOCH);
    for (const tz of ['UTC', 'Asia/Tokyo', 'America/New_York']) {
      const { stdout } = await run('zipinfo', ['-T', out, 'a.txt'], { env: { ...process.env, TZ: tz } });
      expect(stdout, tz).toMatch(/ 20231114\.221320 a\.txt/);
    }
  });
});

describe('dosDateForEpoch', () => {
  // In this process too, a zone far from UTC (Node applies a TZ change at once).
  let savedTz: string | undefined;
  beforeAll(() => {
    savedTz = process.env['TZ'];
    process.env['TZ'] = 'Pacific/Kiritimati'; // UTC+14
    expect(new Date(EPOCH * 1000).getHours()).not.toBe(new Date(EPOCH * 1000).getUTCHours());
  });
  afterAll(() => {
    if (savedTz === undefined) delete process.env['TZ'];
    else process.env['TZ'] = savedTz;
  });

  it.each([
    ['the epoch of the tests', EPOCH],
    ['a leap day near midnight', Date.UTC(2024, 1, 29, 23, 59, 59) / 1000],
    ['new year in UTC', Date.UTC(2026, 0, 1, 0, 0, 0) / 1000],
    ['the first DOS day plus 1s', Date.UTC(1980, 0, 1, 0, 0, 1) / 1000],
  ])('gives the UTC fields in its local getters: %s', (_what, seconds) => {
    const d = dosDateForEpoch(seconds);
    const u = new Date(seconds * 1000);
    expect([d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]).toEqual([
      u.getUTCFullYear(), u.getUTCMonth(), u.getUTCDate(), u.getUTCHours(), u.getUTCMinutes(), u.getUTCSeconds(),
    ]);
  });

  it.each([
    ['an odd second is rounded down to even', Date.UTC(2024, 1, 29, 23, 59, 59) / 1000, '2024-02-29 23:59:58'],
    ['before 1980 clamps to the first DOS time', 0, '1980-01-01 00:00:00'],
    ['just before 1980 clamps too', Date.UTC(1979, 11, 31, 23, 59, 59) / 1000, '1980-01-01 00:00:00'],
    ['after 2107 clamps to the last DOS time', Date.UTC(2200, 0, 1) / 1000, '2107-12-31 23:59:58'],
    ['a plain time', EPOCH + 1, utcText(EPOCH + 1)],
  ])('in a zip: %s', async (_what, seconds, expected) => {
    const out = join(tmp, `dos-${seconds}.zip`);
    await writeReproducibleZip(out, [{ name: 'a', kind: 'buffer', data: Buffer.from('a') }], seconds);
    const [stamp] = dosStamps(await readFile(out));
    expect(stamp).toMatchObject({ central: expected, local: expected });
  });
});

describe('validateZipInputs', () => {
  const buf = (name: string): ZipInput => ({ name, kind: 'buffer', data: Buffer.from('x') });
  it.each([
    ['../x', [buf('../x')], /name contains '\.\.': "\.\.\/x"/],
    ['a/../../x', [buf('a/../../x')], /name contains '\.\.'/],
    ['/abs', [buf('/abs')], /absolute name: "\/abs"/],
    ['a\\b', [buf('a\\b')], /backslash, colon or NUL in the name: "a\\\\b"/],
    ['C:x', [buf('C:x')], /backslash, colon or NUL/],
    ['a//b', [buf('a//b')], /empty or '\.' component/],
    ['./a', [buf('./a')], /empty or '\.' component/],
    ['empty', [buf('')], /empty entry name/],
    ['A.txt + a.txt', [buf('A.txt'), buf('a.txt')], /"a\.txt" differs from "A\.txt" only in case; such names collide on Windows and macOS, rename one/],
    ['twice', [buf('a.txt'), buf('a.txt')], /"a\.txt" appears twice/],
  ])('refuses %s with ZIP_INPUT_INVALID', (_what, entries, message) => {
    const err = thrown(() => validateZipInputs(entries, 'dist/release/x.zip'));
    expect(err.code).toBe('ZIP_INPUT_INVALID');
    expect(err.file).toBe('dist/release/x.zip');
    expect(err.message).toMatch(message);
  });

  it('accepts safe, distinct names', () => {
    expect(() => validateZipInputs([buf('a.txt'), buf('dir/a.txt'), buf('ä/ß.txt'), buf('.hidden')], 'x.zip')).not.toThrow();
  });
});

describe('collectFolderEntries and symlinks', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await mkdtemp(join(tmp, 'links-'));
    dir = join(base, 'plugin');
    await mkdir(join(dir, 'sub'), { recursive: true });
    await writeFile(join(base, 'secret.txt'), 'outside');
    await writeFile(join(dir, 'target.py'), 'print(1)\n');
    await chmod(join(dir, 'target.py'), 0o755);
    await writeFile(join(dir, 'sub', 'data.txt'), 'data');
  });

  async function withLink(name: string, target: string, fn: () => Promise<void>): Promise<void> {
    await symlink(target, join(dir, name));
    try {
      await fn();
    } finally {
      await rm(join(dir, name), { force: true });
    }
  }

  it('lists regular files, prefixed and executable by the owner bit', async () => {
    expect(await collectFolderEntries(dir, { prefix: 'p/', symlinks: 'dereference' })).toEqual([
      { name: 'p/sub/data.txt', kind: 'file', sourcePath: join(dir, 'sub', 'data.txt'), executable: false },
      { name: 'p/target.py', kind: 'file', sourcePath: join(dir, 'target.py'), executable: true },
    ]);
  });

  it('refuses a symlink leading outside the folder (relative or absolute), naming it', async () => {
    for (const target of ['../secret.txt', join(base, 'secret.txt')]) {
      await withLink('escape', target, async () => {
        for (const symlinks of ['keep', 'dereference'] as const) {
          await expect(collectFolderEntries(dir, { symlinks })).rejects.toMatchObject({
            code: 'ZIP_UNSAFE',
            file: join(dir, 'escape'),
            message: expect.stringContaining(`symlink to ${target} leads outside ${dir}`),
          });
        }
      });
    }
  });

  it('dereferences an inside symlink with symlinks: "dereference", keeping the target\'s mode', async () => {
    await withLink('alias.py', 'target.py', async () => {
      const entries = await collectFolderEntries(dir, { symlinks: 'dereference' });
      expect(entries.find((e) => e.name === 'alias.py')).toEqual({ name: 'alias.py', kind: 'file', sourcePath: join(await realpath(dir), 'target.py'), executable: true });
      const out = join(base, 'deref.zip');
      await writeReproducibleZip(out, entries, EPOCH);
      const zip = readZipDirectory(await readFile(out), out);
      expect(zip.find((e) => e.name === 'alias.py')).toMatchObject({ isSymlink: false, unixMode: 0o100755, uncompressedSize: 'print(1)\n'.length });
    });
  });

  it('keeps an inside relative symlink as a link with symlinks: "keep"', async () => {
    await withLink('sub/link.txt', 'data.txt', async () => {
      const entries = await collectFolderEntries(dir, { symlinks: 'keep' });
      expect(entries.find((e) => e.name === 'sub/link.txt')).toEqual({ name: 'sub/link.txt', kind: 'symlink', target: 'data.txt' });
    });
  });

  it('refuses a dangling symlink and a symlink to a folder (when dereferencing)', async () => {
    await withLink('dangling', 'nope.txt', async () => {
      await expect(collectFolderEntries(dir, { symlinks: 'dereference' })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', message: expect.stringContaining('dangling') });
    });
    await withLink('subdir-link', 'sub', async () => {
      await expect(collectFolderEntries(dir, { symlinks: 'dereference' })).rejects.toMatchObject({ code: 'ZIP_UNSAFE', message: expect.stringContaining('does not point to a regular file') });
    });
  });

  it('honours exclude', async () => {
    expect((await collectFolderEntries(dir, { symlinks: 'keep', exclude: (rel) => rel.startsWith('sub/') })).map((e) => e.name)).toEqual(['target.py']);
  });
});
