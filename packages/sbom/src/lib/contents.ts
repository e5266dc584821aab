/**
 * The inputs of enrichSpdx that come from outside the document: the files of
 * an artifact's zip (names, digests, the bytes of RECORDs and bundled SBOMs)
 * and, for each bundled native library, the OS package of the build host
 * that owns a byte-identical file (dpkg). The lookup is deterministic (one
 * answer per library, candidates in path order) and never fails: where there
 * is no dpkg, or it does not know the file, the library has no OS origin.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFile, realpath } from 'node:fs/promises';
import { readOsRelease, readZipDirectory, readZipEntry } from '@helix-release/core';
import { isSharedLibrary, type OsOrigin, type ZipContentFile } from './enrich';

/** The regular files of a zip, with their digests; undefined when the artifact is not a readable zip. */
export async function zipContents(file: string): Promise<ZipContentFile[] | undefined> {
  if (!file.endsWith('.zip')) return undefined;
  const buf = await readFile(file);
  let entries;
  try {
    entries = readZipDirectory(buf, file);
  } catch {
    return undefined;
  }
  return entries
    .filter((e) => !e.isDirectory && !e.isSymlink)
    .map((e) => {
      const bytes = readZipEntry(buf, e, file);
      return {
        name: e.name,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        sha1: createHash('sha1').update(bytes).digest('hex'),
        executable: ((e.unixMode ?? 0) & 0o111) !== 0,
        read: () => bytes,
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Runs a command; its stdout, or undefined when it is missing or fails. */
function tryRun(command: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(command, [...args], { encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', LC_ALL: 'C' }, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

/** `pkg:arch, other: /path` lines of `dpkg -S`, as (package, path) pairs. */
export function parseDpkgSearch(out: string): { pkg: string; path: string }[] {
  const pairs: { pkg: string; path: string }[] = [];
  for (const line of out.split('\n')) {
    const m = /^([^:][^ ]*(?:, [^ ]+)*): (\/.*)$/.exec(line.trim());
    if (!m || line.startsWith('diversion ')) continue;
    for (const pkg of m[1]!.split(', ')) pairs.push({ pkg: pkg.trim(), path: m[2]! });
  }
  return pairs.sort((a, b) => (a.path === b.path ? (a.pkg < b.pkg ? -1 : 1) : a.path < b.path ? -1 : 1));
}

/** The distribution id of the host (`/etc/os-release` ID), `debian` when unknown. */
async function distro(): Promise<string> {
  const { id } = await readOsRelease();
  return /^[a-z0-9._-]+$/.test(id) && id !== 'unknown' ? id : 'debian';
}

/**
 * The OS package that owns a byte-identical copy of each bundled shared
 * library, by the library's sha256 (libraries dpkg does not know are absent).
 */
export async function osOrigins(files: readonly ZipContentFile[]): Promise<Map<string, OsOrigin>> {
  const out = new Map<string, OsOrigin>();
  const libs = files.filter((f) => isSharedLibrary(f.name));
  if (!libs.length || (await tryRun('dpkg-query', ['--version'])) === undefined) return out;
  const dist = await distro();
  const digests = new Map<string, string | undefined>();
  const sha256Of = async (path: string) => {
    if (!digests.has(path)) digests.set(path, await readFile(await realpath(path)).then((b) => createHash('sha256').update(b).digest('hex'), () => undefined));
    return digests.get(path);
  };
  for (const lib of libs) {
    if (out.has(lib.sha256)) continue;
    const base = lib.name.split('/').pop()!;
    const found = parseDpkgSearch((await tryRun('dpkg', ['-S', base])) ?? '').filter((c) => c.path.split('/').pop() === base);
    for (const candidate of found) {
      if ((await sha256Of(candidate.path)) !== lib.sha256) continue;
      const info = await tryRun('dpkg-query', ['-W', '-f=${Version}\\t${Architecture}\\t${Maintainer}', candidate.pkg]);
      const [version, arch, maintainer] = (info ?? '').split('\t');
      if (!version || !arch) continue;
      out.set(lib.sha256, { name: candidate.pkg.replace(/:[^:]+$/, ''), version, arch, distro: dist, maintainer: maintainer?.trim() || undefined, hostPath: candidate.path });
      break;
    }
  }
  return out;
}
