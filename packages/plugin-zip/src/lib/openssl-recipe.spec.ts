/**
 * The README's "Checking a plugin with openssl" recipe, run as written (the
 * code block is read from the README) with the real openssl, unzip and
 * sha256sum on a plugin zip built by this package: a reader can check a
 * plugin without any of our code.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeReproducibleZip } from '@helix-release/core';
import { publicKeyOf, seedFromPem } from './keys';
import { pluginEntries } from './plugin-zip';

const repo = resolve(__dirname, '../../../..');
let dir: string;
let publicKeyB64: string;

async function recipe(): Promise<string> {
  const readme = await readFile(join(repo, 'packages/plugin-zip/README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Checking a plugin with openssl'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no sh code block under "Checking a plugin with openssl"');
  return block[1]!;
}

function runRecipe(script: string, zip: string): { code: number; out: string } {
  const filled = script.replaceAll('hello-1.0.0.zip', zip).replaceAll('<ed25519 base64 from the trust store>', publicKeyB64);
  const r = spawnSync('bash', ['-eo', 'pipefail', '-c', filled], { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'openssl-recipe-'));
  const pem = await readFile(join(repo, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-plugin-signing-key.pem'), 'utf8');
  const seed = seedFromPem(pem, 'dev key');
  const publicKey = await publicKeyOf(seed);
  publicKeyB64 = Buffer.from(publicKey).toString('base64');
  const entries = await pluginEntries(join(repo, 'workspace-fixtures/plugins/wordcount'), { name: 'helix-dev-plugins', seed, publicKey, origin: 'development-key-file' });
  await writeReproducibleZip(join(dir, 'good.zip'), entries, 1_700_000_000);
  // The same plugin with one file changed after signing, CRC recomputed by zip.
  await writeReproducibleZip(
    join(dir, 'tampered.zip'),
    entries.map((e) => (e.name === 'wordcount/count.py' ? { name: e.name, kind: 'buffer' as const, data: Buffer.from('def count(text):\n    return 0, 0\n') } : e)),
    1_700_000_000,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('README openssl recipe', () => {
  it('uses the trust store key of the repository', async () => {
    const store = JSON.parse(await readFile(join(repo, 'workspace-fixtures/trust-store/trust-store.json'), 'utf8')) as { keys: { name: string; ed25519: string }[] };
    expect(store.keys.find((k) => k.name === 'helix-dev-plugins')?.ed25519).toBe(publicKeyB64);
  });

  it('verifies a good plugin with openssl pkeyutl and sha256sum', async () => {
    const r = runRecipe(await recipe(), 'good.zip');
    expect(r.out).toContain('Signature Verified Successfully');
    expect(r.out).toMatch(/wordcount\/count\.py: OK/);
    expect(r.code, r.out).toBe(0);
  });

  it('fails on a plugin whose content differs from the signed manifest', async () => {
    await rm(join(dir, 'x'), { recursive: true, force: true });
    const r = runRecipe(await recipe(), 'tampered.zip');
    expect(r.out).toContain('Signature Verified Successfully'); // the manifest itself is intact…
    expect(r.out).toMatch(/wordcount\/count\.py: FAILED/); // …but the content is not
    expect(r.code).not.toBe(0);
  });

  it('fails when the signed manifest is edited', async () => {
    await rm(join(dir, 'x'), { recursive: true, force: true });
    const sig = execFileSync('unzip', ['-p', join(dir, 'good.zip'), 'SIGNATURE.ed25519'], { encoding: 'utf8' });
    const forged = sig.replace(/^[0-9a-f]{64}(?= {2}plugin\.json$)/m, '0'.repeat(64));
    expect(forged).not.toBe(sig);
    await writeFile(join(dir, 'sig-forged.txt'), forged);
    const script = (await recipe()).replace('unzip -p hello-1.0.0.zip SIGNATURE.ed25519 > sig.txt', 'cp sig-forged.txt sig.txt');
    const r = runRecipe(script, 'good.zip');
    expect(r.out).not.toContain('Signature Verified Successfully');
    expect(r.code).not.toBe(0);
  });
});
