/**
 * The reproducible zip writer. Same inputs, same bytes: under any TZ, umask,
 * locale, checkout folder or directory-listing order.
 *
 * - entries sorted by the UTF-8 bytes of their names;
 * - every timestamp is SOURCE_DATE_EPOCH, written as DOS date/time fields that
 *   hold its UTC calendar fields (yazl formats DOS times in the process's local
 *   zone; we hand it a Date whose local getters answer in UTC), and no
 *   extended-timestamp extra field;
 * - modes are 0644, or 0755 when the owner-execute bit is set in the source,
 *   symlinks 0777; no uid/gid, no other extra field;
 * - every entry goes through the same add method (a lazy read stream), so the
 *   data-descriptor layout never depends on how the content was supplied;
 * - deflate level 9 from Node's zlib (its version is recorded in BUILD_META).
 */
import { createReadStream } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { ZipFile } from 'yazl';
import { ReleaseError } from './errors';
import { checkEntryName, compareBytes } from '@helix-release/format';
import { listFiles, writeStreamAtomic } from './fsx';

/** One entry of a zip to write. */
export type ZipInput =
  | { name: string; kind: 'file'; sourcePath: string; executable: boolean }
  | { name: string; kind: 'buffer'; data: Uint8Array; executable?: boolean }
  | { name: string; kind: 'symlink'; target: string };

const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const DOS_MIN = Date.UTC(1980, 0, 1);
const DOS_MAX = Date.UTC(2107, 11, 31, 23, 59, 58);

/**
 * A Date for yazl whose *local* calendar getters return the UTC fields of
 * `seconds`. yazl's own range clamp compares with local-time bounds, so the
 * carried instant is kept two days inside the range in every zone.
 */
export function dosDateForEpoch(seconds: number): Date {
  const fields = new Date(Math.min(Math.max(seconds * 1000, DOS_MIN), DOS_MAX));
  const carrier = new Date(Math.min(Math.max(seconds * 1000, DOS_MIN + 2 * 86400e3), DOS_MAX - 2 * 86400e3));
  Object.assign(carrier, {
    getFullYear: () => fields.getUTCFullYear(),
    getMonth: () => fields.getUTCMonth(),
    getDate: () => fields.getUTCDate(),
    getHours: () => fields.getUTCHours(),
    getMinutes: () => fields.getUTCMinutes(),
    getSeconds: () => fields.getUTCSeconds(),
  });
  return carrier;
}

/**
 * Validates a set of entries: safe names, no exact or case-only duplicates.
 * Throws ZIP_INPUT_INVALID naming the offending entry.
 */
export function validateZipInputs(entries: readonly ZipInput[], what: string): void {
  const folded = new Map<string, string>();
  for (const entry of entries) {
    const problem = checkEntryName(entry.name);
    if (problem) throw new ReleaseError('ZIP_INPUT_INVALID', `${problem}: ${JSON.stringify(entry.name)}`, { file: what });
    const key = entry.name.toLowerCase();
    const other = folded.get(key);
    if (other !== undefined) {
      const how = other === entry.name ? 'appears twice' : `differs from ${JSON.stringify(other)} only in case`;
      throw new ReleaseError(
        'ZIP_INPUT_INVALID',
        `${JSON.stringify(entry.name)} ${how}; such names collide on Windows and macOS, rename one`,
        { file: what },
      );
    }
    folded.set(key, entry.name);
  }
}

/**
 * Writes a reproducible zip to `outPath` atomically (temporary sibling, then
 * rename). Entries are sorted here; callers may pass them in any order.
 */
export async function writeReproducibleZip(
  outPath: string,
  entries: readonly ZipInput[],
  sourceDateEpoch: number,
): Promise<void> {
  validateZipInputs(entries, outPath);
  const sorted = [...entries].sort((a, b) => compareBytes(a.name, b.name));
  const mtime = dosDateForEpoch(sourceDateEpoch);
  const zip = new ZipFile();
  for (const entry of sorted) {
    let mode: number;
    let open: () => Readable;
    if (entry.kind === 'symlink') {
      mode = S_IFLNK | 0o777;
      const target = Buffer.from(entry.target, 'utf8');
      open = () => Readable.from([target]);
    } else if (entry.kind === 'buffer') {
      mode = S_IFREG | (entry.executable ? 0o755 : 0o644);
      const data = Buffer.from(entry.data);
      open = () => Readable.from([data]);
    } else {
      mode = S_IFREG | (entry.executable ? 0o755 : 0o644);
      const source = entry.sourcePath;
      open = () => createReadStream(source);
    }
    zip.addReadStreamLazy(
      entry.name,
      { mtime, mode, compressionLevel: entry.kind === 'symlink' ? 0 : 9, forceDosTimestamp: true },
      (cb) => cb(null, open()),
    );
  }
  zip.end();
  await writeStreamAtomic(outPath, zip.outputStream);
}

/** What to do with a symlink found in a folder being zipped. */
export type SymlinkPolicy = 'keep' | 'dereference';

/**
 * The entries for zipping a folder: every file below `dir` (names prefixed
 * with `prefix`), executable by the owner-execute bit. A symlink must resolve
 * to a file inside `dir` (else ZIP_UNSAFE); it is stored as a link (`keep`,
 * for application bundles) or as a copy of its target (`dereference`, for
 * plugins, whose format has no links).
 */
export async function collectFolderEntries(
  dir: string,
  options: { prefix?: string; symlinks: SymlinkPolicy; exclude?: (rel: string) => boolean },
): Promise<ZipInput[]> {
  const root = await realpath(dir);
  const out: ZipInput[] = [];
  for (const rel of await listFiles(dir)) {
    if (options.exclude?.(rel)) continue;
    const full = join(dir, rel);
    const info = await lstat(full);
    const name = `${options.prefix ?? ''}${rel}`;
    if (info.isSymbolicLink()) {
      const target = await readlink(full);
      let resolved: string;
      try {
        resolved = await realpath(full);
      } catch {
        throw new ReleaseError('ZIP_UNSAFE', `symlink to ${target} is dangling; remove it or point it at a file`, { file: full });
      }
      const inside = relative(root, resolved);
      if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || isAbsolute(inside)) {
        throw new ReleaseError(
          'ZIP_UNSAFE',
          `symlink to ${target} leads outside ${dir}; replace it with a copy of the file it points to`,
          { file: full },
        );
      }
      if (options.symlinks === 'keep' && !isAbsolute(target)) {
        out.push({ name, kind: 'symlink', target });
        continue;
      }
      const targetInfo = await stat(resolved);
      if (!targetInfo.isFile()) {
        throw new ReleaseError('ZIP_UNSAFE', `symlink to ${target} does not point to a regular file`, { file: full });
      }
      out.push({ name, kind: 'file', sourcePath: resolved, executable: (targetInfo.mode & 0o100) !== 0 });
    } else if (info.isFile()) {
      out.push({ name, kind: 'file', sourcePath: full, executable: (info.mode & 0o100) !== 0 });
    } else {
      throw new ReleaseError('ZIP_UNSAFE', 'neither a regular file nor a symlink (device, socket or FIFO?)', { file: full });
    }
  }
  return out;
}
