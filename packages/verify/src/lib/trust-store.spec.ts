/**
 * Trust stores: every way a store can be unusable is TRUST_STORE_INVALID,
 * naming the file and the entry; the repository's own store and a well-formed
 * one load, key by name.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseError, verifyEd25519 } from '@helix-release/format';
import { loadTrustStore, parseTrustStore } from './trust-store';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const FILE = 'trust-store.json';
/** Shared with the Python verifiers: workspace-fixtures/plugin-trust-cases/key-cases.json. */
const KEY_TABLE = JSON.parse(readFileSync(join(REPO_ROOT, 'workspace-fixtures', 'plugin-trust-cases', 'key-cases.json'), 'utf8')) as {
  schema: string;
  cases: { name: string; ed25519: string; fault: 'non-canonical' | 'small-order' | 'mixed-order' | null; why: string }[];
};
const FAULT_TEXT = { 'non-canonical': 'not the canonical encoding of a curve point', 'small-order': 'a point of small order', 'mixed-order': 'not in the prime-order subgroup' };
const keyOf = (name: string) => KEY_TABLE.cases.find((c) => c.name === name)!.ed25519;
const KEY_A = keyOf('good');
const KEY_B = keyOf('other');
const store = (keys: unknown, schema: unknown = 'helix-trust-store/v1') => JSON.stringify({ schema, keys });

/** The TRUST_STORE_INVALID error parseTrustStore throws for `text`, naming FILE (the test fails if it does not throw). */
function refusal(text: string): ReleaseError {
  let err: unknown;
  try {
    parseTrustStore(text, FILE);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ReleaseError);
  expect((err as ReleaseError).code).toBe('TRUST_STORE_INVALID');
  expect((err as ReleaseError).file).toBe(FILE);
  return err as ReleaseError;
}

describe('parseTrustStore refuses', () => {
  it.each<[what: string, text: string, message: string | RegExp]>([
    ['text that is not JSON', '{"schema": "helix-trust-store/v1", "keys": [', /^not JSON: /],
    ['an empty file', '', /^not JSON: /],
    ['JSON null', 'null', 'not a trust store (expected "schema": "helix-trust-store/v1")'],
    ['a JSON array', '[]', 'not a trust store (expected "schema": "helix-trust-store/v1")'],
    ['no schema', JSON.stringify({ keys: [] }), 'not a trust store (expected "schema": "helix-trust-store/v1")'],
    ['another schema', store([], 'helix-trust-store/v2'), 'not a trust store (expected "schema": "helix-trust-store/v1")'],
    ['a key without a name', store([{ ed25519: KEY_A }]), 'keys[0] needs string fields name and ed25519'],
    ['a key that is a number', store([{ name: 'a', ed25519: 12345 }]), 'keys[0] needs string fields name and ed25519'],
    ['an entry that is not an object', store([{ name: 'a', ed25519: KEY_A }, 'b']), 'keys[1] needs string fields name and ed25519'],
    ['a key that is not base64', store([{ name: 'release-plugins', ed25519: 'not base64!' }]), 'keys[0] (release-plugins): ed25519 is not base64'],
    ['a key in base64url', store([{ name: 'url', ed25519: Buffer.alloc(32, 0xfb).toString('base64url') }]), 'keys[0] (url): ed25519 is not base64'],
    ['a key in hex', store([{ name: 'hex', ed25519: 'a1'.repeat(32) }]), 'keys[0] (hex): ed25519 key must be 32 bytes, got 48'],
    ['a 31-byte key', store([{ name: 'short', ed25519: Buffer.alloc(31, 7).toString('base64') }]), 'keys[0] (short): ed25519 key must be 32 bytes, got 31'],
    ['a 33-byte key', store([{ name: 'long', ed25519: Buffer.alloc(33, 7).toString('base64') }]), 'keys[0] (long): ed25519 key must be 32 bytes, got 33'],
    ['an empty key', store([{ name: 'empty', ed25519: '' }]), 'keys[0] (empty): ed25519 key must be 32 bytes, got 0'],
    ['keys that are not an array', store({ a: KEY_A }), 'keys must be an array'],
    ['a key given twice in one object (JSON.parse would keep the last)', `{"schema": "helix-trust-store/v1", "keys": [{"name": "a", "ed25519": "${KEY_A}", "ed25519": "${KEY_B}"}]}`, /^not JSON: the key "ed25519" is given twice in one object$/],
    ['a duplicate name', store([{ name: 'release-plugins', ed25519: KEY_A }, { name: 'release-plugins', ed25519: KEY_B }]), 'keys[1]: duplicate key name "release-plugins"'],
    ['a duplicate name after a good third key', store([{ name: 'a', ed25519: KEY_A }, { name: 'b', ed25519: KEY_B }, { name: 'a', ed25519: KEY_A }]), 'keys[2]: duplicate key name "a"'],
  ])('%s', (_what, text, message) => {
    const e = refusal(text);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });
});

describe('the key table (key-cases.json), shared with the Python verifiers', () => {
  it('holds two good keys, the eight points of small order, and every other kind of fault', () => {
    expect(KEY_TABLE.schema).toBe('helix-trust-store-key-cases/v1');
    const count = (fault: string | null) => KEY_TABLE.cases.filter((c) => c.fault === fault).length;
    expect([count(null), count('small-order'), count('non-canonical'), count('mixed-order')]).toEqual([2, 8, 4, 2]);
    expect(new Set(KEY_TABLE.cases.filter((c) => c.fault === 'small-order').map((c) => c.ed25519)).size).toBe(8);
  });

  it('is why: with the identity as a key, a signature made without any private key verifies for any message', async () => {
    const identity = Buffer.from(keyOf('small-order-0'), 'base64');
    const forged = Buffer.concat([identity, Buffer.alloc(32)]); // R = identity, S = 0
    for (const message of ['anything', 'a plugin manifest']) expect(await verifyEd25519(identity, forged, Buffer.from(message))).toBe(true);
  });

  it.each(KEY_TABLE.cases)('$name ($why): $fault', ({ name, ed25519, fault }) => {
    const text = store([{ name: 'release-plugins', ed25519: KEY_B }, { name, ed25519 }]);
    if (fault === null) {
      expect(Buffer.from(parseTrustStore(text, FILE).get(name)!).toString('base64')).toBe(ed25519);
      return;
    }
    const e = refusal(text);
    expect(e.message.startsWith(`keys[1] (${name}): ed25519 key is ${FAULT_TEXT[fault]}`)).toBe(true);
    expect(e.message).toMatch(/; remove it and ask its owner for their real public key$/);
  });
});

describe('parseTrustStore accepts', () => {
  it('keys by name, as raw 32-byte keys, ignoring comments', () => {
    const parsed = parseTrustStore(store([{ name: 'a', ed25519: KEY_A, comment: 'first' }, { name: 'b', ed25519: KEY_B }]), FILE);
    expect([...parsed.keys()]).toEqual(['a', 'b']);
    expect(Buffer.from(parsed.get('a')!)).toEqual(Buffer.from(KEY_A, 'base64'));
    expect(Buffer.from(parsed.get('b')!)).toEqual(Buffer.from(KEY_B, 'base64'));
  });

  it('a store without keys (trusts nothing)', () => {
    expect(parseTrustStore(store([]), FILE).size).toBe(0);
  });
});

describe('loadTrustStore', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'helix-trust-store-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('loads the repository\'s development store', async () => {
    const loaded = await loadTrustStore(join(REPO_ROOT, 'workspace-fixtures', 'trust-store', 'trust-store.json'));
    expect([...loaded.keys()]).toEqual(['helix-dev-plugins']);
    expect(loaded.get('helix-dev-plugins')).toHaveLength(32);
  });

  it.each<[what: string, write: string | Buffer | undefined, message: RegExp]>([
    ['a file that is not there', undefined, /^cannot read the trust store$/],
    ['a file that is not JSON', 'schema: helix-trust-store/v1\n', /^not JSON: /],
    ['a file with a 31-byte key', store([{ name: 'short', ed25519: Buffer.alloc(31).toString('base64') }]), /got 31$/],
    // The store is UTF-8 JSON, as in the Python verifiers (the Studio's json.load once guessed UTF-16 and skipped a BOM).
    ['a UTF-8 byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(store([{ name: 'a', ed25519: KEY_A }]))]), /^not JSON: /],
    ['UTF-16', Buffer.from(`\ufeff${store([{ name: 'a', ed25519: KEY_A }])}`, 'utf16le'), /^not UTF-8$/],
    ['a Latin-1 comment', Buffer.from(store([{ name: 'a', ed25519: KEY_A, comment: 'café' }]), 'latin1'), /^not UTF-8$/],
    ['a folder', 'folder', /^not a regular file$/],
    ['a file over 16 MiB', Buffer.alloc(16 * 1024 * 1024 + 1, 0x20), /^larger than 16 MiB$/],
  ])('names the file of %s', async (what, write, message) => {
    const file = join(dir, `${what.replace(/\W+/g, '-')}.json`);
    if (write === 'folder') await mkdir(file);
    else if (write !== undefined) await writeFile(file, write);
    const err = await loadTrustStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseError);
    expect((err as ReleaseError).code).toBe('TRUST_STORE_INVALID');
    expect((err as ReleaseError).file).toBe(file);
    expect((err as ReleaseError).message).toMatch(message);
  });
});
