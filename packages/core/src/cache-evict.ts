/**
 * Eviction of a damaged or foreign Nx cache entry. Nx restores a task's
 * outputs from `.nx/cache/<hash>/<output path>` (or NX_CACHE_DIRECTORY) each
 * time the task's inputs hash alike, so a truncated or replaced entry would be
 * restored again on every run and "re-run the release" would never help. When
 * a stage finds a file or record that no stage run of this workspace vouches
 * for, it removes every cache entry holding exactly those bytes at that path:
 * the next run misses the cache and rebuilds.
 */
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

/**
 * Removes the cache entries that hold `file` (a path in the workspace) with
 * exactly its current bytes; returns the entry folders removed (none when the
 * file is gone, outside the workspace, or from no entry).
 */
export async function evictCachedCopies(workspaceRoot: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const rel = relative(workspaceRoot, file);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return [];
  const bad = await readFile(file).then(digest, () => undefined);
  if (bad === undefined) return [];
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
  return evicted;
}

/** {@link evictCachedCopies} for a file of the workspace that holds it (the nearest folder up with nx.json). */
export async function evictCachedCopiesOf(file: string, env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    if (await access(join(dir, 'nx.json')).then(() => true, () => false)) return evictCachedCopies(dir, file, env);
  }
  return [];
}

/** The sentence an error adds after evicting: what was removed, and that the next run rebuilds. */
export function evictionNote(evicted: readonly string[]): string {
  if (!evicted.length) return '';
  return ` (removed the Nx cache ${evicted.length === 1 ? 'entry' : 'entries'} it was restored from, ${evicted.map((e) => e.split(sep).pop()).join(', ')}: the next run rebuilds it)`;
}
