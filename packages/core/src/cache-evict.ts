/**
 * Eviction of a damaged or foreign Nx cache entry. Nx restores a task's
 * outputs from `.nx/cache/<hash>/<output path>` (or NX_CACHE_DIRECTORY) each
 * time the task's inputs hash alike, so a truncated or replaced entry would be
 * restored again on every run and "re-run the release" would never help. When
 * a stage finds a file or record that no stage run of this workspace vouches
 * for, it removes every cache entry holding exactly those bytes at that path,
 * both its folder and its row in Nx's cache database (Nx 22 takes a row whose
 * folder is gone for a hit that restores nothing, and says "Successfully
 * ran"): the next run misses the cache and rebuilds.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, readdir, readFile, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';

/** The Nx cache folder of a workspace. */
export function nxCacheDir(workspaceRoot: string, env: NodeJS.ProcessEnv = process.env): string {
  const configured = env['NX_CACHE_DIRECTORY'];
  if (configured) return isAbsolute(configured) ? configured : join(workspaceRoot, configured);
  return join(workspaceRoot, '.nx', 'cache');
}

const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** Nx's workspace data folder, which holds its cache database (`*.db`). */
function workspaceDataDir(workspaceRoot: string, env: NodeJS.ProcessEnv): string {
  const configured = env['NX_WORKSPACE_DATA_DIRECTORY'];
  if (configured) return isAbsolute(configured) ? configured : join(workspaceRoot, configured);
  return join(workspaceRoot, '.nx', 'workspace-data');
}

// Node 20 has no SQLite; Python's standard library has. A busy timeout waits out Nx's own writes.
const FORGET_ROWS = `
import glob, os, sqlite3, sys
for db in glob.glob(os.path.join(sys.argv[1], "*.db")):
    connection = sqlite3.connect(db, timeout=30)
    try:
        tables = {row[0] for row in connection.execute("select name from sqlite_master where type = 'table'")}
        if "cache_outputs" in tables:
            connection.executemany("delete from cache_outputs where hash = ?", [(h,) for h in sys.argv[2:]])
            connection.commit()
    finally:
        connection.close()
`;

/** Removes the cache database rows of `hashes`; false when that could not be done (no python3, a locked database). */
function forgetRows(workspaceRoot: string, hashes: readonly string[], env: NodeJS.ProcessEnv): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(env['HELIX_PYTHON'] ?? 'python3', ['-c', FORGET_ROWS, workspaceDataDir(workspaceRoot, env), ...hashes], { timeout: 60_000 }, (err) => resolve(!err));
  });
}

/** What an eviction removed: the entry folders, and whether Nx's rows of them went too. */
export interface Eviction {
  entries: string[];
  /** False when the rows stayed (Nx would take them for hits that restore nothing). */
  forgotten: boolean;
}

/**
 * Removes the cache entries that hold `file` (a path in the workspace) with
 * exactly its current bytes (none when the file is gone, outside the
 * workspace, or from no entry).
 */
export async function evictCachedCopies(workspaceRoot: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<Eviction> {
  const none: Eviction = { entries: [], forgotten: true };
  const rel = relative(workspaceRoot, file);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return none;
  const bad = await readFile(file).then(digest, () => undefined);
  if (bad === undefined) return none;
  const cache = nxCacheDir(workspaceRoot, env);
  const evicted: string[] = [];
  for (const entry of await readdir(cache, { withFileTypes: true }).catch(() => [])) {
    if (!entry.isDirectory()) continue;
    const copy = join(cache, entry.name, ...rel.split(sep));
    const held = await readFile(copy).then(digest, () => undefined);
    if (held !== bad) continue;
    await rm(join(cache, entry.name), { recursive: true, force: true });
    evicted.push(join(cache, entry.name));
  }
  const forgotten = evicted.length === 0 || (await forgetRows(workspaceRoot, evicted.map((e) => e.split(sep).pop()!), env));
  return { entries: evicted, forgotten };
}

/** {@link evictCachedCopies} for a file of the workspace that holds it (the nearest folder up with nx.json). */
export async function evictCachedCopiesOf(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Eviction> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (await access(join(dir, 'nx.json')).then(() => true, () => false)) return evictCachedCopies(dir, file, env);
  }
  return { entries: [], forgotten: true };
}

/** The sentence an error adds after evicting: what was removed, and that the next run rebuilds (or, if Nx's rows stayed, to reset). */
export function evictionNote({ entries: evicted, forgotten }: Eviction): string {
  if (!evicted.length) return '';
  const names = evicted.map((e) => e.split(sep).pop()).join(', ');
  const entries = `Nx cache ${evicted.length === 1 ? 'entry' : 'entries'}`;
  if (!forgotten) return ` (removed the ${entries} it was restored from, ${names}, but not Nx's record of it: run \`npx nx reset\` first)`;
  return ` (removed the ${entries} it was restored from, ${names}: the next run rebuilds it)`;
}
