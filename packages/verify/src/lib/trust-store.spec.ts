/**
 * Trust stores: every way a store can be unusable is TRUST_STORE_INVALID,
 * naming the file and the entry; the repository's own store and a well-formed
 * one load, key by name.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseError } from '@helix-release/format';
import { loadTrustStore, parseTrustStore } from './trust-store';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const FILE = 'trust-store.json';
const KEY_A = Buffer.alloc(32, 0xa1).toString('base64');
const KEY_B = Buffer.alloc(32, 0xb2).toString('base64');
const store = (keys: unknown, schema: unknown = 'helix-trust-store/v1') => JSON.stringify({ schema, keys });

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
    ['a duplicate name', store([{ name: 'release-plugins', ed25519: KEY_A }, { name: 'release-plugins', ed25519: KEY_B }]), 'keys[1]: duplicate key name "release-plugins"'],
    ['a duplicate name after a good third key', store([{ name: 'a', ed25519: KEY_A }, { name: 'b', ed25519: KEY_B }, { name: 'a', ed25519: KEY_A }]), 'keys[2]: duplicate key name "a"'],
  ])('%s', (_what, text, message) => {
    let err: unknown;
    try {
      parseTrustStore(text, FILE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ReleaseError);
    const e = err as ReleaseError;
    expect(e.code).toBe('TRUST_STORE_INVALID');
    expect(e.file).toBe(FILE);
    if (typeof message === 'string') expect(e.message).toBe(message);
    else expect(e.message).toMatch(message);
  });
});

describe('parseTrustStore accepts', () => {
  it('keys by name, as raw 32-byte keys, ignoring comments', () => {
    const parsed = parseTrustStore(store([{ name: 'a', ed25519: KEY_A, comment: 'first' }, { name: 'b', ed25519: KEY_B }]), FILE);
    expect([...parsed.keys()]).toEqual(['a', 'b']);
    expect(Buffer.from(parsed.get('a')!)).toEqual(Buffer.alloc(32, 0xa1));
    expect(Buffer.from(parsed.get('b')!)).toEqual(Buffer.alloc(32, 0xb2));
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

  it.each<[what: string, write: string | undefined, message: RegExp]>([
    ['a file that is not there', undefined, /^cannot read the trust store$/],
    ['a file that is not JSON', 'schema: helix-trust-store/v1\n', /^not JSON: /],
    ['a file with a 31-byte key', store([{ name: 'short', ed25519: Buffer.alloc(31).toString('base64') }]), /got 31$/],
  ])('names the file of %s', async (what, write, message) => {
    const file = join(dir, `${what.replace(/\W+/g, '-')}.json`);
    if (write !== undefined) await writeFile(file, write);
    const err = await loadTrustStore(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseError);
    expect((err as ReleaseError).code).toBe('TRUST_STORE_INVALID');
    expect((err as ReleaseError).file).toBe(file);
    expect((err as ReleaseError).message).toMatch(message);
  });
});
