/**
 * Generates the shared table of plugin trust cases (see README.md here):
 * `cases.json`, `trust-store.json`, one zip per case under `zips/`, and
 * `key-cases.json` (trust-store keys that must be refused, and two that must not).
 *
 *   node -r @swc-node/register workspace-fixtures/plugin-trust-cases/generate.ts
 *
 * Both verifiers run the table: packages/verify/src/lib/plugin.spec.ts (TypeScript)
 * and workspace-fixtures/studio/tests/test_plugin_trust_cases.py (Python). The
 * output is byte-identical on every run: no randomness, no clock; Ed25519
 * signatures are deterministic, every timestamp is FIXTURE_EPOCH. Deflated
 * bytes come from Node's zlib, so a zlib whose output differs would show up
 * as drift in plugin.spec.ts.
 *
 * Well-formed zips are written by the real writer (pluginEntries +
 * writeReproducibleZip). Hostile ones, which that writer refuses to make, come
 * from the small raw writer below.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import * as ed from '@noble/ed25519';
import { sha256Hex, writeReproducibleZip, type ZipInput } from '@helix-release/core';
import { SIGNATURE_ENTRY, manifestText, signatureFileText } from '@helix-release/format';
import { pluginEntries, publicKeyOf, seedFromPem, signEd25519, type PluginSigningKey } from '@helix-release/plugin-zip';

/** This folder. */
export const CASES_DIR = __dirname;
const REPO_ROOT = resolve(CASES_DIR, '..', '..');
const DEV_KEY_FILE = join(REPO_ROOT, 'workspace-fixtures', 'keys', 'DEVELOPMENT-ONLY-plugin-signing-key.pem');
const DEV_KEY_NAME = 'helix-dev-plugins';
const UNTRUSTED_KEY_NAME = 'someone-else';
const UNTRUSTED_KEY_SEED_TEXT = 'helix untrusted fixture key';
const SOURCE_DIR = join(CASES_DIR, 'source');

/** Every timestamp in the fixtures: 2024-01-01T00:00:00Z. */
export const FIXTURE_EPOCH = 1_704_067_200;
const DOS_TIME = 0; // 00:00:00
const DOS_DATE = ((2024 - 1980) << 9) | (1 << 5) | 1; // 2024-01-01

export const CASES_SCHEMA = 'helix-plugin-trust-cases/v1';

/** Codes that are trust problems (the policy decides); every other code is structural. */
const TRUST_CODES = new Set([
  'PLUGIN_OK',
  'PLUGIN_UNSIGNED',
  'PLUGIN_UNTRUSTED_KEY',
  'PLUGIN_BAD_SIGNATURE',
  'PLUGIN_DIGEST_MISMATCH',
  'PLUGIN_MISSING_ENTRY',
]);

/** One row of cases.json. */
export interface TrustCase {
  name: string;
  zip: string;
  expect: string;
  structural: boolean;
  why: string;
}

/** The whole cases.json. */
export interface TrustCaseTable {
  schema: typeof CASES_SCHEMA;
  trustStore: string;
  cases: TrustCase[];
}

// ---------------------------------------------------------------------------
// The raw zip writer (for zips the real writer refuses to produce)

/** One entry for the raw writer. Defaults give an honest, deflated, 0644 UTF-8 entry. */
export interface RawEntry {
  /** A string is written as UTF-8; a Buffer is written as is. */
  name: string | Buffer;
  data: Buffer;
  /** 0 stored, 8 deflated (default); any other value is written with `data` stored. */
  method?: number;
  /** Unix mode (file type and permissions); default 0o100644. */
  mode?: number;
  /** Extra general-purpose flag bits, e.g. 0x1 (encrypted). */
  flags?: number;
  /** Set the UTF-8 flag 0x800 (default true). */
  utf8?: boolean;
  /** The bytes written as the entry's data; default `data` stored or deflated. */
  payload?: Buffer;
  /** Declared CRC-32; default the CRC of `data`. */
  crc?: number;
  /** Declared uncompressed size; default `data.length`. */
  size?: number;
  /** What the local header says instead of the central record: another name, method or compressed size. */
  local?: { name?: string; method?: number; compressedSize?: number };
  /** The central record's "version made by" (default 0x031e: Unix). */
  madeBy?: number;
  /** The central record points at the local header of this earlier entry (an overlap). */
  sameDataAs?: number;
}

/** Layout faults of the whole archive, for the raw writer. */
export interface RawLayout {
  /** Bytes before the first local header (offsets count them). */
  prefix?: Buffer;
  /** The entry count the end record states (default: the number of records). */
  count?: number;
  /** Bytes between the central directory and the end record. */
  beforeEnd?: Buffer;
}

/** A zip with a local header, central record and EOCD: no data descriptors, no extra fields. */
export function rawZip(entries: readonly RawEntry[], comment: Buffer = Buffer.alloc(0), layout: RawLayout = {}): Buffer {
  const locals: Buffer[] = layout.prefix ? [layout.prefix] : [];
  const centrals: Buffer[] = [];
  const offsets: number[] = [];
  let offset = layout.prefix?.length ?? 0;
  for (const entry of entries) {
    const name = typeof entry.name === 'string' ? Buffer.from(entry.name, 'utf8') : entry.name;
    const method = entry.method ?? 8;
    const payload = entry.payload ?? (method === 8 ? deflateRawSync(entry.data, { level: 9 }) : entry.data);
    const flags = (entry.utf8 === false ? 0 : 0x800) | (entry.flags ?? 0);
    const crc = entry.crc ?? crc32(entry.data);
    const size = entry.size ?? entry.data.length;
    const mode = entry.mode ?? 0o100644;
    const needed = method === 8 ? 20 : 10;
    const isDir = name.length > 0 && name[name.length - 1] === 0x2f;
    const external = ((mode & 0xffff) * 0x10000 + (isDir ? 0x10 : 0)) >>> 0;

    const localName = entry.local?.name !== undefined ? Buffer.from(entry.local.name, 'utf8') : name;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(needed, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(entry.local?.method ?? method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc >>> 0, 14);
    local.writeUInt32LE(entry.local?.compressedSize ?? payload.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(localName.length, 26);
    local.writeUInt16LE(0, 28);
    const sharesData = entry.sameDataAs !== undefined;
    if (!sharesData) locals.push(local, localName, payload);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(entry.madeBy ?? 0x031e, 4); // made by: Unix, spec 3.0
    central.writeUInt16LE(needed, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc >>> 0, 16);
    central.writeUInt32LE(payload.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number, internal attributes: 0
    central.writeUInt32LE(external, 38);
    const at = sharesData ? offsets[entry.sameDataAs!]! : offset;
    offsets.push(at);
    central.writeUInt32LE(at, 42);
    centrals.push(central, name);

    if (!sharesData) offset += 30 + localName.length + payload.length;
  }
  const directory = Buffer.concat(centrals);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(0x06054b50, 0);
  eocd.writeUInt16LE(layout.count ?? entries.length, 8);
  eocd.writeUInt16LE(layout.count ?? entries.length, 10);
  eocd.writeUInt32LE(directory.length, 12);
  eocd.writeUInt32LE(offset, 16);
  eocd.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, directory, ...(layout.beforeEnd ? [layout.beforeEnd] : []), eocd, comment]);
}

// ---------------------------------------------------------------------------
// Plugin contents in memory

/** A plugin file in memory. */
interface Item {
  name: string;
  data: Buffer;
  executable?: boolean;
}

async function itemsOf(inputs: readonly ZipInput[]): Promise<Item[]> {
  const out: Item[] = [];
  for (const input of inputs) {
    if (input.kind === 'file') out.push({ name: input.name, data: await readFile(input.sourcePath), executable: input.executable });
    else if (input.kind === 'buffer') out.push({ name: input.name, data: Buffer.from(input.data), executable: input.executable });
    else throw new Error(`${input.name}: unexpected symlink in a plugin source folder`);
  }
  return out;
}

/** The signed manifest text of `items` (what pluginEntries signs). */
function manifestOf(items: readonly Item[]): string {
  return manifestText(items.map((i) => ({ path: i.name, sha256: sha256Hex(i.data) })));
}

/** `items` plus SIGNATURE.ed25519, exactly as pluginEntries signs a folder. */
async function signItems(items: readonly Item[], key: PluginSigningKey): Promise<Item[]> {
  const manifest = manifestOf(items);
  const signature = await signEd25519(key.seed, Buffer.from(manifest, 'utf8'));
  return [...items, { name: SIGNATURE_ENTRY, data: Buffer.from(signatureFileText(key.name, signature, manifest), 'utf8') }];
}

function replaceItem(items: readonly Item[], name: string, edit: (item: Item) => Item): Item[] {
  if (!items.some((i) => i.name === name)) throw new Error(`no ${name} among ${items.map((i) => i.name).join(', ')}`);
  return items.map((i) => (i.name === name ? edit(i) : i));
}

function signatureText(items: readonly Item[]): string {
  const sig = items.find((i) => i.name === SIGNATURE_ENTRY);
  if (!sig) throw new Error('unsigned items');
  return sig.data.toString('utf8');
}

function withSignatureText(items: readonly Item[], text: string | Buffer): Item[] {
  return replaceItem(items, SIGNATURE_ENTRY, (i) => ({ ...i, data: Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8') }));
}

function rawEntries(items: readonly Item[]): RawEntry[] {
  return items.map((i) => ({ name: i.name, data: i.data, mode: i.executable ? 0o100755 : 0o100644 }));
}

/** Writes `items` with the real reproducible writer and returns the zip's bytes. */
async function reproducibleZip(items: readonly Item[], scratch: string): Promise<Buffer> {
  const out = join(scratch, 'out.zip');
  await writeReproducibleZip(
    out,
    items.map((i) => ({ name: i.name, kind: 'buffer', data: i.data, executable: i.executable ?? false })),
    FIXTURE_EPOCH,
  );
  const bytes = await readFile(out);
  await rm(out);
  return bytes;
}

/** plugin.json text for `meta` plus a key "nested" so that the whole document nests `depth` levels. */
function nestedMeta(meta: Record<string, unknown>, depth: number): string {
  const text = JSON.stringify({ ...meta, nested: 0 }, null, 2);
  // The document itself is level 1; depth - 1 arrays around the 0.
  return `${text.replace('"nested": 0', `"nested": ${'['.repeat(depth - 1)}0${']'.repeat(depth - 1)}`)}\n`;
}

// ---------------------------------------------------------------------------
// Ed25519 helpers

const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigintTo32Le(n: bigint): Buffer {
  const out = Buffer.alloc(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function sha512ModL(...parts: Uint8Array[]): bigint {
  const h = createHash('sha512');
  for (const p of parts) h.update(p);
  return leToBigint(h.digest()) % L;
}

/**
 * An Ed25519 signature of `message` whose R has a small-order (order 8)
 * component: S = r + k·a with R' = r·B + T. The cofactored equation
 * [8]SB = [8]R' + [8]kA holds, the cofactorless SB = R' + kA does not, so
 * RFC 8032 strict verifiers (OpenSSL, `openssl pkeyutl -verify`) reject it
 * while ZIP-215 verifiers accept it. The format specifies the strict check.
 */
async function torsionSignature(seed: Uint8Array, message: Uint8Array): Promise<Buffer> {
  const ext = await ed.utils.getExtendedPublicKeyAsync(seed);
  // A point of order 8 (a standard small-order encoding).
  const T = ed.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
  if (!T.double().double().double().is0() || T.double().double().is0()) throw new Error('torsion point is not of order 8');
  const r = sha512ModL(ext.prefix, message, Buffer.from('helix torsion fixture'));
  const R = ed.Point.BASE.multiply(r).add(T);
  const Rbytes = R.toBytes();
  const k = sha512ModL(Rbytes, ext.pointBytes, message);
  const S = (r + k * ext.scalar) % L;
  return Buffer.concat([Buffer.from(Rbytes), bigintTo32Le(S)]);
}

// ---------------------------------------------------------------------------
// Trust-store keys every verifier must refuse when it reads the store

export const KEY_CASES_SCHEMA = 'helix-trust-store-key-cases/v1';

/** What is wrong with a key: the start of the reason every verifier gives (after "ed25519 key is "). */
export const KEY_FAULTS = {
  'non-canonical': 'not the canonical encoding of a curve point',
  'small-order': 'a point of small order',
  'mixed-order': 'not in the prime-order subgroup',
} as const;

/** One row of key-cases.json: `fault` null means the key is accepted. */
export interface KeyCase {
  name: string;
  ed25519: string;
  fault: keyof typeof KEY_FAULTS | null;
  why: string;
}

const FIELD_P = 2n ** 255n - 19n;

/** The rows of key-cases.json, computed with noble's point arithmetic. */
function keyCases(good: Uint8Array, other: Uint8Array): KeyCase[] {
  const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
  // A point of order 8 generates the whole small-order subgroup.
  const t8 = ed.Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a');
  const torsion = [ed.Point.ZERO];
  for (let k = 1; k < 8; k++) torsion.push(torsion[k - 1]!.add(t8));
  if (!torsion[7]!.add(t8).is0() || torsion.slice(1).some((t) => t.is0())) throw new Error('t8 is not of order 8');
  // The first y (from 2 up) that is on no point of the curve.
  let offCurve = 2n;
  for (; ; offCurve++) {
    try {
      ed.Point.fromBytes(bigintTo32Le(offCurve));
    } catch {
      break;
    }
  }
  const goodPoint = ed.Point.fromBytes(good);
  return [
    { name: 'good', ed25519: b64(good), fault: null, why: 'the DEVELOPMENT plugin key (trust-store.json)' },
    { name: 'other', ed25519: b64(other), fault: null, why: 'another real key (the untrusted-key case signs with it)' },
    ...torsion.map((t, k): KeyCase => ({
      name: `small-order-${k}`,
      ed25519: b64(t.toBytes()),
      fault: 'small-order',
      why: k === 0 ? 'the identity point: (R = identity, S = 0) verifies for any message' : `[${k}]T for a point T of order 8: a forged signature verifies for some messages`,
    })),
    { name: 'identity-sign-bit', ed25519: b64(bigintTo32Le(1n | (1n << 255n))), fault: 'non-canonical', why: 'the identity with the sign bit set (x = 0 has no sign)' },
    { name: 'identity-y-plus-p', ed25519: b64(bigintTo32Le(FIELD_P + 1n)), fault: 'non-canonical', why: 'the identity with y written as p + 1' },
    { name: 'order-4-y-is-p', ed25519: b64(bigintTo32Le(FIELD_P)), fault: 'non-canonical', why: 'a point of order 4 with y = 0 written as p' },
    { name: 'off-curve', ed25519: b64(bigintTo32Le(offCurve)), fault: 'non-canonical', why: `y = ${offCurve}: no point of the curve has it` },
    { name: 'mixed-order-2', ed25519: b64(goodPoint.add(torsion[4]!).toBytes()), fault: 'mixed-order', why: 'the DEVELOPMENT key plus the point of order 2' },
    { name: 'mixed-order-8', ed25519: b64(goodPoint.add(t8).toBytes()), fault: 'mixed-order', why: 'the DEVELOPMENT key plus a point of order 8' },
  ];
}

// ---------------------------------------------------------------------------
// The cases

/** Writes cases.json, trust-store.json and zips/ into `outDir` (zips/ is replaced). */
export async function generate(outDir: string): Promise<TrustCaseTable> {
  const devSeed = seedFromPem(await readFile(DEV_KEY_FILE, 'utf8'), DEV_KEY_FILE);
  const dev: PluginSigningKey = { name: DEV_KEY_NAME, seed: devSeed, publicKey: await publicKeyOf(devSeed), origin: 'development-key-file' };
  const otherSeed = new Uint8Array(createHash('sha256').update(UNTRUSTED_KEY_SEED_TEXT, 'utf8').digest());
  const other: PluginSigningKey = { name: UNTRUSTED_KEY_NAME, seed: otherSeed, publicKey: await publicKeyOf(otherSeed), origin: 'environment' };
  const impostor: PluginSigningKey = { ...other, name: DEV_KEY_NAME };

  const tinyDir = join(SOURCE_DIR, 'tiny');
  const multiDir = join(SOURCE_DIR, 'multi');
  const tiny = await itemsOf(await pluginEntries(tinyDir, undefined));
  const tinySigned = await itemsOf(await pluginEntries(tinyDir, dev));
  const tinyMeta = JSON.parse(tiny.find((i) => i.name === 'plugin.json')!.data.toString('utf8')) as Record<string, unknown>;
  const metaJson = (text: string) => (i: Item): Item => ({ ...i, data: Buffer.from(text, 'utf8') });

  const zipsDir = join(outDir, 'zips');
  await rm(zipsDir, { recursive: true, force: true });
  await mkdir(zipsDir, { recursive: true });
  const scratch = await mkdtemp(join(tmpdir(), 'helix-trust-cases-'));
  const cases: TrustCase[] = [];
  const add = async (name: string, expect: string, why: string, bytes: Buffer | Promise<Buffer>): Promise<void> => {
    if (cases.some((c) => c.name === name)) throw new Error(`duplicate case ${name}`);
    const zip = `zips/${name}.zip`;
    await writeFile(join(outDir, zip), await bytes);
    cases.push({ name, zip, expect, structural: !TRUST_CODES.has(expect), why });
  };

  try {
    // --- well-formed, judged on trust ------------------------------------
    await add('good', 'PLUGIN_OK', 'source/tiny signed with the development key by pluginEntries, written by writeReproducibleZip', (async () => {
      const out = join(scratch, 'good.zip');
      await writeReproducibleZip(out, await pluginEntries(tinyDir, dev), FIXTURE_EPOCH);
      return readFile(out);
    })());
    await add('good-multi-module', 'PLUGIN_OK', 'source/multi (a package, several modules, a data file in a subfolder) signed and written the real way', (async () => {
      const out = join(scratch, 'good-multi-module.zip');
      await writeReproducibleZip(out, await pluginEntries(multiDir, dev), FIXTURE_EPOCH);
      return readFile(out);
    })());
    await add('unsigned', 'PLUGIN_UNSIGNED', 'source/tiny packaged without a key: no SIGNATURE.ed25519', reproducibleZip(tiny, scratch));
    await add('untrusted-key', 'PLUGIN_UNTRUSTED_KEY', `signed by "${UNTRUSTED_KEY_NAME}" (seed sha256("${UNTRUSTED_KEY_SEED_TEXT}")), which the trust store lacks`, reproducibleZip(await signItems(tiny, other), scratch));
    await add('bad-signature', 'PLUGIN_BAD_SIGNATURE', 'one byte of the Ed25519 signature altered (base64 re-encoded), manifest intact', (async () => {
      const text = signatureText(tinySigned);
      const line = /^ed25519: (.*)$/m.exec(text)!;
      const sig = Buffer.from(line[1]!, 'base64');
      sig[10] ^= 0x01;
      return reproducibleZip(withSignatureText(tinySigned, text.replace(line[0], `ed25519: ${sig.toString('base64')}`)), scratch);
    })());
    await add('impostor-key-name', 'PLUGIN_BAD_SIGNATURE', `signed by "${UNTRUSTED_KEY_NAME}"'s key but naming the trusted key "${DEV_KEY_NAME}"`, reproducibleZip(await signItems(tiny, impostor), scratch));
    await add('manifest-edited', 'PLUGIN_BAD_SIGNATURE', 'tiny_plugin.py changed and its manifest digest updated to match; the signature no longer covers the manifest', (async () => {
      const tampered = replaceItem(tiny, 'tiny_plugin.py', (i) => ({ ...i, data: Buffer.from(i.data.toString('utf8').replace('"tiny: "', '"TINY: "'), 'utf8') }));
      const oldLine = /^ed25519: .*$/m.exec(signatureText(tinySigned))![0];
      const text = `helix-plugin-signature v1\nkey: ${DEV_KEY_NAME}\n${oldLine}\n\n${manifestOf(tampered)}`;
      return reproducibleZip([...tampered, { name: SIGNATURE_ENTRY, data: Buffer.from(text, 'utf8') }], scratch);
    })());
    await add('small-order-signature', 'PLUGIN_BAD_SIGNATURE', "signature with an order-8 component in R: passes the cofactored (ZIP-215) check, fails RFC 8032's strict one (OpenSSL)", (async () => {
      const manifest = manifestOf(tiny);
      const sig = await torsionSignature(dev.seed, Buffer.from(manifest, 'utf8'));
      return reproducibleZip([...tiny, { name: SIGNATURE_ENTRY, data: Buffer.from(signatureFileText(DEV_KEY_NAME, sig, manifest), 'utf8') }], scratch);
    })());
    await add('tampered-byte', 'PLUGIN_DIGEST_MISMATCH', 'tiny_plugin.py changed after signing, CRC-32 recomputed: a well-formed zip whose content differs from the signed manifest', reproducibleZip(
      replaceItem(tinySigned, 'tiny_plugin.py', (i) => ({ ...i, data: Buffer.from(i.data.toString('utf8').replace('"tiny: "', '"TINY: "'), 'utf8') })),
      scratch,
    ));
    await add('missing-entry', 'PLUGIN_MISSING_ENTRY', 'the signed manifest lists data/notes.txt, which the zip lacks', (async () => {
      const signed = await signItems([...tiny, { name: 'data/notes.txt', data: Buffer.from('notes\n') }], dev);
      return reproducibleZip(signed.filter((i) => i.name !== 'data/notes.txt'), scratch);
    })());
    await add('carriage-return-in-name', 'PLUGIN_OK', 'signed plugin with an entry named "notes\\r.txt": legal for the writer, so its manifest line must parse', reproducibleZip(
      await signItems([...tiny, { name: 'notes\r.txt', data: Buffer.from('notes\n') }], dev),
      scratch,
    ));
    await add('zip-comment-with-eocd-signature', 'PLUGIN_OK', 'the good zip with a 10-byte archive comment that holds "PK\\x05\\x06": the real end record is still found', (async () => {
      return rawZip(rawEntries(tinySigned), Buffer.from('PK\x05\x06helix', 'latin1'));
    })());
    await add('plugin-json-nested-64-levels', 'PLUGIN_OK', 'signed plugin.json whose objects and arrays nest 64 levels deep: the limit, still accepted', (async () => {
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(nestedMeta(tinyMeta, 64))), dev), scratch);
    })());
    await add('huge-integer-in-plugin-json', 'PLUGIN_OK', 'signed plugin.json with an extra 5000-digit integer: valid JSON (Python must not apply its int-digit limit)', (async () => {
      const text = JSON.stringify({ ...tinyMeta, build: 0 }, null, 2).replace('"build": 0', `"build": 1${'0'.repeat(4999)}`);
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(`${text}\n`)), dev), scratch);
    })());

    // --- structural faults: refused under any policy ----------------------
    await add('extra-entry', 'PLUGIN_NOT_IN_MANIFEST', 'the good plugin plus evil.py, which the signed manifest does not list', rawZip(rawEntries([...tinySigned, { name: 'evil.py', data: Buffer.from('print("evil")\n') }])));
    await add('directory-entry', 'PLUGIN_NOT_IN_MANIFEST', 'the good plugin plus a directory entry "lib/" (mode 040755)', rawZip([...rawEntries(tinySigned), { name: 'lib/', data: Buffer.alloc(0), method: 0, mode: 0o40755 }]));
    await add('path-traversal', 'PLUGIN_UNSAFE_PATH', 'an entry named "../evil.py"', rawZip(rawEntries([...tinySigned, { name: '../evil.py', data: Buffer.from('print("evil")\n') }])));
    await add('absolute-path', 'PLUGIN_UNSAFE_PATH', 'an entry named "/etc/evil"', rawZip(rawEntries([...tinySigned, { name: '/etc/evil', data: Buffer.from('evil\n') }])));
    await add('backslash-path', 'PLUGIN_UNSAFE_PATH', 'an entry named "..\\evil.py" (a traversal on Windows)', rawZip(rawEntries([...tinySigned, { name: '..\\evil.py', data: Buffer.from('print("evil")\n') }])));
    await add('drive-letter-path', 'PLUGIN_UNSAFE_PATH', 'an entry named "C:/evil.py" (a colon)', rawZip(rawEntries([...tinySigned, { name: 'C:/evil.py', data: Buffer.from('print("evil")\n') }])));
    await add('dot-segment-path', 'PLUGIN_UNSAFE_PATH', 'an entry named "lib/./evil.py"', rawZip(rawEntries([...tinySigned, { name: 'lib/./evil.py', data: Buffer.from('print("evil")\n') }])));
    // --- other readers would see other entries (local headers, layout, modes) ---
    const tinyRaw = rawEntries(tinySigned);
    const withEntry = (i: number, extra: Partial<RawEntry>) => tinyRaw.map((e, j) => (j === i ? { ...e, ...extra } : e));
    const moduleIndex = tinyRaw.findIndex((e) => e.name === 'tiny_plugin.py');
    await add('local-header-other-name', 'PLUGIN_MALFORMED', 'tiny_plugin.py whose local header names it evil_plugin.py (unzip by hand would write that name)', rawZip(withEntry(moduleIndex, { local: { name: 'evil_plugin.py' } })));
    await add('local-header-other-method', 'PLUGIN_MALFORMED', 'tiny_plugin.py deflated, its local header saying stored', rawZip(withEntry(moduleIndex, { local: { method: 0 } })));
    await add('local-header-other-size', 'PLUGIN_MALFORMED', 'tiny_plugin.py whose local header states a compressed size 1 byte larger', rawZip(withEntry(moduleIndex, { local: { compressedSize: deflateRawSync(tinyRaw[moduleIndex]!.data, { level: 9 }).length + 1 } })));
    await add('count-hides-an-entry', 'PLUGIN_MALFORMED', 'the good plugin plus evil.py, whose central record follows the ones the end record counts', rawZip([...tinyRaw, { name: 'evil.py', data: Buffer.from('print("evil")\n') }], Buffer.alloc(0), { count: tinyRaw.length }));
    await add('overlapping-entries', 'PLUGIN_MALFORMED', 'the good plugin plus a second central record "copy.py" pointing at the data of tiny_plugin.py', rawZip([...tinyRaw, { ...tinyRaw[moduleIndex]!, name: 'copy.py', sameDataAs: moduleIndex }]));
    await add('prefixed-data', 'PLUGIN_MALFORMED', 'the good plugin after 64 bytes of other data (offsets count them, as in a self-extracting archive)', rawZip(tinyRaw, Buffer.alloc(0), { prefix: Buffer.alloc(64, 0x41) }));
    await add('bytes-before-end-record', 'PLUGIN_MALFORMED', 'the good plugin with a ZIP64 end-of-directory locator between its directory and end record', rawZip(tinyRaw, Buffer.alloc(0), { beforeEnd: Buffer.concat([Buffer.from([0x50, 0x4b, 0x06, 0x07]), Buffer.alloc(16)]) }));
    await add('symlink-mode-dos-host', 'PLUGIN_SYMLINK', 'an entry "passwd" with symlink mode 0120777 under an MS-DOS "made by" host (some extractors honour it)', rawZip([...tinyRaw, { name: 'passwd', data: Buffer.from('/etc/passwd'), method: 0, mode: 0o120777, madeBy: 0x0014 }]));
    await add('fifo-mode', 'PLUGIN_SYMLINK', 'an entry "pipe" with Unix mode 010644 (a FIFO)', rawZip([...tinyRaw, { name: 'pipe', data: Buffer.alloc(0), method: 0, mode: 0o010644 }]));
    await add('names-equal-after-nfc', 'PLUGIN_DUPLICATE_ENTRY', 'entries "caf\\u00e9.txt" (NFC) and "cafe\\u0301.txt" (NFD): one file on macOS', rawZip([...tinyRaw, { name: 'caf\u00e9.txt', data: Buffer.from('a\n') }, { name: 'cafe\u0301.txt', data: Buffer.from('b\n') }]));
    await add('trailing-dot-name', 'PLUGIN_UNSAFE_PATH', 'an entry "data." (Windows writes it as "data")', rawZip([...tinyRaw, { name: 'data.', data: Buffer.from('a\n') }]));
    await add('trailing-space-name', 'PLUGIN_UNSAFE_PATH', 'an entry "lib /x.py" (Windows drops the space)', rawZip([...tinyRaw, { name: 'lib /x.py', data: Buffer.from('a = 1\n') }]));
    await add('symlink', 'PLUGIN_SYMLINK', 'an entry "passwd" with Unix mode 0120777 (a symlink to /etc/passwd)', rawZip([...rawEntries(tinySigned), { name: 'passwd', data: Buffer.from('/etc/passwd'), method: 0, mode: 0o120777 }]));
    await add('duplicate-name', 'PLUGIN_DUPLICATE_ENTRY', 'tiny_plugin.py twice, the second one different', rawZip(rawEntries([...tinySigned, { name: 'tiny_plugin.py', data: Buffer.from('print("evil")\n') }])));
    await add('case-duplicate', 'PLUGIN_DUPLICATE_ENTRY', '"Plugin.py" and "plugin.py": one file on Windows and macOS', rawZip(rawEntries([...tinySigned, { name: 'Plugin.py', data: Buffer.from('a = 1\n') }, { name: 'plugin.py', data: Buffer.from('a = 2\n') }])));
    await add('unicode-case-duplicate', 'PLUGIN_DUPLICATE_ENTRY', '"\u00c9t\u00e9.py" and "\u00e9t\u00e9.py" (U+00C9, U+00E9): equal once lower-cased, in every Unicode version', rawZip(rawEntries([...tinySigned, { name: '\u00c9t\u00e9.py', data: Buffer.from('a = 1\n') }, { name: '\u00e9t\u00e9.py', data: Buffer.from('a = 2\n') }])));
    await add('zip-bomb', 'PLUGIN_ZIP_BOMB', 'signed plugin with data/zeros.bin: 20 MiB of zeros deflated to ~20 KiB, honest sizes (ratio over 100:1)', (async () => {
      const signed = await signItems([...tiny, { name: 'data/zeros.bin', data: Buffer.alloc(20 * 1024 * 1024) }], dev);
      return rawZip(rawEntries(signed));
    })());
    await add('size-lie', 'PLUGIN_ZIP_BOMB', 'tiny_plugin.py declares 10 bytes but inflates to more', rawZip(rawEntries(tinySigned).map((e) => (e.name === 'tiny_plugin.py' ? { ...e, size: 10 } : e))));
    await add('bom-in-entry-name', 'PLUGIN_NOT_IN_MANIFEST', 'the good plugin with tiny_plugin.py renamed "\\uFEFFtiny_plugin.py" (UTF-8 flag set): a name is its exact bytes', rawZip(
      rawEntries(tinySigned).map((e) => (e.name === 'tiny_plugin.py' ? { ...e, name: '\uFEFFtiny_plugin.py' } : e)),
    ));
    await add('not-a-zip', 'PLUGIN_MALFORMED', 'a text file renamed .zip', Buffer.from('This is not a zip file, just text pretending to be a plugin.\n', 'utf8'));
    await add('truncated-zip', 'PLUGIN_MALFORMED', 'the first half of the good zip (no end-of-central-directory record)', (async () => {
      const good = await readFile(join(outDir, 'zips', 'good.zip'));
      return good.subarray(0, Math.floor(good.length / 2));
    })());
    await add('raw-byte-flip', 'PLUGIN_MALFORMED', 'one byte of stored tiny_plugin.py flipped, CRC-32 not updated', rawZip(
      rawEntries(tinySigned).map((e) => {
        if (e.name !== 'tiny_plugin.py') return e;
        const payload = Buffer.from(e.data);
        payload[20] ^= 0x20;
        return { ...e, method: 0, payload };
      }),
    ));
    await add('truncated-deflate', 'PLUGIN_MALFORMED', 'the deflate stream of tiny_plugin.py cut short (no final block); sizes and CRC as declared for the whole file', rawZip(
      rawEntries(tinySigned).map((e) => {
        if (e.name !== 'tiny_plugin.py') return e;
        const full = deflateRawSync(e.data, { level: 9 });
        return { ...e, payload: full.subarray(0, full.length - 4) };
      }),
    ));
    await add('unsupported-method', 'PLUGIN_MALFORMED', 'tiny_plugin.py with compression method 12 (bzip2)', rawZip(rawEntries(tinySigned).map((e) => (e.name === 'tiny_plugin.py' ? { ...e, method: 12 } : e))));
    await add('encrypted-entry', 'PLUGIN_MALFORMED', 'tiny_plugin.py flagged as encrypted (flag bit 0)', rawZip(rawEntries(tinySigned).map((e) => (e.name === 'tiny_plugin.py' ? { ...e, flags: 0x1 } : e))));
    await add('non-utf8-name', 'PLUGIN_MALFORMED', 'an entry name with byte 0xE9 and no UTF-8 flag', rawZip([...rawEntries(tinySigned), { name: Buffer.from('caf\xe9.py', 'latin1'), utf8: false, data: Buffer.from('a = 1\n') }]));
    await add('malformed-signature-file', 'PLUGIN_MALFORMED', 'SIGNATURE.ed25519 with an unknown header line ("helix-plugin-signature v2")', reproducibleZip(
      withSignatureText(tinySigned, signatureText(tinySigned).replace('helix-plugin-signature v1', 'helix-plugin-signature v2')),
      scratch,
    ));
    await add('signature-not-base64', 'PLUGIN_MALFORMED', 'the signature line holds a non-ASCII character ("é") in its base64', reproducibleZip(
      withSignatureText(tinySigned, signatureText(tinySigned).replace(/^ed25519: (.)/m, 'ed25519: é')),
      scratch,
    ));
    await add('signature-not-utf8', 'PLUGIN_MALFORMED', 'SIGNATURE.ed25519 holds byte 0xFF', reproducibleZip(
      withSignatureText(tinySigned, Buffer.concat([Buffer.from(signatureText(tinySigned), 'utf8'), Buffer.from([0xff])])),
      scratch,
    ));
    await add('bom-in-signature-file', 'PLUGIN_MALFORMED', 'SIGNATURE.ed25519 starts with a UTF-8 byte-order mark, so its first line is not the header', reproducibleZip(
      withSignatureText(tinySigned, `\uFEFF${signatureText(tinySigned)}`),
      scratch,
    ));
    await add('bad-metadata', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, but plugin.json has no "entry"', (async () => {
      const { entry: _entry, ...rest } = tinyMeta;
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(`${JSON.stringify(rest, null, 2)}\n`)), dev), scratch);
    })());
    await add('bom-in-plugin-json', 'PLUGIN_BAD_METADATA', 'signed plugin.json that starts with a UTF-8 byte-order mark (not JSON; the writer refuses it too)', (async () => {
      const text = `\uFEFF${JSON.stringify(tinyMeta, null, 2)}\n`;
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(text)), dev), scratch);
    })());
    await add('plugin-json-nested-65-levels', 'PLUGIN_BAD_METADATA', 'signed plugin.json nesting 65 levels deep, one over the limit', (async () => {
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(nestedMeta(tinyMeta, 65))), dev), scratch);
    })());
    await add('plugin-json-nested-5000-levels', 'PLUGIN_BAD_METADATA', "signed plugin.json nesting 5000 levels deep (past Python json's recursion limit)", (async () => {
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(nestedMeta(tinyMeta, 5000))), dev), scratch);
    })());
    await add('nan-in-plugin-json', 'PLUGIN_BAD_METADATA', 'signed plugin.json with "weight": NaN, which is not JSON', (async () => {
      const text = JSON.stringify({ ...tinyMeta, weight: 0 }, null, 2).replace('"weight": 0', '"weight": NaN');
      return reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(`${text}\n`)), dev), scratch);
    })());
    // Signed metadata is checked too (after the signature, before anything is written): a trusted
    // signature over a hostile plugin.json must not let it name paths or modules outside the plugin.
    const signedMeta = async (meta: Record<string, unknown> | string) =>
      reproducibleZip(await signItems(replaceItem(tiny, 'plugin.json', metaJson(typeof meta === 'string' ? meta : `${JSON.stringify(meta, null, 2)}\n`)), dev), scratch);
    await add('metadata-name-traversal', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "name": "../x"', signedMeta({ ...tinyMeta, name: '../x' }));
    await add('metadata-name-absolute', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "name": "/tmp/x"', signedMeta({ ...tinyMeta, name: '/tmp/x' }));
    await add('metadata-name-nul', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "name": "x\\u0000y" (a NUL)', signedMeta({ ...tinyMeta, name: 'x\u0000y' }));
    await add('metadata-name-lone-surrogate', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "name": "x\\ud800" (a lone surrogate, valid JSON text)', signedMeta(`${JSON.stringify(tinyMeta, null, 2).replace('"name": "tiny"', '"name": "x\\ud800"')}\n`));
    await add('metadata-name-trailing-dot', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "name": "tiny." (Windows drops the dot)', signedMeta({ ...tinyMeta, name: 'tiny.' }));
    await add('metadata-name-too-long', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, a 65-character "name"', signedMeta({ ...tinyMeta, name: 'n'.repeat(65) }));
    await add('metadata-version-traversal', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "version": "1/../../x"', signedMeta({ ...tinyMeta, version: '1/../../x' }));
    await add('metadata-version-newline', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "version": "1.0.0\\n" (a line break would forge output lines)', signedMeta({ ...tinyMeta, version: '1.0.0\n' }));
    await add('metadata-entry-path', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "entry": "../../evil:run"', signedMeta({ ...tinyMeta, entry: '../../evil:run' }));
    await add('metadata-entry-outside-module', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "entry": "os.path:join" (grammatical, but no such module in the plugin)', signedMeta({ ...tinyMeta, entry: 'os.path:join' }));
    await add('metadata-entry-module-missing', 'PLUGIN_BAD_METADATA', 'signed by the trusted key, plugin.json "entry": "absent_module:run"', signedMeta({ ...tinyMeta, entry: 'absent_module:run' }));
    // An object key given twice is refused, at any depth, never read first- or last-wins (the readers differ).
    const tinyText = JSON.stringify(tinyMeta, null, 2);
    await add('metadata-name-twice', 'PLUGIN_BAD_METADATA', 'signed plugin.json with "name": "../x" then "name": "tiny" (last-wins reads "tiny", first-wins "../x")', signedMeta(`${tinyText.replace('"name": "tiny"', '"name": "../x",\n  "name": "tiny"')}\n`));
    await add('metadata-key-twice-escaped', 'PLUGIN_BAD_METADATA', 'signed plugin.json with "version": "1.0.0" and "v\\u0065rsion": "2.0.0": one key once decoded', signedMeta(`${tinyText.replace('"version": "1.0.0"', '"version": "1.0.0",\n  "v\\u0065rsion": "2.0.0"')}\n`));
    await add('metadata-nested-key-twice', 'PLUGIN_BAD_METADATA', 'signed plugin.json with an extra field {"options": {"mode": "a", "mode": "b"}}: a key twice in a nested object', signedMeta(`${JSON.stringify({ ...tinyMeta, options: { mode: 'a' } }, null, 2).replace('"mode": "a"', '"mode": "a",\n    "mode": "b"')}\n`));
    await add('metadata-version-build', 'PLUGIN_OK', 'signed plugin.json with "version": "1.0.0+build.5" (the grammar allows "+")', signedMeta({ ...tinyMeta, version: '1.0.0+build.5' }));
    await add('file-and-folder', 'PLUGIN_DUPLICATE_ENTRY', 'the good plugin plus "tiny_plugin.py/x.py": tiny_plugin.py cannot be a file and a folder', rawZip(rawEntries([...tinySigned, { name: 'tiny_plugin.py/x.py', data: Buffer.from('a = 1\n') }])));
    await add('file-and-folder-case', 'PLUGIN_DUPLICATE_ENTRY', 'the good plugin plus "TINY_PLUGIN.PY/x.py": the same conflict on a case-insensitive file system', rawZip(rawEntries([...tinySigned, { name: 'TINY_PLUGIN.PY/x.py', data: Buffer.from('a = 1\n') }])));
    await add('name-component-too-long', 'PLUGIN_UNSAFE_PATH', 'the good plugin plus an entry whose name is 256 bytes (no file system holds it)', rawZip(rawEntries([...tinySigned, { name: `${'a'.repeat(253)}.py`, data: Buffer.from('a = 1\n') }])));
    await add('name-too-long', 'PLUGIN_UNSAFE_PATH', 'the good plugin plus an entry of five 250-byte components (1254 bytes, over 1024)', rawZip(rawEntries([...tinySigned, { name: Array.from({ length: 5 }, () => 'd'.repeat(250)).join('/'), data: Buffer.from('a = 1\n') }])));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }

  const table: TrustCaseTable = { schema: CASES_SCHEMA, trustStore: 'trust-store.json', cases };
  await writeFile(join(outDir, 'cases.json'), `${JSON.stringify(table, null, 2)}\n`);
  const trustStore = {
    schema: 'helix-trust-store/v1',
    keys: [
      {
        name: DEV_KEY_NAME,
        ed25519: Buffer.from(dev.publicKey).toString('base64'),
        comment: 'DEVELOPMENT ONLY: public half of workspace-fixtures/keys/DEVELOPMENT-ONLY-plugin-signing-key.pem; trust store of the plugin trust-case table.',
      },
    ],
  };
  await writeFile(join(outDir, 'trust-store.json'), `${JSON.stringify(trustStore, null, 2)}\n`);
  const keyTable = { schema: KEY_CASES_SCHEMA, cases: keyCases(dev.publicKey, other.publicKey) };
  await writeFile(join(outDir, 'key-cases.json'), `${JSON.stringify(keyTable, null, 2)}\n`);
  return table;
}

if (typeof require !== 'undefined' && require.main === module) {
  generate(CASES_DIR).then(
    (table) => console.log(`wrote ${table.cases.length} cases to ${CASES_DIR}`),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
