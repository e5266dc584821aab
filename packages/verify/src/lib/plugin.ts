/**
 * Plugin zip verification. The Studio's Python loader
 * (workspace-fixtures/studio/src/helix_studio/plugin_zip.py) is a second,
 * independent implementation of the same checks in the same order; the shared
 * table in workspace-fixtures/plugin-trust-cases/ runs against both. The first
 * failing check decides the code.
 *
 * Everything is judged from the bytes in memory; nothing is extracted.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { readZipDirectory, readZipEntry, zipDirectoryOffset, zipLayoutProblem, type ZipEntryInfo } from '@helix-release/core';
import { SIGNATURE_ENTRY, checkEntryName, checkPluginMetadata, compareBytes, isReleaseError, parseJsonUnique, parseSignatureFile, verifyEd25519, type PluginCode } from '@helix-release/format';
import type { TrustStore } from './trust-store';

/** Zip-bomb bounds (documented in packages/plugin-zip/README.md; same in the Python loader). */
export const PLUGIN_LIMITS = {
  maxEntries: 10_000,
  maxTotalUncompressed: 256 * 1024 * 1024,
  maxEntryUncompressed: 64 * 1024 * 1024,
  ratioCheckMinSize: 1024 * 1024,
  maxRatio: 100,
} as const;

/**
 * No plugin zip is larger: its entries hold at most maxTotalUncompressed bytes,
 * and headers little more. A larger file is refused before it is read (the
 * Python verifiers use the same bound).
 */
export const MAX_PLUGIN_FILE_BYTES = 2 * PLUGIN_LIMITS.maxTotalUncompressed;

/** plugin.json may nest objects and arrays this deep at most (same in the Python loader, whose parser recurses). */
export const MAX_METADATA_DEPTH = 64;

/** How deep `value` nests objects and arrays (a scalar is 0, `{}` is 1); iterative, for hostile input. */
function nestingDepth(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!;
    if (typeof item !== 'object' || item === null) continue;
    max = Math.max(max, depth + 1);
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return max;
}

/** The key under which two names are one file on macOS or Windows: NFC, then lower case (as `_fold` in the Python verifiers). */
const fold = (name: string) => name.normalize('NFC').toLowerCase();

/** Strict UTF-8 that keeps a leading U+FEFF (the Python side does not drop it either). */
function decodeUtf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** The verdict on one plugin zip. */
export interface PluginVerdict {
  code: PluginCode;
  /** The entry the verdict is about, if any. */
  entry?: string;
  reason: string;
  /** Structural faults are rejected under any policy; trust faults depend on the policy. */
  structural: boolean;
  keyName?: string;
  name?: string;
  version?: string;
}

class Rejected extends Error {
  constructor(
    readonly code: PluginCode,
    readonly entry: string | undefined,
    readonly reason: string,
  ) {
    super(reason);
  }
}

function readEntries(buf: Buffer): ZipEntryInfo[] {
  try {
    return readZipDirectory(buf, 'plugin');
  } catch (err) {
    throw new Rejected('PLUGIN_MALFORMED', undefined, isReleaseError(err) ? err.message : String(err));
  }
}

function readEntry(buf: Buffer, entry: ZipEntryInfo): Buffer {
  try {
    return readZipEntry(buf, entry, 'plugin');
  } catch (err) {
    if (isReleaseError(err) && err.code === 'ZIP_UNSAFE') throw new Rejected('PLUGIN_ZIP_BOMB', entry.name, err.message);
    throw new Rejected('PLUGIN_MALFORMED', entry.name, isReleaseError(err) ? err.message : String(err));
  }
}

async function checkTrust(files: Map<string, Buffer>, trust: TrustStore): Promise<{ code: PluginCode; reason: string; keyName?: string; entry?: string }> {
  const raw = files.get(SIGNATURE_ENTRY);
  if (!raw) return { code: 'PLUGIN_UNSIGNED', reason: `no ${SIGNATURE_ENTRY} in the zip` };
  let text: string;
  try {
    text = decodeUtf8(raw);
  } catch {
    throw new Rejected('PLUGIN_MALFORMED', SIGNATURE_ENTRY, 'not UTF-8');
  }
  const parsed = parseSignatureFile(text);
  if (typeof parsed === 'string') throw new Rejected('PLUGIN_MALFORMED', SIGNATURE_ENTRY, parsed);
  const publicKey = trust.get(parsed.keyName);
  if (!publicKey) return { code: 'PLUGIN_UNTRUSTED_KEY', reason: `signed by key ${JSON.stringify(parsed.keyName)}, which is not in the trust store`, keyName: parsed.keyName };
  if (!(await verifyEd25519(publicKey, parsed.signature, parsed.signed))) {
    return { code: 'PLUGIN_BAD_SIGNATURE', reason: `signature does not verify with key ${JSON.stringify(parsed.keyName)}`, keyName: parsed.keyName };
  }
  const listed = new Map(parsed.manifest.map((l) => [l.path, l.sha256]));
  for (const name of [...files.keys()].sort(compareBytes)) {
    if (name !== SIGNATURE_ENTRY && !listed.has(name)) throw new Rejected('PLUGIN_NOT_IN_MANIFEST', name, 'entry is not listed in the signed manifest');
  }
  for (const line of parsed.manifest) {
    const content = files.get(line.path);
    if (!content) return { code: 'PLUGIN_MISSING_ENTRY', entry: line.path, reason: `${line.path}: listed in the signed manifest but not in the zip`, keyName: parsed.keyName };
    if (createHash('sha256').update(content).digest('hex') !== line.sha256) {
      return { code: 'PLUGIN_DIGEST_MISMATCH', entry: line.path, reason: `${line.path}: contents differ from the signed manifest`, keyName: parsed.keyName };
    }
  }
  return { code: 'PLUGIN_OK', reason: `signed by trusted key ${JSON.stringify(parsed.keyName)}`, keyName: parsed.keyName };
}

const tooLarge = (bytes: number): PluginVerdict => ({ code: 'PLUGIN_ZIP_BOMB', reason: `${bytes} bytes: larger than any plugin zip can be (limit ${MAX_PLUGIN_FILE_BYTES})`, structural: true });

async function verifyOrThrow(buf: Buffer, trust: TrustStore): Promise<PluginVerdict> {
  if (buf.length > MAX_PLUGIN_FILE_BYTES) return tooLarge(buf.length);
  const entries = readEntries(buf);
  const L = PLUGIN_LIMITS;
  if (entries.length > L.maxEntries) throw new Rejected('PLUGIN_ZIP_BOMB', undefined, `${entries.length} entries (limit ${L.maxEntries})`);
  // Every reader must see the entries that are signed: a hand unzip reads local headers.
  const layout = zipLayoutProblem(buf, entries, zipDirectoryOffset(buf));
  if (layout) throw new Rejected(layout.special ? 'PLUGIN_SYMLINK' : 'PLUGIN_MALFORMED', layout.entry, `other zip readers would see other entries: ${layout.reason}`);
  const seen = new Set<string>();
  const folded = new Map<string, string>();
  for (const entry of entries) {
    const name = entry.name;
    const problem = checkEntryName(name.endsWith('/') ? name.slice(0, -1) : name);
    if (problem) throw new Rejected('PLUGIN_UNSAFE_PATH', name, problem);
    if (entry.isSymlink) throw new Rejected('PLUGIN_SYMLINK', name, 'symbolic link entries are not allowed');
    if (entry.isDirectory) throw new Rejected('PLUGIN_NOT_IN_MANIFEST', name, 'directory entries are not part of the plugin format');
    if (seen.has(name)) throw new Rejected('PLUGIN_DUPLICATE_ENTRY', name, 'the name occurs twice');
    const other = folded.get(fold(name));
    if (other !== undefined) throw new Rejected('PLUGIN_DUPLICATE_ENTRY', name, `differs from ${JSON.stringify(other)} only in case or Unicode normalisation`);
    seen.add(name);
    folded.set(fold(name), name);
  }
  // A name that is also a folder of another (`a` and `a/b`) cannot be extracted, up to case either.
  for (const entry of entries) {
    const parts = entry.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const file = folded.get(fold(parts.slice(0, i).join('/')));
      if (file !== undefined) throw new Rejected('PLUGIN_DUPLICATE_ENTRY', entry.name, `${JSON.stringify(file)} is a file, so it cannot also be a folder`);
    }
  }
  let total = 0;
  for (const entry of entries) {
    total += entry.uncompressedSize;
    if (entry.uncompressedSize > L.maxEntryUncompressed) throw new Rejected('PLUGIN_ZIP_BOMB', entry.name, `${entry.uncompressedSize} bytes uncompressed (limit ${L.maxEntryUncompressed})`);
    if (entry.uncompressedSize > L.ratioCheckMinSize && entry.uncompressedSize > L.maxRatio * Math.max(entry.compressedSize, 1)) {
      throw new Rejected('PLUGIN_ZIP_BOMB', entry.name, `compression ratio over ${L.maxRatio}:1`);
    }
  }
  if (total > L.maxTotalUncompressed) throw new Rejected('PLUGIN_ZIP_BOMB', undefined, `${total} bytes uncompressed in all (limit ${L.maxTotalUncompressed})`);

  const files = new Map<string, Buffer>();
  for (const entry of entries) files.set(entry.name, readEntry(buf, entry));
  const trustResult = await checkTrust(files, trust);

  const metaBytes = files.get('plugin.json');
  if (!metaBytes) throw new Rejected('PLUGIN_BAD_METADATA', 'plugin.json', 'missing');
  let meta: Record<string, unknown>;
  try {
    // A key given twice, at any depth, is refused: readers differ on which one wins.
    meta = parseJsonUnique(decodeUtf8(metaBytes)) as Record<string, unknown>;
  } catch (err) {
    throw new Rejected('PLUGIN_BAD_METADATA', 'plugin.json', `not JSON: ${(err as Error).message}`);
  }
  if (nestingDepth(meta) > MAX_METADATA_DEPTH) throw new Rejected('PLUGIN_BAD_METADATA', 'plugin.json', `nested deeper than ${MAX_METADATA_DEPTH} levels`);
  const metaProblem = checkPluginMetadata(meta, (entry) => files.has(entry));
  if (metaProblem) throw new Rejected('PLUGIN_BAD_METADATA', 'plugin.json', metaProblem);
  return {
    code: trustResult.code,
    entry: trustResult.entry,
    reason: trustResult.reason,
    structural: false,
    keyName: trustResult.keyName,
    name: meta['name'] as string,
    version: meta['version'] as string,
  };
}

/** Verifies one plugin zip (its bytes) against a trust store. Never throws for bad input. */
export async function verifyPluginZip(buf: Buffer, trust: TrustStore): Promise<PluginVerdict> {
  try {
    return await verifyOrThrow(buf, trust);
  } catch (err) {
    if (err instanceof Rejected) return { code: err.code, entry: err.entry, reason: err.reason, structural: true };
    throw err;
  }
}

/** Verifies the plugin zip at `path`: a file too large to be a plugin is refused before it is read. */
export async function verifyPluginFile(path: string, trust: TrustStore): Promise<PluginVerdict> {
  const size = (await stat(path)).size;
  if (size > MAX_PLUGIN_FILE_BYTES) return tooLarge(size);
  return verifyPluginZip(await readFile(path), trust);
}
