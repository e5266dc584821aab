/**
 * A strict zip reader for archives held in memory. It reads the central
 * directory itself (raw names, modes, declared sizes) so that verifiers can
 * judge every entry before a single byte is extracted, and it checks CRC-32
 * and declared sizes on every read.
 *
 * Supported: stored and deflated entries, no encryption, no ZIP64 (the
 * release's zips stay far below 4 GiB; a larger one is reported as such).
 */
import { constants as zlibConstants, crc32, inflateRawSync } from 'node:zlib';
import { lstat, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ReleaseError } from './errors';
import { checkEntryName } from '@helix-release/format';

/** One central-directory record. */
export interface ZipEntryInfo {
  /** Decoded name (UTF-8 when flagged; otherwise only ASCII is accepted). */
  name: string;
  /** The name's bytes as the central directory holds them. */
  rawName: Buffer;
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  versionMadeBy: number;
  externalAttributes: number;
  /** The Unix mode when the entry was made on Unix (version made by 3), else undefined. */
  unixMode: number | undefined;
  isSymlink: boolean;
  isDirectory: boolean;
}

const EOCD_SIG = 0x06054b50;
const CDIR_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;

function malformed(what: string, why: string): ReleaseError {
  return new ReleaseError('ZIP_MALFORMED', `not a readable zip: ${why}`, { file: what });
}

/** The offset of the end-of-central-directory record (the last one with room for its 22 bytes), or -1. */
function findEndRecord(buf: Buffer): number {
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) if (buf.readUInt32LE(i) === EOCD_SIG) return i;
  return -1;
}

/** Parses the central directory of `buf`. `what` names the archive in errors. */
export function readZipDirectory(buf: Buffer, what: string): ZipEntryInfo[] {
  const eocd = findEndRecord(buf);
  if (eocd < 0) throw malformed(what, 'no end-of-central-directory record');
  const disk = buf.readUInt16LE(eocd + 4);
  const cdDisk = buf.readUInt16LE(eocd + 6);
  const countHere = buf.readUInt16LE(eocd + 8);
  const count = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    throw new ReleaseError('ZIP_UNSUPPORTED', 'ZIP64 archives are not supported', { file: what });
  }
  if (disk !== 0 || cdDisk !== 0 || countHere !== count) throw malformed(what, 'multi-disk archives are not supported');
  if (cdOffset + cdSize > eocd) throw malformed(what, 'central directory runs past its end record');
  const entries: ZipEntryInfo[] = [];
  let pos = cdOffset;
  for (let i = 0; i < count; i++) {
    if (pos + 46 > eocd || buf.readUInt32LE(pos) !== CDIR_SIG) throw malformed(what, `central directory record ${i} is corrupt`);
    const versionMadeBy = buf.readUInt16LE(pos + 4);
    const flags = buf.readUInt16LE(pos + 8);
    const method = buf.readUInt16LE(pos + 10);
    const crc = buf.readUInt32LE(pos + 16);
    const compressedSize = buf.readUInt32LE(pos + 20);
    const uncompressedSize = buf.readUInt32LE(pos + 24);
    const nameLen = buf.readUInt16LE(pos + 28);
    const extraLen = buf.readUInt16LE(pos + 30);
    const commentLen = buf.readUInt16LE(pos + 32);
    const externalAttributes = buf.readUInt32LE(pos + 38);
    const localHeaderOffset = buf.readUInt32LE(pos + 42);
    if (pos + 46 + nameLen + extraLen + commentLen > eocd) throw malformed(what, `central directory record ${i} is truncated`);
    const rawName = buf.subarray(pos + 46, pos + 46 + nameLen);
    let name: string;
    if (flags & 0x800) {
      // ignoreBOM: a leading U+FEFF is part of the name, not a byte-order mark to drop.
      name = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(rawName);
    } else if (rawName.every((b) => b < 0x80)) {
      name = rawName.toString('latin1');
    } else {
      throw malformed(what, `entry ${i} has a non-ASCII name without the UTF-8 flag`);
    }
    if (compressedSize === 0xffffffff || uncompressedSize === 0xffffffff || localHeaderOffset === 0xffffffff) {
      throw new ReleaseError('ZIP_UNSUPPORTED', `${name}: ZIP64 entries are not supported`, { file: what });
    }
    const unix = versionMadeBy >> 8 === 3;
    const unixMode = unix ? externalAttributes >>> 16 : undefined;
    entries.push({
      name,
      rawName,
      method,
      flags,
      crc32: crc,
      compressedSize,
      uncompressedSize,
      localHeaderOffset,
      versionMadeBy,
      externalAttributes,
      unixMode,
      isSymlink: unixMode !== undefined && (unixMode & 0o170000) === 0o120000,
      isDirectory: name.endsWith('/'),
    });
    pos += 46 + nameLen + extraLen + commentLen;
  }
  // The directory is exactly its records, right before its end record: nothing a
  // reader that scans for records (or looks for a ZIP64 record there) would see otherwise.
  if (pos !== cdOffset + cdSize) throw malformed(what, `the central directory holds other bytes than its ${count} records (more entries than the end record counts?)`);
  if (pos !== eocd) throw malformed(what, 'bytes between the central directory and its end record (a ZIP64 record, or hidden entries)');
  return entries;
}

/** A way other zip readers could see other entries: `special` when it is a link or special-file mode. */
export interface ZipLayoutProblem {
  entry?: string;
  reason: string;
  special: boolean;
}

/**
 * Why other zip readers could see other entries than the central directory
 * lists, or undefined. Each entry's local header must agree with its central
 * record (name bytes, flags, method; CRC-32 and sizes, or zeros and a data
 * descriptor that agrees); the entries must tile the bytes before the
 * directory, in order, from offset 0 (no prefix, gap or overlap); and no mode
 * may name anything but a regular file or a folder, whatever host made it
 * (some extractors read Unix modes under other hosts too). Written for
 * hostile plugins; the Python verifiers make the same checks in the same order.
 */
export function zipLayoutProblem(buf: Buffer, entries: readonly ZipEntryInfo[], directoryOffset: number): ZipLayoutProblem | undefined {
  let expected = 0;
  for (const entry of [...entries].sort((a, b) => a.localHeaderOffset - b.localHeaderOffset)) {
    const at = entry.localHeaderOffset;
    const name = JSON.stringify(entry.name);
    const fault = (reason: string, special = false): ZipLayoutProblem => ({ entry: entry.name, reason: `${name}: ${reason}`, special });
    if (at !== expected) return fault(`starts at byte ${at}, not ${expected} (data before it, or entries that overlap)`);
    if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_SIG) return fault(`bad local header`);
    const [flags, method, crc, compressed, size, nameLen, extraLen] = [buf.readUInt16LE(at + 6), buf.readUInt16LE(at + 8), buf.readUInt32LE(at + 14), buf.readUInt32LE(at + 18), buf.readUInt32LE(at + 22), buf.readUInt16LE(at + 26), buf.readUInt16LE(at + 28)];
    if (!buf.subarray(at + 30, at + 30 + nameLen).equals(entry.rawName)) return fault(`its local header names it otherwise`);
    if (flags !== entry.flags || method !== entry.method) return fault(`its local header has other flags or another method`);
    let end = at + 30 + nameLen + extraLen + entry.compressedSize;
    const agrees = (c: number, z: number, u: number) => c === entry.crc32 && z === entry.compressedSize && u === entry.uncompressedSize;
    if (flags & 0x8) {
      if (!(agrees(crc, compressed, size) || (crc === 0 && compressed === 0 && size === 0))) return fault(`its local header has another CRC-32 or size`);
      const signed = end + 4 <= buf.length && buf.readUInt32LE(end) === 0x08074b50 ? 4 : 0;
      if (end + signed + 12 > buf.length || !agrees(buf.readUInt32LE(end + signed), buf.readUInt32LE(end + signed + 4), buf.readUInt32LE(end + signed + 8))) return fault(`its data descriptor has another CRC-32 or size`);
      end += signed + 12;
    } else if (!agrees(crc, compressed, size)) {
      return fault(`its local header has another CRC-32 or size`);
    }
    const type = (entry.externalAttributes >>> 16) & 0o170000;
    if (type !== 0 && type !== 0o100000 && type !== 0o040000) return fault(`mode ${(entry.externalAttributes >>> 16).toString(8)} is a link or special file`, true);
    expected = end;
  }
  if (expected !== directoryOffset) return { reason: `bytes ${expected} to ${directoryOffset} belong to no entry`, special: false };
  return undefined;
}

/** Where the central directory starts (after readZipDirectory accepted `buf`). */
export function zipDirectoryOffset(buf: Buffer): number {
  const eocd = findEndRecord(buf);
  return eocd < 0 ? -1 : buf.readUInt32LE(eocd + 16);
}

/**
 * Whether deflate data that fails to inflate yields more than `size` bytes
 * before its first bad byte: readers that stop one byte past the declared size
 * (the Python verifiers) report that as a zip bomb, never reaching the bad
 * byte, and a stream that is only unfinished (no final block) is no error to
 * them either. The longest prefix that inflates without an error is found by
 * bisection (inflating a cut stream with Z_SYNC_FLUSH is not an error).
 */
function inflatesPastBeforeError(raw: Buffer, size: number): boolean {
  const outputOf = (n: number): number | undefined => {
    try {
      return inflateRawSync(raw.subarray(0, n), { finishFlush: zlibConstants.Z_SYNC_FLUSH, maxOutputLength: size + 1 }).length;
    } catch (cause) {
      return (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? size + 1 : undefined;
    }
  };
  // The whole stream may be fine but unfinished (no final block): that too is no error here.
  if ((outputOf(raw.length) ?? 0) > size) return true;
  let [good, bad] = [0, raw.length];
  while (bad - good > 1) {
    const mid = (good + bad) >> 1;
    if (outputOf(mid) === undefined) bad = mid;
    else good = mid;
  }
  return (outputOf(good) ?? 0) > size;
}

/**
 * Reads one entry's content, checking method, encryption, declared size
 * (inflation stops at `uncompressedSize + 1` bytes) and CRC-32.
 */
export function readZipEntry(buf: Buffer, entry: ZipEntryInfo, what: string): Buffer {
  if (entry.flags & 0x1) throw new ReleaseError('ZIP_UNSUPPORTED', `${entry.name}: encrypted entries are not supported`, { file: what });
  const at = entry.localHeaderOffset;
  if (at + 30 > buf.length || buf.readUInt32LE(at) !== LOCAL_SIG) throw malformed(what, `${entry.name}: bad local header`);
  const start = at + 30 + buf.readUInt16LE(at + 26) + buf.readUInt16LE(at + 28);
  const end = start + entry.compressedSize;
  if (end > buf.length) throw malformed(what, `${entry.name}: data runs past the end of the file`);
  const raw = buf.subarray(start, end);
  let data: Buffer;
  if (entry.method === 0) {
    data = raw;
  } else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize + 1) });
    } catch (cause) {
      const tooBig = (cause as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || inflatesPastBeforeError(raw, entry.uncompressedSize);
      throw tooBig
        ? new ReleaseError('ZIP_UNSAFE', `${entry.name}: inflates to more than its declared ${entry.uncompressedSize} bytes`, { file: what })
        : malformed(what, `${entry.name}: bad deflate data`);
    }
  } else {
    throw new ReleaseError('ZIP_UNSUPPORTED', `${entry.name}: compression method ${entry.method} is not supported`, { file: what });
  }
  if (data.length !== entry.uncompressedSize) {
    throw new ReleaseError('ZIP_UNSAFE', `${entry.name}: holds ${data.length} bytes, declares ${entry.uncompressedSize}`, { file: what });
  }
  if ((crc32(data) >>> 0) !== entry.crc32) throw malformed(what, `${entry.name}: CRC-32 mismatch (corrupt or tampered)`);
  return data;
}

/**
 * Extracts a zip into `dest` (which must not exist yet or be empty), after
 * checking every name first: no absolute or `..` names, no duplicates, and
 * symlinks only when `allowSymlinks` and only to targets inside `dest`.
 */
export async function extractZipSafely(zipPath: string, dest: string, options: { allowSymlinks: boolean }): Promise<void> {
  const buf = await readFile(zipPath);
  const entries = readZipDirectory(buf, zipPath);
  const seen = new Set<string>();
  for (const entry of entries) {
    const name = entry.isDirectory ? entry.name.slice(0, -1) : entry.name;
    const problem = checkEntryName(name);
    if (problem) throw new ReleaseError('ZIP_UNSAFE', `${JSON.stringify(entry.name)}: ${problem}`, { file: zipPath });
    if (seen.has(name)) throw new ReleaseError('ZIP_UNSAFE', `${JSON.stringify(entry.name)} appears twice`, { file: zipPath });
    seen.add(name);
    if (entry.isSymlink) {
      if (!options.allowSymlinks) throw new ReleaseError('ZIP_UNSAFE', `${entry.name}: symlink entries are not allowed`, { file: zipPath });
      const target = readZipEntry(buf, entry, zipPath).toString('utf8');
      const resolved = join(dirname(name), target);
      if (target.startsWith('/') || checkEntryName(resolved.split('\\').join('/')) !== undefined) {
        throw new ReleaseError('ZIP_UNSAFE', `${entry.name}: symlink to ${target} leads outside the archive`, { file: zipPath });
      }
    }
  }
  await mkdir(dest, { recursive: true });
  for (const entry of entries) {
    const name = entry.isDirectory ? entry.name.slice(0, -1) : entry.name;
    const target = join(dest, name);
    if (entry.isDirectory) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    // A symlinked parent could redirect the write outside dest; refuse it.
    const parent = await lstat(dirname(target));
    if (parent.isSymbolicLink()) throw new ReleaseError('ZIP_UNSAFE', `${entry.name}: parent folder is a symlink`, { file: zipPath });
    const data = readZipEntry(buf, entry, zipPath);
    if (entry.isSymlink) {
      await symlink(data.toString('utf8'), target);
    } else {
      const executable = entry.unixMode !== undefined && (entry.unixMode & 0o100) !== 0;
      await writeFile(target, data, { mode: executable ? 0o755 : 0o644, flag: 'wx' });
    }
  }
}
