/**
 * The standalone Python verifiers (tools/verify_release_signatures.py and
 * tools/verify_release_provenance.py) against a small synthetic release
 * (tools/tests/synthetic-release.ts: real files and records, and REAL OpenPGP
 * signatures from a key that the real `gpg` generates in a temporary
 * GNUPGHOME). Then one good release and a table
 * of tampered ones, each of which must fail the right script with the right
 * code and name the file; and the shared plugin trust-case table through the
 * signatures script's pure-Python Ed25519 and zip checks.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as openpgp from 'openpgp';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { appendFile, copyFile, cp, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { createPublicKey, sign as cryptoSign } from 'node:crypto';
import { dssePae, openpgpJwk } from '@helix-release/format';
import { detachedSignature, dsseKeyOf, loadSigningKey, publicKeyArmor, publicKeyPem, type DsseKey } from '@helix-release/sign';
import { MAX_PLUGIN_FILE_BYTES, formatResult, loadTrustStore, verifyPluginFile, verifyRelease } from '@helix-release/verify';
import {
  CDX_INSTALLER, CDX_PLUGIN, COMMIT, FINGERPRINT_FILE, INSTALLER, PLUGIN, PUBLIC_KEY, PUBLIC_KEY_PEM, SBOM_INSTALLER, SBOM_PLUGIN, SDE, TAG, TestGpg, buildRelease, dsseKeyOfArmor, mustRun, sha256,
  type Signer, type Tweaks,
} from './tests/synthetic-release';

const REPO_ROOT = resolve(__dirname, '..');
const SIGNATURES_PY = join(REPO_ROOT, 'tools', 'verify_release_signatures.py');
const PROVENANCE_PY = join(REPO_ROOT, 'tools', 'verify_release_provenance.py');
const CASES_DIR = join(REPO_ROOT, 'workspace-fixtures', 'plugin-trust-cases');
const TRUST_STORE = join(CASES_DIR, 'trust-store.json');
const PYTHON = process.env['HELIX_TEST_PYTHON'] || 'python3';
const DEV_KEYS = join(REPO_ROOT, 'workspace-fixtures', 'keys');

interface TrustCase {
  name: string;
  zip: string;
  expect: string;
  structural: boolean;
  why: string;
}
const table = JSON.parse(readFileSync(join(CASES_DIR, 'cases.json'), 'utf8')) as { cases: TrustCase[] };

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function python(script: string, args: readonly string[]): Run {
  const r: SpawnSyncReturns<string> = spawnSync(PYTHON, [script, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const failedLines = (run: Run) => run.stdout.split('\n').filter((l) => l.startsWith('FAILED '));

/** Every output line is one of the three documented forms. */
function expectWellFormed(run: Run): void {
  const shown = `${run.stdout}${run.stderr}`;
  expect(run.stderr, shown).not.toMatch(/Traceback/);
  for (const line of run.stdout.split('\n').filter(Boolean)) {
    expect(line, shown).toMatch(/^(PASSED [a-z-]+: .+|FAILED [A-Z_]+: .+: .+|WARN [A-Z_]+: .+: .+|SKIPPED [a-z-]+: .+)$/);
  }
}

function expectPass(run: Run): void {
  expectWellFormed(run);
  expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
  expect(failedLines(run)).toEqual([]);
  expect(run.stdout).toMatch(/^PASSED /m);
}

/** Exit 1 with `FAILED <code>: <file>: ...`; with `only`, no other code fails. */
function expectFailure(run: Run, code: string, file: string, only = false): void {
  expectWellFormed(run);
  const shown = `${run.stdout}${run.stderr}`;
  expect(run.status, shown).toBe(1);
  expect(failedLines(run).some((l) => l.startsWith(`FAILED ${code}: ${file}: `)), shown).toBe(true);
  if (only) expect([...new Set(failedLines(run).map((l) => l.split(':')[0]))], shown).toEqual([`FAILED ${code}`]);
}

let work = '';
let good = '';
const gpg = new TestGpg();
let counter = 0;

/** A fresh copy of the good release. */
async function copyOfGood(): Promise<string> {
  const dir = join(work, `case-${++counter}`);
  await cp(good, dir, { recursive: true });
  return dir;
}

/** A fresh release built with `tweaks`. */
async function tweaked(tweaks: Tweaks): Promise<string> {
  const dir = join(work, `case-${++counter}`);
  await buildRelease(dir, gpg, tweaks);
  return dir;
}

const signatures = (dir: string, ...extra: string[]) => python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', gpg.fingerprint, ...extra]);
const provenance = (dir: string, ...extra: string[]) => python(PROVENANCE_PY, ['--dir', dir, ...extra]);

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'helix-pyv-'));
  await gpg.init();
  good = join(work, 'good');
  await buildRelease(good, gpg);
});

afterAll(async () => {
  await gpg.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the Python verifiers on a good synthetic release', () => {
  it('are standalone executables', async () => {
    for (const script of [SIGNATURES_PY, PROVENANCE_PY]) {
      expect((await stat(script)).mode & 0o777).toBe(0o755);
      const text = await readFile(script, 'utf8');
      expect(text.startsWith('#!/usr/bin/env python3\n"""')).toBe(true);
      // Standard library only: nothing of this repository, no third-party package.
      expect(text).not.toMatch(/^\s*(from|import)\s+(cryptography|nacl|gnupg|helix_studio)\b/m);
      expect(text).not.toMatch(/^\s*import\s+zipfile\b/m);
    }
  });

  it('pass the signatures (pinned fingerprint, plugins against the trust store)', () => {
    const run = signatures(good, '--trust-store', TRUST_STORE);
    expectPass(run);
    expect(run.stdout).toContain(`PASSED key: ${PUBLIC_KEY}\n`);
    for (const f of ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', SBOM_INSTALLER, SBOM_PLUGIN, CDX_INSTALLER, CDX_PLUGIN, 'conformance-results.json', 'conformance.log']) {
      expect(run.stdout).toContain(`PASSED signature: ${f}.asc\n`);
    }
    expect(run.stdout).toContain(`PASSED plugin: ${PLUGIN}\n`);
  });

  it('skip the plugin check without a trust store', () => {
    const run = signatures(good);
    expectPass(run);
    expect(run.stdout).toMatch(/^SKIPPED plugin: /m);
  });

  it('pass the provenance, with and without --commit and --tag', () => {
    const plain = provenance(good);
    expectPass(plain);
    for (const check of ['sums', 'coverage', 'provenance', 'build-meta', 'build-clean', 'conformance']) expect(plain.stdout).toMatch(new RegExp(`^PASSED ${check}: `, 'm'));
    expect(plain.stdout).toContain(`PASSED sbom: ${SBOM_INSTALLER}\n`);
    expect(plain.stdout).toContain(`PASSED sbom: ${SBOM_PLUGIN}\n`);
    expect(plain.stdout).toContain(`PASSED sbom: ${CDX_INSTALLER}\n`);
    expect(plain.stdout).toContain(`PASSED sbom: ${CDX_PLUGIN}\n`);
    expect(plain.stdout).toMatch(/^SKIPPED provenance: no --commit/m);
    const pinned = provenance(good, '--commit', COMMIT.toUpperCase(), '--tag', TAG);
    expectPass(pinned);
    expect(pinned.stdout).not.toMatch(/^SKIPPED/m);
  });

  it('refuse a release built from a dirty tree, and accept it with --allow-dirty, printing a WARN line', async () => {
    const dir = await tweaked({ dirty: true });
    expectFailure(provenance(dir), 'BUILD_DIRTY', 'release-provenance.intoto.json', true);
    const accepted = provenance(dir, '--allow-dirty');
    expectPass(accepted);
    expect(accepted.stdout).toMatch(/^WARN BUILD_DIRTY: release-provenance\.intoto\.json: built from a working tree with uncommitted changes \(release-provenance\.intoto\.json and BUILD_META\.txt say dirty\).*\(accepted with --allow-dirty\)$/m);
    const ts = await verifyRelease(dir, { fingerprint: gpg.fingerprint, allowDirty: true });
    expect(ts.filter((r) => r.status === 'WARN').map((r) => `${r.check} ${r.code} ${r.file}`)).toEqual(['build-clean BUILD_DIRTY release-provenance.intoto.json']);
    expect(ts.filter((r) => r.status === 'FAILED')).toEqual([]);
  });

  it('print a JSON array with --json', () => {
    for (const run of [signatures(good, '--json'), provenance(good, '--json')]) {
      expect(run.status, run.stdout + run.stderr).toBe(0);
      const results = JSON.parse(run.stdout) as Record<string, unknown>[];
      expect(results.length).toBeGreaterThan(3);
      for (const r of results) {
        expect(Object.keys(r).sort()).toEqual(['check', 'code', 'file', 'reason', 'status']);
        expect(['PASSED', 'SKIPPED']).toContain(r['status']);
      }
    }
    const bad = JSON.parse(signatures(good, '--json', '--fingerprint', gpg.otherFingerprint).stdout) as Record<string, unknown>[];
    expect(bad).toContainEqual(expect.objectContaining({ status: 'FAILED', check: 'key', code: 'KEY_MISMATCH', file: PUBLIC_KEY }));
  });

  it('refuse a release signed with the DEVELOPMENT key, and accept it with --allow-development-key (OpenPGP.js signatures)', async () => {
    const key = await loadSigningKey(
      {
        armoredKey: await readFile(join(DEV_KEYS, 'DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8'),
        passphrase: (await readFile(join(DEV_KEYS, 'DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8')).replace(/\r?\n$/, ''),
        expectedFingerprint: (await readFile(join(DEV_KEYS, 'DEVELOPMENT-ONLY-release-signing-key.fingerprint'), 'utf8')).trim(),
        origin: 'development-key',
        where: 'workspace-fixtures/keys',
      },
      SDE,
    );
    const signer: Signer = {
      fingerprint: key.fingerprint,
      publicKey: () => publicKeyArmor(key),
      sign: async (file) => writeFile(`${file}.asc`, await detachedSignature(key, await readFile(file), SDE)),
      dsseKey: async () => dsseKeyOf(key),
    };
    const dir = join(work, 'openpgpjs');
    await buildRelease(dir, signer);
    // Pinned or not, the key says DEVELOPMENT ONLY: both verifiers refuse it, and still check every signature.
    const refused = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', key.fingerprint, '--trust-store', TRUST_STORE]);
    expectFailure(refused, 'KEY_DEVELOPMENT', PUBLIC_KEY, true);
    expect(refused.stdout).toMatch(/^FAILED KEY_DEVELOPMENT: release-signing-public-key\.asc: signed with a DEVELOPMENT key \(helix-release DEVELOPMENT ONLY signing key .*pass --allow-development-key to accept it$/m);
    expect(refused.stdout).toContain('PASSED signature: SHA256SUMS.txt.asc\n');
    const ts = await verifyRelease(dir, { fingerprint: key.fingerprint, trustStore: await loadTrustStore(TRUST_STORE) });
    expect(ts.filter((r) => r.status === 'FAILED').map((r) => r.code)).toEqual(['KEY_DEVELOPMENT']);
    const run = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', key.fingerprint, '--trust-store', TRUST_STORE, '--allow-development-key']);
    expectPass(run);
    expect(run.stdout).toMatch(/^WARN KEY_DEVELOPMENT: release-signing-public-key\.asc: .*\(accepted with --allow-development-key\)$/m);
    expect(run.stdout).toContain('PASSED signature: SHA256SUMS.txt.asc\n');
    const accepted = await verifyRelease(dir, { fingerprint: key.fingerprint, trustStore: await loadTrustStore(TRUST_STORE), allowDevelopmentKey: true });
    expect(accepted.filter((r) => r.status !== 'PASSED' && r.status !== 'SKIPPED').map((r) => `${r.status} ${r.code}`)).toEqual(['WARN KEY_DEVELOPMENT']);
    expectPass(provenance(dir, '--commit', COMMIT, '--tag', TAG));
    expectFailure(signatures(dir), 'KEY_MISMATCH', PUBLIC_KEY, true);
  });

  it('check DSSE envelopes made with an RSA key (RSASSA-PKCS1-v1_5, SHA-256) and refuse one with a flipped signature', async () => {
    const testdata = join(REPO_ROOT, 'packages', 'sign', 'testdata');
    const key = await loadSigningKey(
      {
        armoredKey: await readFile(join(testdata, 'rsa3072.asc'), 'utf8'),
        passphrase: (await readFile(join(testdata, 'rsa3072.passphrase'), 'utf8')).replace(/\n$/, ''),
        expectedFingerprint: (await readFile(join(testdata, 'rsa3072.fingerprint'), 'utf8')).trim(),
        origin: 'environment',
        where: 'packages/sign/testdata',
      },
      SDE,
    );
    const signer: Signer = {
      fingerprint: key.fingerprint,
      publicKey: () => publicKeyArmor(key),
      sign: async (file) => writeFile(`${file}.asc`, await detachedSignature(key, await readFile(file), SDE)),
      dsseKey: async () => dsseKeyOf(key),
    };
    const dir = join(work, 'rsa');
    await buildRelease(dir, signer);
    const run = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', key.fingerprint]);
    expectPass(run);
    for (const f of [PROVENANCE, 'conformance-results.json', SBOM_INSTALLER, SBOM_PLUGIN, CDX_INSTALLER, CDX_PLUGIN]) expect(run.stdout).toContain(`PASSED dsse: ${f}.dsse.json\n`);
    expect(run.stdout).toContain(`PASSED dsse: ${PUBLIC_KEY_PEM}\n`);
    expect((await verifyRelease(dir, { fingerprint: key.fingerprint })).filter((r) => r.status === 'FAILED').map(formatResult)).toEqual([]);
    const file = join(dir, `${SBOM_PLUGIN}.dsse.json`);
    const envelope = JSON.parse(await readFile(file, 'utf8')) as Envelope;
    envelope.signatures[0]!.sig = flipBase64(envelope.signatures[0]!.sig, 100);
    await writeFile(file, JSON.stringify(envelope));
    expectFailure(python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', key.fingerprint]), 'DSSE_BAD_SIGNATURE', `${SBOM_PLUGIN}.dsse.json`, true);
    expect((await verifyRelease(dir, { fingerprint: key.fingerprint })).filter((r) => r.status === 'FAILED').map((r) => `${r.code} ${r.file}`)).toEqual([`DSSE_BAD_SIGNATURE ${SBOM_PLUGIN}.dsse.json`]);
  });

  it('check DSSE envelopes made with a signing subkey: the keyid is the subkey, the PEM holds it', async () => {
    const sub = new TestGpg();
    await sub.init({ signingSubkey: true });
    try {
      const dir = join(work, 'subkey');
      await buildRelease(dir, sub);
      const keyid = (await sub.dsseKey()).keyid;
      expect(keyid).not.toBe(sub.fingerprint.toLowerCase());
      const run = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', sub.fingerprint]);
      expectPass(run);
      expect(run.stdout).toContain(`PASSED dsse: ${PROVENANCE}.dsse.json\n`);
      expect((await verifyRelease(dir, { fingerprint: sub.fingerprint })).filter((r) => r.status === 'FAILED').map(formatResult)).toEqual([]);
      // The primary key certifies only: a PEM of it is not the key of the envelopes.
      const primaryKey = await openpgp.readKey({ armoredKey: sub.publicKey() });
      const jwk = openpgpJwk('eddsaLegacy', 'ed25519Legacy', primaryKey.keyPacket.publicParams as Record<string, unknown>);
      if (typeof jwk === 'string') throw new Error(jwk);
      await writeFile(join(dir, PUBLIC_KEY_PEM), createPublicKey({ key: jwk.jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString());
      expectFailure(python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', sub.fingerprint]), 'DSSE_MISMATCH', PUBLIC_KEY_PEM, true);
      expect((await verifyRelease(dir, { fingerprint: sub.fingerprint })).filter((r) => r.status === 'FAILED').map((r) => `${r.code} ${r.file}`)).toEqual([`DSSE_MISMATCH ${PUBLIC_KEY_PEM}`]);
    } finally {
      await sub.dispose();
    }
  });

  it('accept --tofu only when the fingerprint file matches the key', async () => {
    const ok = python(SIGNATURES_PY, ['--dir', good, '--tofu']);
    expectPass(ok);
    expect(ok.stderr).toMatch(/trust on first use/i);

    const dir = await copyOfGood();
    await writeFile(join(dir, FINGERPRINT_FILE), `${gpg.otherFingerprint}\n`);
    expectFailure(python(SIGNATURES_PY, ['--dir', dir, '--tofu']), 'KEY_MISMATCH', PUBLIC_KEY, true);
    // The pinned mode checks the fingerprint file too.
    expectFailure(signatures(dir), 'KEY_MISMATCH', FINGERPRINT_FILE, true);
  });

  it('refuse to run unpinned, and report usage errors with exit 2', () => {
    expectFailure(python(SIGNATURES_PY, ['--dir', good]), 'KEY_NOT_PINNED', PUBLIC_KEY, true);
    const usage: [string, string[]][] = [
      [SIGNATURES_PY, ['--dir', good, '--fingerprint', gpg.fingerprint, '--tofu']],
      [SIGNATURES_PY, ['--dir', good, '--fingerprint', 'not-a-fingerprint']],
      [SIGNATURES_PY, ['--dir', join(work, 'no-such-folder'), '--tofu']],
      [SIGNATURES_PY, ['--check-plugin', join(CASES_DIR, 'zips', 'good.zip')]],
      [SIGNATURES_PY, ['--dir', good, '--tofu', '--trust-store', join(CASES_DIR, 'cases.json')]],
      [SIGNATURES_PY, ['--bogus']],
      [PROVENANCE_PY, ['--dir', good, '--commit', 'abc123']],
      [PROVENANCE_PY, ['--dir', join(work, 'no-such-folder')]],
      [PROVENANCE_PY, ['--bogus']],
    ];
    for (const [script, args] of usage) {
      const run = python(script, args);
      expect(run.status, `${basename(script)} ${args.join(' ')}\n${run.stdout}${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/error: /);
      expect(run.stderr).not.toMatch(/Traceback/);
    }
  });
});

type Script = 'signatures' | 'provenance';
interface Mutation {
  name: string;
  /** Makes the case's release folder. */
  make: () => Promise<string>;
  script: Script;
  args?: string[];
  code: string;
  file: string;
  /** No other code may fail. */
  only?: boolean;
  /** And the other script, if it must fail too. */
  also?: { script: Script; code: string; file: string };
  /**
   * Every code the two scripts together (and so the TypeScript verifier) must
   * fail with, when the table pins the full set (checked in the parity table).
   */
  codes?: string[];
}

const mutate = (change: (dir: string) => Promise<void>) => async () => {
  const dir = await copyOfGood();
  await change(dir);
  return dir;
};

const PROVENANCE = 'release-provenance.intoto.json';
interface Envelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}
/** Edits `<file>.dsse.json` of a fresh copy of the good release. */
const editEnvelope = (file: string, edit: (e: Envelope) => void) =>
  mutate(async (dir) => {
    const path = join(dir, `${file}.dsse.json`);
    const envelope = JSON.parse(await readFile(path, 'utf8')) as Envelope;
    edit(envelope);
    await writeFile(path, `${JSON.stringify(envelope, null, 2)}\n`);
  });
/** Base64 of the bytes of `b64` with byte `at` flipped. */
const flipBase64 = (b64: string, at: number) => {
  const bytes = Buffer.from(b64, 'base64');
  bytes[at]! ^= 0x01;
  return bytes.toString('base64');
};

const mutations: Mutation[] = [
  {
    name: 'a byte of an artifact flipped',
    make: mutate(async (dir) => {
      const file = join(dir, INSTALLER);
      const bytes = await readFile(file);
      bytes[100] ^= 0x01;
      await writeFile(file, bytes);
    }),
    script: 'provenance',
    code: 'SUMS_MISMATCH',
    file: INSTALLER,
    only: true,
  },
  {
    name: 'a listed file deleted',
    make: mutate((dir) => unlink(join(dir, 'conformance.log'))),
    script: 'provenance',
    code: 'SUMS_MISSING_FILE',
    file: 'conformance.log',
  },
  {
    name: 'an unlisted extra file',
    make: mutate((dir) => writeFile(join(dir, 'plugins', 'extra.zip'), 'not in the sums')),
    script: 'provenance',
    code: 'SUMS_UNLISTED',
    file: 'plugins/extra.zip',
    only: true,
  },
  {
    name: 'an unlisted file with a newline in its name (printed escaped)',
    make: mutate((dir) => writeFile(join(dir, 'evil\nPASSED sums: x'), '')),
    script: 'provenance',
    code: 'SUMS_UNLISTED',
    file: 'evil\\x0aPASSED sums: x',
    only: true,
  },
  {
    name: 'SHA256SUMS.txt missing',
    make: mutate((dir) => unlink(join(dir, 'SHA256SUMS.txt'))),
    script: 'provenance',
    code: 'SUMS_MISSING',
    file: 'SHA256SUMS.txt',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'SHA256SUMS.txt.asc' },
  },
  {
    name: 'SHA256SUMS.txt with an unsafe path',
    make: mutate((dir) => appendFile(join(dir, 'SHA256SUMS.txt'), `${'0'.repeat(64)}  ../../etc/passwd\n`)),
    script: 'provenance',
    code: 'SUMS_MALFORMED',
    file: 'SHA256SUMS.txt',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'SHA256SUMS.txt.asc' },
  },
  {
    name: 'a .asc replaced by a valid signature of another file',
    make: mutate((dir) => copyFile(join(dir, 'BUILD_META.txt.asc'), join(dir, 'SHA256SUMS.txt.asc'))),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  {
    name: 'a .asc with its armour corrupted',
    make: mutate(async (dir) => {
      const file = join(dir, 'SHA256SUMS.txt.asc');
      const lines = (await readFile(file, 'utf8')).split('\n');
      const at = lines.findIndex((l) => /^[A-Za-z0-9+/]{40,}/.test(l));
      lines[at] = lines[at]!.slice(0, 20) + (lines[at]![20] === 'A' ? 'B' : 'A') + lines[at]!.slice(21);
      await writeFile(file, lines.join('\n'));
    }),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  {
    name: 'a .asc made by another key',
    make: mutate(async (dir) => gpg.sign(join(dir, 'release-provenance.intoto.json'), gpg.otherFingerprint)),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'release-provenance.intoto.json.asc',
    only: true,
  },
  {
    name: 'a required .asc deleted',
    make: mutate((dir) => unlink(join(dir, 'BUILD_META.txt.asc'))),
    script: 'signatures',
    code: 'SIGNATURE_MISSING',
    file: 'BUILD_META.txt.asc',
    only: true,
  },
  {
    name: 'a CycloneDX SBOM signature deleted',
    make: mutate((dir) => unlink(join(dir, `${CDX_INSTALLER}.asc`))),
    script: 'signatures',
    code: 'SIGNATURE_MISSING',
    file: `${CDX_INSTALLER}.asc`,
    only: true,
  },
  {
    name: 'an SBOM signature deleted',
    make: mutate((dir) => unlink(join(dir, `${SBOM_PLUGIN}.asc`))),
    script: 'signatures',
    code: 'SIGNATURE_MISSING',
    file: `${SBOM_PLUGIN}.asc`,
    only: true,
  },
  {
    name: 'a .asc whose file is gone',
    make: mutate((dir) => writeFile(join(dir, 'gone.txt.asc'), '-----BEGIN PGP SIGNATURE-----\n\n-----END PGP SIGNATURE-----\n')),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'gone.txt.asc',
    only: true,
  },
  {
    name: 'the wrong pinned fingerprint',
    make: async () => good,
    script: 'signatures',
    args: ['--fingerprint', 'OTHER'],
    code: 'KEY_MISMATCH',
    file: PUBLIC_KEY,
    only: true,
  },
  {
    name: 'the key export swapped for another key (signatures then fail too)',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY), gpg.publicKey(gpg.otherFingerprint))),
    script: 'signatures',
    code: 'KEY_MISMATCH',
    file: PUBLIC_KEY,
    only: true,
  },
  {
    // Unlike a key that expired after it signed, a revoked one vouches for nothing (gpg: REVKEYSIG), whatever
    // the reason: "superseded" too, which OpenPGP.js would not hold against signatures older than it.
    name: 'the key export carrying a revocation made after the release was signed (key superseded)',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY), gpg.revokedPublicKey('superseded'))),
    script: 'signatures',
    code: 'KEY_REVOKED',
    file: PUBLIC_KEY,
    only: true,
    codes: ['KEY_REVOKED'],
  },
  {
    name: 'the key export carrying a revocation made after the release was signed (key compromised)',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY), gpg.revokedPublicKey('compromised'))),
    script: 'signatures',
    code: 'KEY_REVOKED',
    file: PUBLIC_KEY,
    only: true,
    codes: ['KEY_REVOKED'],
  },
  {
    name: 'a key export holding the secret key',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY), gpg.secretKey())),
    script: 'signatures',
    code: 'KEY_MISSING',
    file: PUBLIC_KEY,
    only: true,
  },
  {
    name: 'the key export deleted',
    make: mutate((dir) => unlink(join(dir, PUBLIC_KEY))),
    script: 'signatures',
    code: 'KEY_MISSING',
    file: PUBLIC_KEY,
    only: true,
  },
  {
    name: 'no .asc at all',
    make: mutate(async (dir) => {
      for (const f of await readdir(dir)) if (f.endsWith('.asc')) await unlink(join(dir, f));
    }),
    script: 'signatures',
    code: 'UNSIGNED',
    file: PUBLIC_KEY,
    only: true,
  },
  // DSSE envelopes (<file>.dsse.json) and the PEM export of their key.
  {
    name: 'the provenance envelope deleted',
    make: mutate((dir) => unlink(join(dir, `${PROVENANCE}.dsse.json`))),
    script: 'signatures',
    code: 'DSSE_MISSING',
    file: `${PROVENANCE}.dsse.json`,
    only: true,
    codes: ['DSSE_MISSING'],
  },
  {
    name: 'an SBOM envelope deleted',
    make: mutate((dir) => unlink(join(dir, `${SBOM_PLUGIN}.dsse.json`))),
    script: 'signatures',
    code: 'DSSE_MISSING',
    file: `${SBOM_PLUGIN}.dsse.json`,
    only: true,
    codes: ['DSSE_MISSING'],
  },
  {
    name: 'an envelope whose payload has a byte flipped',
    make: editEnvelope(PROVENANCE, (e) => void (e.payload = flipBase64(e.payload, 40))),
    script: 'signatures',
    code: 'DSSE_BAD_SIGNATURE',
    file: `${PROVENANCE}.dsse.json`,
    only: true,
    codes: ['DSSE_BAD_SIGNATURE'],
  },
  {
    name: 'an envelope whose signature has a byte flipped',
    make: editEnvelope(SBOM_INSTALLER, (e) => void (e.signatures[0]!.sig = flipBase64(e.signatures[0]!.sig, 7))),
    script: 'signatures',
    code: 'DSSE_BAD_SIGNATURE',
    file: `${SBOM_INSTALLER}.dsse.json`,
    only: true,
    codes: ['DSSE_BAD_SIGNATURE'],
  },
  {
    name: 'an envelope made by another key',
    make: mutate(async (dir) => gpg.envelope(join(dir, 'conformance-results.json'), undefined, gpg.otherFingerprint)),
    script: 'signatures',
    code: 'DSSE_BAD_SIGNATURE',
    file: 'conformance-results.json.dsse.json',
    only: true,
    codes: ['DSSE_BAD_SIGNATURE'],
  },
  {
    name: 'the PEM export holding another key',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY_PEM), publicKeyPem(await gpg.dsseKey(gpg.otherFingerprint)))),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: PUBLIC_KEY_PEM,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: 'the PEM export deleted',
    make: mutate((dir) => unlink(join(dir, PUBLIC_KEY_PEM))),
    script: 'signatures',
    code: 'DSSE_MISSING',
    file: PUBLIC_KEY_PEM,
    only: true,
    codes: ['DSSE_MISSING'],
  },
  {
    name: 'the PEM export with CRLF line endings',
    make: mutate(async (dir) => writeFile(join(dir, PUBLIC_KEY_PEM), (await readFile(join(dir, PUBLIC_KEY_PEM), 'utf8')).replace(/\n/g, '\r\n'))),
    script: 'signatures',
    code: 'DSSE_INVALID',
    file: PUBLIC_KEY_PEM,
    only: true,
    codes: ['DSSE_INVALID'],
  },
  {
    name: "the provenance's envelope where the conformance results' belongs (valid, but of other bytes)",
    make: mutate((dir) => copyFile(join(dir, `${PROVENANCE}.dsse.json`), join(dir, 'conformance-results.json.dsse.json'))),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: 'conformance-results.json.dsse.json',
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: "the plugin SBOM's envelope where the installer SBOM's belongs (a Statement about another artifact)",
    make: mutate((dir) => copyFile(join(dir, `${SBOM_PLUGIN}.dsse.json`), join(dir, `${SBOM_INSTALLER}.dsse.json`))),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: `${SBOM_INSTALLER}.dsse.json`,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: 'an SBOM envelope whose predicate differs from the SBOM (validly signed)',
    make: mutate(async (dir) => {
      const statement = JSON.parse(Buffer.from(JSON.parse(await readFile(join(dir, `${SBOM_PLUGIN}.dsse.json`), 'utf8')).payload, 'base64').toString('utf8'));
      statement.predicate.name = 'something-else.zip';
      await gpg.envelope(join(dir, SBOM_PLUGIN), Buffer.from(JSON.stringify(statement)));
    }),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: `${SBOM_PLUGIN}.dsse.json`,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: 'a CycloneDX SBOM envelope deleted',
    make: mutate((dir) => unlink(join(dir, `${CDX_PLUGIN}.dsse.json`))),
    script: 'signatures',
    code: 'DSSE_MISSING',
    file: `${CDX_PLUGIN}.dsse.json`,
    only: true,
    codes: ['DSSE_MISSING'],
  },
  {
    name: "a CycloneDX SBOM envelope whose Statement has SPDX's predicateType (validly signed)",
    make: mutate(async (dir) => {
      const statement = JSON.parse(Buffer.from(JSON.parse(await readFile(join(dir, `${CDX_INSTALLER}.dsse.json`), 'utf8')).payload, 'base64').toString('utf8'));
      statement.predicateType = 'https://spdx.dev/Document/v2.3';
      await gpg.envelope(join(dir, CDX_INSTALLER), Buffer.from(JSON.stringify(statement)));
    }),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: `${CDX_INSTALLER}.dsse.json`,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: "the SPDX SBOM's envelope where the CycloneDX SBOM's belongs (another predicate, validly signed)",
    make: mutate((dir) => copyFile(join(dir, `${SBOM_INSTALLER}.dsse.json`), join(dir, `${CDX_INSTALLER}.dsse.json`))),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: `${CDX_INSTALLER}.dsse.json`,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: 'an SBOM envelope whose subject digest differs from SHA256SUMS.txt (validly signed)',
    make: mutate(async (dir) => {
      const statement = JSON.parse(Buffer.from(JSON.parse(await readFile(join(dir, `${SBOM_INSTALLER}.dsse.json`), 'utf8')).payload, 'base64').toString('utf8'));
      statement.subject[0].digest.sha256 = sha256('other bytes');
      await gpg.envelope(join(dir, SBOM_INSTALLER), Buffer.from(JSON.stringify(statement)));
    }),
    script: 'signatures',
    code: 'DSSE_MISMATCH',
    file: `${SBOM_INSTALLER}.dsse.json`,
    only: true,
    codes: ['DSSE_MISMATCH'],
  },
  {
    name: 'an envelope with another payloadType (validly signed over it)',
    make: mutate(async (dir) => {
      const key = await gpg.dsseKey();
      const payload = await readFile(join(dir, PROVENANCE));
      const sig = cryptoSign(null, dssePae('application/json', payload), key.privateKey).toString('base64');
      await writeFile(join(dir, `${PROVENANCE}.dsse.json`), JSON.stringify({ payload: payload.toString('base64'), payloadType: 'application/json', signatures: [{ keyid: key.keyid, sig }] }));
    }),
    script: 'signatures',
    code: 'DSSE_INVALID',
    file: `${PROVENANCE}.dsse.json`,
    only: true,
    codes: ['DSSE_INVALID'],
  },
  {
    name: 'an envelope with a second signature',
    make: editEnvelope(PROVENANCE, (e) => void e.signatures.push({ ...e.signatures[0]! })),
    script: 'signatures',
    code: 'DSSE_INVALID',
    file: `${PROVENANCE}.dsse.json`,
    only: true,
    codes: ['DSSE_INVALID'],
  },
  {
    name: 'an envelope giving payloadType twice',
    make: mutate(async (dir) => {
      const file = join(dir, `${PROVENANCE}.dsse.json`);
      await writeFile(file, (await readFile(file, 'utf8')).replace('"payloadType": ', '"payloadType": "text/plain", "payloadType": '));
    }),
    script: 'signatures',
    code: 'DSSE_INVALID',
    file: `${PROVENANCE}.dsse.json`,
    only: true,
    codes: ['DSSE_INVALID'],
  },
  {
    name: 'an envelope of a file the release does not attest (conformance.log)',
    make: mutate(async (dir) => gpg.envelope(join(dir, 'conformance.log'))),
    script: 'signatures',
    code: 'DSSE_INVALID',
    file: 'conformance.log.dsse.json',
    only: true,
    codes: ['DSSE_INVALID'],
  },
  {
    name: 'a provenance subject removed (and re-signed)',
    make: () => tweaked({ dropSubject: 'tools/verify_release_provenance.py' }),
    script: 'provenance',
    code: 'PROVENANCE_SUBJECTS',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a commit other than --commit',
    make: async () => good,
    script: 'provenance',
    args: ['--commit', 'f'.repeat(40)],
    code: 'PROVENANCE_COMMIT',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a tag other than --tag',
    make: async () => good,
    script: 'provenance',
    args: ['--tag', 'v9.9.9'],
    code: 'PROVENANCE_TAG',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a provenance that is not JSON',
    make: mutate((dir) => writeFile(join(dir, 'release-provenance.intoto.json'), '{"_type": ')),
    script: 'provenance',
    code: 'PROVENANCE_MALFORMED',
    file: 'release-provenance.intoto.json',
    only: true,
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'release-provenance.intoto.json.asc' },
  },
  {
    name: 'a provenance nested 100000 levels deep',
    make: mutate((dir) => writeFile(join(dir, 'release-provenance.intoto.json'), `${'['.repeat(100_000)}${']'.repeat(100_000)}`)),
    script: 'provenance',
    code: 'PROVENANCE_MALFORMED',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a BUILD_META.txt digest changed',
    make: mutate(async (dir) => {
      const file = join(dir, 'BUILD_META.txt');
      const text = await readFile(file, 'utf8');
      const m = /^sha256 conformance\.log: ([0-9a-f]{64})$/m.exec(text)!;
      await writeFile(file, text.replace(m[1]!, sha256('something else')));
    }),
    script: 'provenance',
    code: 'META_MISMATCH',
    file: 'BUILD_META.txt',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'BUILD_META.txt.asc' },
  },
  {
    name: 'a BUILD_META.txt that is not key: value lines',
    make: mutate((dir) => writeFile(join(dir, 'BUILD_META.txt'), 'garbage\n')),
    script: 'provenance',
    code: 'META_MALFORMED',
    file: 'BUILD_META.txt',
  },
  {
    name: 'an SBOM bound to another digest (and re-signed)',
    make: () => tweaked({ pluginSbomDigest: sha256('other bytes') }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: SBOM_PLUGIN,
    only: true,
  },
  {
    name: 'an SBOM no subject names',
    make: mutate(async (dir) => {
      await writeFile(join(dir, 'SBOM-stray.zip.spdx.json'), '{}');
    }),
    script: 'provenance',
    code: 'SBOM_ORPHAN',
    file: 'SBOM-stray.zip.spdx.json',
  },
  {
    name: 'a CycloneDX SBOM no subject names',
    make: mutate(async (dir) => {
      await writeFile(join(dir, 'SBOM-stray.zip.cdx.json'), '{}');
    }),
    script: 'provenance',
    code: 'SBOM_ORPHAN',
    file: 'SBOM-stray.zip.cdx.json',
  },
  {
    name: "a CycloneDX SBOM whose metadata.component hash is another artifact's (and re-signed)",
    make: () => tweaked({ editCdx: (bom) => void (bom['metadata'].component.hashes = [{ alg: 'SHA-256', content: sha256('other bytes') }]) }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: CDX_INSTALLER,
    only: true,
  },
  {
    name: 'a CycloneDX 1.5 SBOM (and re-signed)',
    make: () => tweaked({ editCdx: (bom) => void (bom['specVersion'] = '1.5') }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: CDX_INSTALLER,
    only: true,
  },
  {
    name: 'a CycloneDX SBOM with a random-looking uppercase serialNumber (and re-signed)',
    make: () => tweaked({ editCdx: (bom) => void (bom['serialNumber'] = 'urn:uuid:ABCDEF00-0000-4000-8000-000000000000') }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: CDX_INSTALLER,
    only: true,
  },
  {
    name: 'the CycloneDX SBOM named as the SPDX one by its subject (and re-signed)',
    make: () => tweaked({ editStatement: (st) => { (st.subject.find((x) => x.name === PLUGIN) as unknown as { annotations: Record<string, string> }).annotations['helix.cyclonedx'] = SBOM_PLUGIN; } }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: SBOM_PLUGIN,
    codes: ['SBOM_ORPHAN', 'SBOM_UNBOUND'],
  },
  {
    name: 'the CycloneDX SBOM a subject references removed',
    make: mutate((dir) => unlink(join(dir, CDX_PLUGIN))),
    script: 'provenance',
    code: 'SBOM_MISSING',
    file: CDX_PLUGIN,
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: `${CDX_PLUGIN}.asc` },
    codes: ['DSSE_MISMATCH', 'SBOM_MISSING', 'SIGNATURE_BAD', 'SUMS_MISSING_FILE'],
  },
  {
    name: 'a conformance result FAILED (and re-signed)',
    make: () => tweaked({ conformanceResult: 'FAILED' }),
    script: 'provenance',
    code: 'CONFORMANCE_FAILED',
    file: 'conformance-results.json',
    only: true,
  },
  {
    name: 'no conformance results',
    make: mutate(async (dir) => {
      await unlink(join(dir, 'conformance-results.json'));
    }),
    script: 'provenance',
    code: 'CONFORMANCE_MISSING',
    file: 'conformance-results.json',
  },
  {
    name: 'BUILD_META.txt removed (its signature and the byproduct entry are left dangling)',
    make: mutate((dir) => unlink(join(dir, 'BUILD_META.txt'))),
    script: 'provenance',
    code: 'META_MISSING',
    file: 'BUILD_META.txt',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'BUILD_META.txt.asc' },
    codes: ['META_MISSING', 'PROVENANCE_BYPRODUCT', 'SIGNATURE_BAD'],
  },
  {
    name: 'the provenance removed (its signature left dangling)',
    make: mutate((dir) => unlink(join(dir, 'release-provenance.intoto.json'))),
    script: 'provenance',
    code: 'PROVENANCE_MISSING',
    file: 'release-provenance.intoto.json',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'release-provenance.intoto.json.asc' },
    codes: ['DSSE_MISMATCH', 'PROVENANCE_MISSING', 'SIGNATURE_BAD'],
  },
  {
    name: 'a byproduct outside the sums changed (BUILD_META.txt, still well-formed)',
    make: mutate(async (dir) => {
      const file = join(dir, 'BUILD_META.txt');
      const text = await readFile(file, 'utf8');
      expect(text).toMatch(/^builder: local$/m);
      await writeFile(file, text.replace(/^builder: local$/m, 'builder: lokal'));
    }),
    script: 'provenance',
    code: 'PROVENANCE_BYPRODUCT',
    file: 'BUILD_META.txt',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'BUILD_META.txt.asc' },
    codes: ['PROVENANCE_BYPRODUCT', 'SIGNATURE_BAD'],
  },
  {
    name: 'a byproduct the sums list changed (conformance.log)',
    make: mutate((dir) => appendFile(join(dir, 'conformance.log'), 'PASS smoke (again)\n')),
    script: 'provenance',
    code: 'PROVENANCE_BYPRODUCT',
    file: 'conformance.log',
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: 'conformance.log.asc' },
    codes: ['PROVENANCE_BYPRODUCT', 'SIGNATURE_BAD', 'SUMS_MISMATCH'],
  },
  {
    name: 'the SBOM a subject references removed',
    make: mutate((dir) => unlink(join(dir, SBOM_PLUGIN))),
    script: 'provenance',
    code: 'SBOM_MISSING',
    file: SBOM_PLUGIN,
    also: { script: 'signatures', code: 'SIGNATURE_BAD', file: `${SBOM_PLUGIN}.asc` },
    codes: ['DSSE_MISMATCH', 'SBOM_MISSING', 'SIGNATURE_BAD', 'SUMS_MISSING_FILE'],
  },
  {
    name: 'built from a dirty tree, as BUILD_META.txt and the provenance say (and re-signed)',
    make: () => tweaked({ dirty: true }),
    script: 'provenance',
    code: 'BUILD_DIRTY',
    file: 'release-provenance.intoto.json',
    only: true,
    codes: ['BUILD_DIRTY'],
  },
  {
    name: 'conformance results that tested other bytes of the installer (and re-signed)',
    make: () => tweaked({ conformanceInstallerDigest: sha256('another build of the installer') }),
    script: 'provenance',
    code: 'CONFORMANCE_STALE',
    file: 'conformance-results.json',
    only: true,
    codes: ['CONFORMANCE_STALE'],
  },
  // Strictness classes on which the TypeScript and Python verifiers once disagreed (docs/release-format.md, "Strictness").
  {
    name: 'BUILD_META.txt naming the commit twice (and re-signed)',
    make: () => tweaked({ editMeta: (t) => t.replace(/^commit: .*$/m, (line) => `${line}\ncommit: ${'e'.repeat(40)}`) }),
    script: 'provenance',
    code: 'META_MALFORMED',
    file: 'BUILD_META.txt',
    only: true,
  },
  {
    name: 'BUILD_META.txt listing an artifact twice, first with a wrong digest (and re-signed)',
    make: () => tweaked({ editMeta: (t) => t.replace(new RegExp(`^sha256 ${INSTALLER.replace(/\./g, '\\.')}: .*$`, 'm'), (line) => `sha256 ${INSTALLER}: ${sha256('wrong')}\n${line}`) }),
    script: 'provenance',
    code: 'META_MALFORMED',
    file: 'BUILD_META.txt',
    only: true,
  },
  {
    name: 'a provenance listing one subject twice (and re-signed)',
    make: () => tweaked({ editStatement: (st) => void st.subject.push({ ...st.subject[0]! }) }),
    script: 'provenance',
    code: 'PROVENANCE_SUBJECTS',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a provenance byproduct outside the release folder (and re-signed)',
    make: () => tweaked({ editStatement: (st) => void st.predicate.runDetails.byproducts.push({ name: '../outside.txt', digest: { sha256: sha256('outside') } }) }),
    script: 'provenance',
    code: 'PROVENANCE_BYPRODUCT',
    file: 'release-provenance.intoto.json',
  },
  {
    name: 'a provenance naming the commit in upper case (and re-signed)',
    make: () => tweaked({ editStatement: (st) => { st.predicate.buildDefinition.resolvedDependencies[0].digest.gitCommit = COMMIT.toUpperCase(); } }),
    script: 'provenance',
    code: 'PROVENANCE_MALFORMED',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'an SPDX 2.2 SBOM (and re-signed)',
    make: () => tweaked({ editSbom: (doc) => { doc['spdxVersion'] = 'SPDX-2.2'; } }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: SBOM_INSTALLER,
    only: true,
  },
  {
    name: 'conformance results that are not an in-toto v1 Statement (and re-signed)',
    make: () => tweaked({ editResults: (r) => { r['_type'] = 'https://in-toto.io/Statement/v0.1'; } }),
    script: 'provenance',
    code: 'CONFORMANCE_MISSING',
    file: 'conformance-results.json',
    only: true,
  },
  {
    name: 'the installer SBOM in a subfolder, named so by its subject (and re-signed)',
    make: () => tweaked({ sbomFolder: 'sboms' }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: `sboms/${SBOM_INSTALLER}`,
  },
  {
    name: 'an SBOM no subject names, in a subfolder',
    make: mutate(async (dir) => {
      await mkdir(join(dir, 'plugins', 'extra'), { recursive: true });
      await writeFile(join(dir, 'plugins', 'extra', 'SBOM-stray.zip.spdx.json'), '{}');
    }),
    script: 'provenance',
    code: 'SBOM_ORPHAN',
    file: 'plugins/extra/SBOM-stray.zip.spdx.json',
  },
  {
    name: 'SHA256SUMS.txt with an upper-case digest (and re-signed)',
    make: mutate(async (dir) => {
      const file = join(dir, 'SHA256SUMS.txt');
      const text = await readFile(file, 'utf8');
      await writeFile(file, text.replace(/^[0-9a-f]{64}/, (hex) => hex.toUpperCase()));
      gpg.sign(file);
    }),
    script: 'provenance',
    code: 'SUMS_MALFORMED',
    file: 'SHA256SUMS.txt',
  },
  // A key given twice in one JSON object: JSON.parse keeps the last, other readers the first.
  {
    name: 'a provenance giving predicateType twice (and re-signed)',
    make: () => tweaked({ editText: { 'release-provenance.intoto.json': (t) => t.replace('"predicateType": "https://slsa.dev/provenance/v1"', '"predicateType": "https://example.invalid/other",\n  "predicateType": "https://slsa.dev/provenance/v1"') } }),
    script: 'provenance',
    code: 'PROVENANCE_MALFORMED',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'conformance results giving result twice, FAILED then PASSED (and re-signed)',
    make: () => tweaked({ editText: { 'conformance-results.json': (t) => t.replace('"result": "PASSED"', '"result": "FAILED",\n    "result": "PASSED"') } }),
    script: 'provenance',
    code: 'CONFORMANCE_MISSING',
    file: 'conformance-results.json',
    only: true,
  },
  {
    name: 'an SBOM giving its name twice (and re-signed)',
    make: () => tweaked({ editText: { [SBOM_INSTALLER]: (t) => t.replace(/\n  "name": /, '\n  "name": "something-else.zip",\n  "name": ') } }),
    script: 'provenance',
    code: 'SBOM_UNBOUND',
    file: SBOM_INSTALLER,
    only: true,
  },
  {
    name: 'a binary (not armoured) signature',
    make: () => tweaked({ signatures: { 'SHA256SUMS.txt': (f) => gpg.signWith(f, []) } }),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  {
    name: 'a signature with a second signature packet, by another key',
    make: () => tweaked({ signatures: { 'SHA256SUMS.txt': (f) => gpg.signWith(f, ['--armor'], [gpg.fingerprint, gpg.otherFingerprint]) } }),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  {
    name: 'a signature holding two signature packets by the release key',
    make: () => tweaked({ signatures: { 'SHA256SUMS.txt': (f) => openpgp.armor(openpgp.enums.armor.signature, Buffer.concat([gpg.signWith(f, []), gpg.signWith(f, ['--digest-algo', 'SHA512'])])) } }),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  {
    name: 'a text-mode signature',
    make: () => tweaked({ signatures: { 'SHA256SUMS.txt': (f) => gpg.signWith(f, ['--armor', '--textmode']) } }),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: 'SHA256SUMS.txt.asc',
    only: true,
  },
  // Classes the release fuzz target (tools/fuzz/release-fuzz.ts) found the two verifiers reading differently.
  {
    name: 'a signature whose armour END line is cut short',
    make: mutate(async (dir) => writeFile(join(dir, `${SBOM_PLUGIN}.asc`), (await readFile(join(dir, `${SBOM_PLUGIN}.asc`), 'utf8')).replace('-----END PGP SIGNATURE-----', '-----END PGP SIGNATURE--'))),
    script: 'signatures',
    code: 'SIGNATURE_BAD',
    file: `${SBOM_PLUGIN}.asc`,
    only: true,
  },
  {
    name: 'no published fingerprint file',
    make: mutate(async (dir) => rm(join(dir, FINGERPRINT_FILE))),
    script: 'signatures',
    code: 'KEY_MISSING',
    file: FINGERPRINT_FILE,
    only: true,
    codes: ['KEY_MISSING'],
  },
  {
    name: 'the published fingerprint in lower case',
    make: mutate(async (dir) => writeFile(join(dir, FINGERPRINT_FILE), `${gpg.fingerprint.toLowerCase()}\n`)),
    script: 'signatures',
    code: 'KEY_MISMATCH',
    file: FINGERPRINT_FILE,
    only: true,
    codes: ['KEY_MISMATCH'],
  },
  {
    name: 'a BUILD_META.txt that is not UTF-8 (and re-signed)',
    make: mutate(async (dir) => {
      const file = join(dir, 'BUILD_META.txt');
      await writeFile(file, Buffer.concat([await readFile(file), Buffer.from([0x23, 0xff, 0xfe, 0x0a])]));
      gpg.sign(file);
    }),
    script: 'provenance',
    code: 'META_MALFORMED',
    file: 'BUILD_META.txt',
  },
  {
    name: 'conformance results whose subject has no name (and re-signed)',
    make: () => tweaked({ editResults: (r) => ((r['subject'] as Record<string, unknown>[])[0]!['name'] = { sha256: '0'.repeat(64) }) }),
    script: 'provenance',
    code: 'CONFORMANCE_MISSING',
    file: 'conformance-results.json',
    only: true,
    codes: ['CONFORMANCE_MISSING'],
  },
  // Only regular files: nothing is opened that could block (a FIFO) or lead outside the folder (a link).
  {
    name: 'a FIFO where an SBOM belongs',
    make: mutate(async (dir) => {
      await unlink(join(dir, SBOM_PLUGIN));
      mustRun('mkfifo', [join(dir, SBOM_PLUGIN)]);
    }),
    script: 'provenance',
    code: 'FILE_NOT_REGULAR',
    file: SBOM_PLUGIN,
    codes: ['DSSE_MISMATCH', 'FILE_NOT_REGULAR', 'SBOM_MISSING', 'SIGNATURE_BAD', 'SUMS_MISSING_FILE'],
  },
  {
    name: 'a symbolic link to an identical file outside the release, where conformance.log belongs',
    make: mutate(async (dir) => {
      const outside = join(work, `outside-${++counter}.log`);
      await copyFile(join(dir, 'conformance.log'), outside);
      await unlink(join(dir, 'conformance.log'));
      await symlink(outside, join(dir, 'conformance.log'));
    }),
    script: 'provenance',
    code: 'FILE_NOT_REGULAR',
    file: 'conformance.log',
    codes: ['FILE_NOT_REGULAR', 'PROVENANCE_BYPRODUCT', 'SIGNATURE_BAD', 'SUMS_MISSING_FILE'],
  },
  {
    name: 'a symbolic link to the plugins folder of another release',
    make: mutate(async (dir) => {
      await cp(join(dir, 'plugins'), join(work, `plugins-${++counter}`), { recursive: true });
      await rm(join(dir, 'plugins'), { recursive: true });
      await symlink(join(work, `plugins-${counter}`), join(dir, 'plugins'));
    }),
    script: 'provenance',
    code: 'FILE_NOT_REGULAR',
    file: 'plugins',
  },
  {
    name: 'an empty folder where BUILD_META.txt belongs',
    make: mutate(async (dir) => {
      await unlink(join(dir, 'BUILD_META.txt'));
      await mkdir(join(dir, 'BUILD_META.txt'));
    }),
    script: 'provenance',
    code: 'META_MISSING',
    file: 'BUILD_META.txt',
    codes: ['META_MISSING', 'PROVENANCE_BYPRODUCT', 'SIGNATURE_BAD'],
  },
  // Versions: BUILD_META.txt, the provenance, the file names and the signed plugin.json must agree.
  {
    name: 'BUILD_META.txt saying version 9.9.9 beside artifacts of 1.0.0 (and re-signed)',
    make: () => tweaked({ editMeta: (t) => t.replace(/^version: 1\.0\.0$/m, 'version: 9.9.9') }),
    script: 'provenance',
    code: 'VERSION_MISMATCH',
    file: 'BUILD_META.txt',
    only: true,
  },
  {
    name: 'a provenance saying version 0.0.1 of tag v1.0.0 (and re-signed)',
    make: () => tweaked({ editStatement: (st) => { st.predicate.buildDefinition.externalParameters.version = '0.0.1'; } }),
    script: 'provenance',
    code: 'VERSION_MISMATCH',
    file: 'release-provenance.intoto.json',
    only: true,
  },
  {
    name: 'a plugin recorded as 2.0.0 in BUILD_META.txt and the provenance, named 1.0.0 (and re-signed)',
    make: () => tweaked({
      editMeta: (t) => t.replace(`version ${PLUGIN}: 1.0.0`, `version ${PLUGIN}: 2.0.0`),
      editStatement: (st) => { (st.subject.find((x) => x.name === PLUGIN) as unknown as { annotations: Record<string, string> }).annotations['helix.version'] = '2.0.0'; },
    }),
    script: 'provenance',
    code: 'VERSION_MISMATCH',
    file: PLUGIN,
    only: true,
  },
  {
    name: 'BUILD_META.txt and the provenance disagreeing on an installer version (and re-signed)',
    make: () => tweaked({ editMeta: (t) => t.replace(`version ${INSTALLER}: 1.0.0`, `version ${INSTALLER}: 1.0.1`) }),
    script: 'provenance',
    code: 'VERSION_MISMATCH',
    file: 'BUILD_META.txt',
    only: true,
  },
  {
    name: 'a plugin whose signed plugin.json names another version than its file name (and re-signed release)',
    make: () => tweaked({ pluginZip: join(CASES_DIR, 'zips', 'metadata-version-build.zip') }),
    script: 'signatures',
    args: ['--trust-store', TRUST_STORE],
    code: 'VERSION_MISMATCH',
    file: PLUGIN,
    only: true,
  },
  {
    name: 'an unsigned plugin (and re-signed release)',
    make: () => tweaked({ pluginZip: join(CASES_DIR, 'zips', 'unsigned.zip') }),
    script: 'signatures',
    args: ['--trust-store', TRUST_STORE],
    code: 'PLUGIN_UNSIGNED',
    file: PLUGIN,
    only: true,
  },
];

describe('the Python verifiers on tampered releases', () => {
  it.each(mutations.map((m) => [m.name, m] as const))('%s', async (_name, m) => {
    const dir = await m.make();
    const args = (m.args ?? []).map((a) => (a === 'OTHER' ? gpg.otherFingerprint : a));
    const run = m.script === 'signatures' ? signatures(dir, ...args) : provenance(dir, ...args);
    expectFailure(run, m.code, m.file, m.only);
    if (m.also) expectFailure(m.also.script === 'signatures' ? signatures(dir) : provenance(dir), m.also.code, m.also.file);
  });
});

describe('the shared plugin trust-case table through verify_release_signatures.py', () => {
  it('gives every case its expected code (--check-plugin)', () => {
    const zips = table.cases.map((c) => join(CASES_DIR, c.zip));
    const run = python(SIGNATURES_PY, ['--check-plugin', ...zips, '--trust-store', TRUST_STORE, '--json']);
    expect(run.stderr).not.toMatch(/Traceback/);
    const results = JSON.parse(run.stdout) as { status: string; code: string; file: string; reason: string }[];
    expect(results.map((r) => r.file)).toEqual(zips);
    const got = Object.fromEntries(table.cases.map((c, i) => [c.name, results[i]!.code]));
    const want = Object.fromEntries(table.cases.map((c) => [c.name, c.expect]));
    expect(got).toEqual(want);
    for (const [i, c] of table.cases.entries()) expect(results[i]!.status, c.name).toBe(c.expect === 'PLUGIN_OK' ? 'PASSED' : 'FAILED');
    expect(run.status).toBe(1);
  });

  it('refuses a file larger than any plugin zip before reading it, as the TypeScript verifier does', async () => {
    const huge = join(work, 'huge-plugin.zip');
    await writeFile(huge, '');
    await truncate(huge, MAX_PLUGIN_FILE_BYTES + 1); // sparse
    const run = python(SIGNATURES_PY, ['--check-plugin', huge, '--trust-store', TRUST_STORE]);
    expect(run.stdout).toContain(`FAILED PLUGIN_ZIP_BOMB: ${huge}: ${MAX_PLUGIN_FILE_BYTES + 1} bytes: larger than any plugin zip can be (limit ${MAX_PLUGIN_FILE_BYTES})`);
    const ts = await verifyPluginFile(huge, await loadTrustStore(TRUST_STORE));
    expect([ts.code, ts.reason]).toEqual(['PLUGIN_ZIP_BOMB', `${MAX_PLUGIN_FILE_BYTES + 1} bytes: larger than any plugin zip can be (limit ${MAX_PLUGIN_FILE_BYTES})`]);
    await unlink(huge);
  });

  it('checks the plugins of a release folder the same way', async () => {
    const dir = join(work, 'plugins-only');
    await mkdir(join(dir, 'plugins'), { recursive: true });
    const picked = table.cases.filter((c) => ['good', 'small-order-signature', 'path-traversal', 'zip-bomb'].includes(c.name));
    for (const c of picked) await copyFile(join(CASES_DIR, c.zip), join(dir, 'plugins', `${c.name}.zip`));
    const run = python(SIGNATURES_PY, ['--dir', dir, '--tofu', '--trust-store', TRUST_STORE]);
    expectWellFormed(run);
    expect(run.stdout).toMatch(/^FAILED UNSIGNED: /m);
    for (const c of picked) {
      const file = `plugins/${c.name}.zip`;
      if (c.expect === 'PLUGIN_OK') expect(run.stdout).toContain(`PASSED plugin: ${file}\n`);
      else expect(run.stdout).toContain(`FAILED ${c.expect}: ${file}: `);
    }
  });
});

/** Signs as gpg did on 2020-06-01 with packages/sign/testdata/expired.asc, a key that expired on 2021-01-01. */
class PastSigner implements Signer {
  home = '';
  fingerprint = readFileSync(join(REPO_ROOT, 'packages', 'sign', 'testdata', 'expired.fingerprint'), 'utf8').trim();
  private readonly passphrase = readFileSync(join(REPO_ROOT, 'packages', 'sign', 'testdata', 'expired.passphrase'), 'utf8').replace(/\n$/, '');

  async init(): Promise<void> {
    this.home = await mkdtemp(join(tmpdir(), 'helix-pyv-past-'));
    this.gpg(['--import', join(REPO_ROOT, 'packages', 'sign', 'testdata', 'expired.asc')]);
  }

  private gpg(args: readonly string[]): string {
    return mustRun('gpg', ['--homedir', this.home, '--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', this.passphrase, '--faked-system-time', '20200601T000000!', ...args]);
  }

  sign(file: string): void {
    this.gpg(['--yes', '--local-user', this.fingerprint, '--detach-sign', '--armor', '--output', `${file}.asc`, file]);
  }

  publicKey(): string {
    return this.gpg(['--armor', '--export', this.fingerprint]);
  }

  /** Its DSSE key (expired keys sign DSSE envelopes too: a DSSE signature states no time). */
  dsseKey(): Promise<DsseKey> {
    return dsseKeyOfArmor(readFileSync(join(REPO_ROOT, 'packages', 'sign', 'testdata', 'expired.asc'), 'utf8'), this.passphrase);
  }

  async dispose(): Promise<void> {
    spawnSync('gpgconf', ['--homedir', this.home, '--kill', 'all'], { encoding: 'utf8' });
    await rm(this.home, { recursive: true, force: true });
  }
}

describe('armour as both verifiers read it', () => {
  it('passes with trailing spaces, tabs and CRs on its lines (RFC 9580 6.2), in TypeScript and Python alike', async () => {
    const dir = await copyOfGood();
    for (const file of ['SHA256SUMS.txt.asc', `${SBOM_PLUGIN}.asc`, PUBLIC_KEY]) {
      const text = await readFile(join(dir, file), 'utf8');
      await writeFile(join(dir, file), text.split('\n').map((l, i) => (l ? `${l}${[' ', '\t', ' \r', '\r'][i % 4]}` : l)).join('\n'));
    }
    expectPass(signatures(dir, '--trust-store', TRUST_STORE));
    const ts = await verifyRelease(dir, { fingerprint: gpg.fingerprint, trustStore: await loadTrustStore(TRUST_STORE) });
    expect(ts.filter((r) => r.status === 'FAILED').map(formatResult)).toEqual([]);
  });
});

describe('a release signed while its key was valid, read after the key expired', () => {
  it('passes both verifiers: each signature is judged as of when it was made (as gpg does)', async () => {
    const past = new PastSigner();
    await past.init();
    try {
      const dir = join(work, 'signed-before-expiry');
      await buildRelease(dir, past);
      const sig = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', past.fingerprint, '--trust-store', TRUST_STORE]);
      const prov = python(PROVENANCE_PY, ['--dir', dir]);
      expect(sig.status, sig.stdout + sig.stderr).toBe(0);
      expect(prov.status, prov.stdout + prov.stderr).toBe(0);
      const ts = await verifyRelease(dir, { fingerprint: past.fingerprint, trustStore: await loadTrustStore(TRUST_STORE) });
      expect(ts.filter((r) => r.status === 'FAILED').map(formatResult)).toEqual([]);
      expect(ts.find((r) => r.check === 'key')?.reason).toMatch(/expired on 2021-01-01T00:00:00\.000Z, after it signed/);
    } finally {
      await past.dispose();
    }
  });
});

describe('a release whose key was revoked after it signed', () => {
  it('fails both verifiers with the same KEY_REVOKED line: when, why, and what to do', async () => {
    const dir = await copyOfGood();
    await writeFile(join(dir, PUBLIC_KEY), gpg.revokedPublicKey('compromised'));
    const sig = python(SIGNATURES_PY, ['--dir', dir, '--fingerprint', gpg.fingerprint]);
    expectFailure(sig, 'KEY_REVOKED', PUBLIC_KEY, true);
    const line = failedLines(sig)[0]!;
    expect(line).toMatch(/^FAILED KEY_REVOKED: release-signing-public-key\.asc: revoked by its owner on \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z \(key compromised\): none of its signatures can be trusted, whenever they were made; the release must be re-signed with a valid key \(check the project's announcement of its new key, and pin that fingerprint\)$/);
    const ts = await verifyRelease(dir, { fingerprint: gpg.fingerprint });
    expect(ts.filter((r) => r.status === 'FAILED').map(formatResult)).toEqual([line]);
  });
});

/**
 * The two implementations must agree: for the good release and every tampered
 * one, `helix-release verify` (TypeScript) and the two Python tools together
 * give the same verdict and fail with the same set of codes.
 */
describe('the TypeScript verifier and the Python tools give the same verdicts', () => {
  const options = (args: readonly string[]) => {
    const value = (flag: string) => {
      const i = args.lastIndexOf(flag);
      return i >= 0 ? args[i + 1] : undefined;
    };
    const fingerprint = value('--fingerprint');
    return { fingerprint: fingerprint === 'OTHER' ? gpg.otherFingerprint : fingerprint ?? gpg.fingerprint, commit: value('--commit'), tag: value('--tag') };
  };
  const pythonArgs = (o: ReturnType<typeof options>) => ({
    sig: ['--fingerprint', o.fingerprint, '--trust-store', TRUST_STORE],
    prov: [...(o.commit ? ['--commit', o.commit] : []), ...(o.tag ? ['--tag', o.tag] : [])],
  });
  const codesOf = (lines: string[]) => [...new Set(lines.map((l) => /^FAILED ([A-Z_0-9]+):/.exec(l)?.[1]).filter(Boolean))].sort();

  const cases: [string, () => Promise<string>, string[], string[] | undefined][] = [
    ['the good release', async () => good, [], []],
    ...mutations.map((m): [string, () => Promise<string>, string[], string[] | undefined] => [m.name, m.make, m.args ?? [], m.codes]),
  ];
  it.each(cases)('%s', async (_name, make, args, codes) => {
    const dir = await make();
    const o = options(args);
    const a = pythonArgs(o);
    const sig = python(SIGNATURES_PY, ['--dir', dir, ...a.sig]);
    const prov = python(PROVENANCE_PY, ['--dir', dir, ...a.prov]);
    const pyCodes = codesOf([...failedLines(sig), ...failedLines(prov)]);
    const pyPassed = sig.status === 0 && prov.status === 0;
    const ts = await verifyRelease(dir, { fingerprint: o.fingerprint, commit: o.commit, tag: o.tag, trustStore: await loadTrustStore(TRUST_STORE) });
    const tsCodes = [...new Set(ts.filter((r) => r.status === 'FAILED').map((r) => r.code!))].sort();
    const shown = `python:\n${sig.stdout}${prov.stdout}\ntypescript:\n${ts.map(formatResult).join('\n')}`;
    // Every printed line is one line: hostile names are escaped (as by the Python tools).
    for (const line of ts.map(formatResult)) expect(line, shown).toMatch(/^(PASSED [a-z-]+: |FAILED [A-Z_]+: |WARN [A-Z_]+: |SKIPPED [a-z-]+: )[^\n\r\u2028\u2029]*$/);
    expect(tsCodes.length === 0, shown).toBe(pyPassed);
    expect(tsCodes, shown).toEqual(pyCodes);
    if (codes) expect(tsCodes, shown).toEqual(codes);
  });
});
