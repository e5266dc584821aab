/**
 * The wheels a build installed: one file per package, named and hashed, so
 * provenance can say exactly which distribution of each locked package went
 * into the bundle.
 */
import type { InstalledWheel } from '@helix-release/core';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256File } from '@helix-release/core';
import { PackageError } from './errors';

/** One downloaded wheel (the record's type, shared with provenance through core). */
export type WheelInfo = InstalledWheel;

/** Normalises a distribution name (PEP 503). */
export function normaliseDistName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** Names, versions and digests of the wheels in `dir` (PEP 427 file names). */
export async function describeWheels(dir: string): Promise<WheelInfo[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.whl')).sort();
  return Promise.all(
    files.map(async (file) => {
      const [name, version] = file.split('-');
      if (!name || !version) throw new PackageError('PYINSTALLER_OUTPUT', `cannot read the wheel file name ${file}`, { file: join(dir, file) });
      return { name: normaliseDistName(name), version, file, sha256: await sha256File(join(dir, file)) };
    }),
  );
}

/** The wheels of the packages a requirements file names (markers already applied by pip's download). */
export async function wheelsOf(requirementsFile: string, wheels: readonly WheelInfo[]): Promise<WheelInfo[]> {
  const text = await readFile(requirementsFile, 'utf8');
  const names = new Set(
    [...text.matchAll(/^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==/gm)].map((m) => normaliseDistName(m[1]!)),
  );
  return wheels.filter((w) => names.has(w.name));
}

/**
 * Removes uv's `<dist>.dist-info/uv_cache.json` (and its RECORD line) from
 * every installed distribution. uv writes the wall-clock time of the install
 * into it, and copy_metadata would carry it into the bundle: two builds of one
 * commit would differ in that file alone.
 */
export async function dropInstallerCacheFiles(sitePackages: string): Promise<number> {
  let dropped = 0;
  for (const entry of await readdir(sitePackages)) {
    if (!entry.endsWith('.dist-info')) continue;
    const cacheFile = join(sitePackages, entry, 'uv_cache.json');
    const record = join(sitePackages, entry, 'RECORD');
    let text: string;
    try {
      text = await readFile(record, 'utf8');
    } catch {
      continue;
    }
    const kept = text.split('\n').filter((line) => !line.startsWith(`${entry}/uv_cache.json,`));
    if (kept.length === text.split('\n').length) continue;
    await rm(cacheFile, { force: true });
    await writeFile(record, kept.join('\n'));
    dropped++;
  }
  return dropped;
}
