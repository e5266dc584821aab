/**
 * The release's conformance pack: `conformance.pack` (cases for every app,
 * or for the app a case's `app` file names) merged with each app's own pack
 * (`apps.settings[app].conformance`), whose cases get an `app` file naming
 * that app. The merged pack is what runs and what ships as conformance-pack/,
 * so an end user reruns exactly it. Two packs giving one path different
 * bytes is CONFORMANCE_PACK_CONFLICT, naming both.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { listFiles, type ResolvedConfig } from '@helix-release/core';
import { ConformanceError } from './errors';

/** One pack folder of the workspace, and the app it is for (undefined: the release's pack). */
export interface PackSource {
  dir: string;
  app?: string;
}

/** The packs of the release, from the config: the release's first, then each app's, by app name. */
export function packSources(config: Pick<ResolvedConfig, 'conformance' | 'apps'>): PackSource[] {
  const own = Object.entries(config.apps.settings ?? {})
    .filter(([, s]) => s.conformance !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([app, s]) => ({ dir: s.conformance!, app }));
  return [...(config.conformance ? [{ dir: config.conformance.pack }] : []), ...own];
}

/**
 * Writes the merged pack of `sources` (workspace-relative) into `target`;
 * returns its files, relative to `target`, sorted.
 */
export async function assemblePack(workspaceRoot: string, sources: readonly PackSource[], target: string): Promise<string[]> {
  const from = new Map<string, string>();
  const put = async (rel: string, data: Buffer, origin: string): Promise<void> => {
    const earlier = from.get(rel);
    if (earlier !== undefined) {
      if ((await readFile(join(target, rel))).equals(data)) return;
      throw new ConformanceError('CONFORMANCE_PACK_CONFLICT', `${rel} comes from both ${earlier} and ${origin} with different contents; rename the case (or the fixture) in one of them`, { file: origin });
    }
    await mkdir(dirname(join(target, rel)), { recursive: true });
    await writeFile(join(target, rel), data);
    await chmod(join(target, rel), 0o644);
    from.set(rel, origin);
  };
  for (const source of sources) {
    const dir = join(workspaceRoot, source.dir);
    const files = await listFiles(dir);
    for (const rel of files) {
      const origin = `${source.dir}/${rel}`;
      const appFile = /^cases\/[^/]+\/app$/.test(rel);
      if (source.app !== undefined && appFile) {
        const named = (await readFile(join(dir, rel), 'utf8')).trim();
        if (named !== source.app) throw new ConformanceError('CONFORMANCE_PACK_CONFLICT', `this case of ${source.app}'s own pack names app ${JSON.stringify(named)}; remove its app file, or move it to that app's pack`, { file: origin });
        continue;
      }
      await put(rel, await readFile(join(dir, rel)), origin);
    }
    if (source.app !== undefined) {
      for (const name of new Set(files.filter((f) => f.startsWith('cases/')).map((f) => f.split('/')[1]!))) {
        await put(`cases/${name}/app`, Buffer.from(`${source.app}\n`), `${source.dir}/cases/${name}`);
      }
    }
  }
  return [...from.keys()].sort();
}
