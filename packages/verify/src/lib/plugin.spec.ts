import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { readZipDirectory, writeReproducibleZip } from '@helix-release/core';
import { SIGNATURE_ENTRY, compareBytes } from '@helix-release/format';
import { pluginEntries, publicKeyOf, seedFromPem, type PluginSigningKey } from '@helix-release/plugin-zip';
import { CASES_DIR, generate, type TrustCaseTable } from '../../../../workspace-fixtures/plugin-trust-cases/generate';
import type { PluginCode } from '@helix-release/format';
import { verifyPluginZip } from './plugin';
import { loadTrustStore } from './trust-store';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const REPO_TRUST_STORE = join(REPO_ROOT, 'workspace-fixtures', 'trust-store', 'trust-store.json');
const DEV_KEY_FILE = join(REPO_ROOT, 'workspace-fixtures', 'keys', 'DEVELOPMENT-ONLY-plugin-signing-key.pem');

/** Every code a verdict can carry; the table must reach each of them. */
const ALL_CODES: readonly PluginCode[] = [
  'PLUGIN_OK',
  'PLUGIN_UNSIGNED',
  'PLUGIN_UNTRUSTED_KEY',
  'PLUGIN_BAD_SIGNATURE',
  'PLUGIN_DIGEST_MISMATCH',
  'PLUGIN_MISSING_ENTRY',
  'PLUGIN_NOT_IN_MANIFEST',
  'PLUGIN_UNSAFE_PATH',
  'PLUGIN_SYMLINK',
  'PLUGIN_DUPLICATE_ENTRY',
  'PLUGIN_ZIP_BOMB',
  'PLUGIN_MALFORMED',
  'PLUGIN_BAD_METADATA',
];

// Read synchronously at collection time so that it.each can name every case.
const table = JSON.parse(readFileSync(join(CASES_DIR, 'cases.json'), 'utf8')) as TrustCaseTable;

/** Files below `dir` (relative, '/'-separated, sorted), skipping the generator's own inputs. */
async function listTree(dir: string, skip: ReadonlySet<string> = new Set()): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string): Promise<void> => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = join(at, entry.name);
      const rel = relative(dir, full).split('\\').join('/');
      if (skip.has(rel)) continue;
      if (entry.isDirectory()) await walk(full);
      else out.push(rel);
    }
  };
  await walk(dir);
  return out.sort(compareBytes);
}

async function devKey(): Promise<PluginSigningKey> {
  const seed = seedFromPem(await readFile(DEV_KEY_FILE, 'utf8'), DEV_KEY_FILE);
  return { name: 'helix-dev-plugins', seed, publicKey: await publicKeyOf(seed), origin: 'development-key-file' };
}

describe('the shared plugin trust-case table (workspace-fixtures/plugin-trust-cases)', () => {
  it('is a v1 table whose cases reach every verdict code', () => {
    expect(table.schema).toBe('helix-plugin-trust-cases/v1');
    expect(table.trustStore).toBe('trust-store.json');
    expect(new Set(table.cases.map((c) => c.name)).size).toBe(table.cases.length);
    expect([...new Set(table.cases.map((c) => c.expect))].sort()).toEqual([...ALL_CODES].sort());
    for (const c of table.cases) {
      expect(c.zip).toBe(`zips/${c.name}.zip`);
      expect(c.why).toMatch(/\S/);
    }
  });

  it.each(table.cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const trust = await loadTrustStore(join(CASES_DIR, table.trustStore));
    const verdict = await verifyPluginZip(await readFile(join(CASES_DIR, c.zip)), trust);
    expect({ code: verdict.code, structural: verdict.structural }, verdict.reason).toEqual({ code: c.expect, structural: c.structural });
  });

  it('is what generate.ts writes, byte for byte (regenerate and commit if this fails)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'helix-trust-cases-'));
    try {
      await generate(out);
      const fresh = await listTree(out);
      const committed = await listTree(CASES_DIR, new Set(['generate.ts', 'README.md', 'source']));
      expect(committed).toEqual(fresh);
      for (const rel of fresh) {
        const [a, b] = await Promise.all([readFile(join(out, rel)), readFile(join(CASES_DIR, rel))]);
        expect(a.equals(b), `${rel} differs from a fresh generation`).toBe(true);
      }
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });

  it('holds the same development key as the repository trust store', async () => {
    const mine = await loadTrustStore(join(CASES_DIR, table.trustStore));
    const repo = await loadTrustStore(REPO_TRUST_STORE);
    expect([...mine.keys()]).toEqual(['helix-dev-plugins']);
    expect(Buffer.from(mine.get('helix-dev-plugins')!).equals(Buffer.from(repo.get('helix-dev-plugins')!))).toBe(true);
  });
});

describe('real plugins against the repository trust store', () => {
  it('accepts the good fixture and the sample plugins, built the real way', async () => {
    const trust = await loadTrustStore(REPO_TRUST_STORE);
    const good = await verifyPluginZip(await readFile(join(CASES_DIR, 'zips', 'good.zip')), trust);
    expect(good).toMatchObject({ code: 'PLUGIN_OK', structural: false, keyName: 'helix-dev-plugins', name: 'tiny', version: '1.0.0' });

    const key = await devKey();
    const dir = await mkdtemp(join(tmpdir(), 'helix-real-plugin-'));
    try {
      for (const plugin of ['hello', 'wordcount']) {
        const out = join(dir, `${plugin}.zip`);
        await writeReproducibleZip(out, await pluginEntries(join(REPO_ROOT, 'workspace-fixtures', 'plugins', plugin), key), 1_704_067_200);
        const verdict = await verifyPluginZip(await readFile(out), trust);
        expect(verdict, verdict.reason).toMatchObject({ code: 'PLUGIN_OK', name: plugin });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a real plugin tampered with after signing', async () => {
    const trust = await loadTrustStore(REPO_TRUST_STORE);
    const key = await devKey();
    const dir = await mkdtemp(join(tmpdir(), 'helix-real-plugin-'));
    try {
      const entries = await pluginEntries(join(REPO_ROOT, 'workspace-fixtures', 'plugins', 'hello'), key);
      const signed = join(dir, 'hello.zip');
      await writeReproducibleZip(signed, entries, 1_704_067_200);
      const bytes = await readFile(signed);
      expect((await verifyPluginZip(bytes, trust)).code).toBe('PLUGIN_OK');

      // Same signature, one module rewritten: a well-formed zip whose content is not what was signed.
      const tampered = entries.map((e) =>
        e.name === 'hello_plugin.py' ? { name: e.name, kind: 'buffer' as const, data: Buffer.from('def run(args):\n    return "pwned"\n') } : e,
      );
      expect(tampered.some((e) => e.name === SIGNATURE_ENTRY)).toBe(true);
      const rewritten = join(dir, 'hello-tampered.zip');
      await writeReproducibleZip(rewritten, tampered, 1_704_067_200);
      const mismatch = await verifyPluginZip(await readFile(rewritten), trust);
      expect(mismatch).toMatchObject({ code: 'PLUGIN_DIGEST_MISMATCH', entry: 'hello_plugin.py', structural: false });

      // A byte flipped inside the module's deflated data: bad deflate data or a CRC-32 mismatch.
      const entry = readZipDirectory(bytes, 'hello.zip').find((e) => e.name === 'hello_plugin.py')!;
      const dataStart = entry.localHeaderOffset + 30 + bytes.readUInt16LE(entry.localHeaderOffset + 26) + bytes.readUInt16LE(entry.localHeaderOffset + 28);
      const flipped = Buffer.from(bytes);
      flipped[dataStart + Math.floor(entry.compressedSize / 2)] ^= 0x10;
      const corrupt = await verifyPluginZip(flipped, trust);
      expect(corrupt.structural, corrupt.reason).toBe(true);
      expect(['PLUGIN_MALFORMED', 'PLUGIN_ZIP_BOMB']).toContain(corrupt.code);

      // Cut short: no end record.
      expect(await verifyPluginZip(bytes.subarray(0, bytes.length - 30), trust)).toMatchObject({ code: 'PLUGIN_MALFORMED', structural: true });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
