import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evictCachedCopies, evictCachedCopiesOf, evictionNote, nxCacheDir } from './cache-evict';

let ws: string;
const put = async (rel: string, data: string) => {
  await mkdir(dirname(join(ws, rel)), { recursive: true });
  await writeFile(join(ws, rel), data);
};
beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-evict-'));
  await put('nx.json', '{}');
  await put('dist/release/app.zip', 'truncated');
  await put('.nx/cache/111/dist/release/app.zip', 'truncated'); // the entry it was restored from
  await put('.nx/cache/111/dist/manifest/app/package.json', '{}');
  await put('.nx/cache/222/dist/release/app.zip', 'the whole zip'); // another commit's good entry
  await put('.nx/cache/333/dist/release/other.zip', 'truncated'); // same bytes, another path
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

/** A cache database as Nx 22 keeps one, with a row per entry. */
const makeDb = (hashes: string[]) =>
  execFileSync('python3', ['-c', 'import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.execute("create table cache_outputs (hash text primary key, code integer)"); c.executemany("insert into cache_outputs values (?, 0)", [(h,) for h in sys.argv[2:]]); c.commit()', join(ws, '.nx/workspace-data/cache-v2.db'), ...hashes]);
const rows = () => execFileSync('python3', ['-c', 'import sqlite3, sys; print(",".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("select hash from cache_outputs order by hash")))', join(ws, '.nx/workspace-data/cache-v2.db')], { encoding: 'utf8' }).trim();

describe('evictCachedCopies', () => {
  it("also forgets the entry in Nx's cache database, which would otherwise be a hit that restores nothing", async () => {
    await mkdir(join(ws, '.nx/workspace-data'), { recursive: true });
    makeDb(['111', '222', '333']);
    expect((await evictCachedCopies(ws, join(ws, 'dist/release/app.zip'))).entries).toEqual([join(ws, '.nx/cache/111')]);
    expect(rows()).toBe('222,333');
  });

  it('says to reset Nx when its database could not be changed', async () => {
    const evicted = await evictCachedCopies(ws, join(ws, 'dist/release/app.zip'), { HELIX_PYTHON: join(ws, 'no-python') });
    expect(evictionNote(evicted)).toBe(" (removed the Nx cache entry it was restored from, 111, but not Nx's record of it: run `npx nx reset` first)");
  });

  it('removes the entries holding exactly these bytes at this path, and no other', async () => {
    const evicted = await evictCachedCopies(ws, join(ws, 'dist/release/app.zip'));
    expect(evicted.entries).toEqual([join(ws, '.nx/cache/111')]);
    expect(existsSync(join(ws, '.nx/cache/111'))).toBe(false);
    expect(existsSync(join(ws, '.nx/cache/222/dist/release/app.zip'))).toBe(true);
    expect(existsSync(join(ws, '.nx/cache/333/dist/release/other.zip'))).toBe(true);
    expect(evictionNote(evicted)).toBe(' (removed the Nx cache entry it was restored from, 111: the next run rebuilds it)');
  });

  it('finds the workspace from the file, and follows NX_CACHE_DIRECTORY', async () => {
    await put('elsewhere/444/dist/release/app.zip', 'truncated');
    expect(nxCacheDir(ws, { NX_CACHE_DIRECTORY: 'elsewhere' })).toBe(join(ws, 'elsewhere'));
    expect((await evictCachedCopiesOf(join(ws, 'dist/release/app.zip'), { NX_CACHE_DIRECTORY: 'elsewhere' })).entries).toEqual([join(ws, 'elsewhere/444')]);
    expect(existsSync(join(ws, '.nx/cache/111'))).toBe(true);
  });

  it('removes nothing for a file that is gone, outside the workspace, or in no entry', async () => {
    expect((await evictCachedCopies(ws, join(ws, 'dist/release/missing.zip'))).entries).toEqual([]);
    expect((await evictCachedCopies(ws, join(tmpdir(), 'not-in-the-workspace'))).entries).toEqual([]);
    await put('dist/release/fresh.zip', 'built here');
    expect((await evictCachedCopies(ws, join(ws, 'dist/release/fresh.zip'))).entries).toEqual([]);
    expect(evictionNote({ entries: [], forgotten: true })).toBe('');
  });
});
