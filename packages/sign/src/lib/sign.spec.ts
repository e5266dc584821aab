/**
 * The signing key and the signatures, against keys GnuPG made
 * (packages/sign/testdata, TEST-ONLY, see make-keys.sh) and checked by the
 * real `gpg`: every key fixture loads or fails with its own code, the
 * signatures are byte-for-byte reproducible, dated max(SOURCE_DATE_EPOCH, key
 * creation), and `gpg --verify` accepts them (and rejects tampered data). No
 * error message ever quotes a passphrase or a line of the key armour.
 */
import { spawnSync } from 'node:child_process';
import { constants as cryptoConstants, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import * as openpgp from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReleaseRecords, memoryLogger, resolveConfig, sha256Hex, stableJson, toolchainPaths, type ArtifactKind, type StageContext } from '@helix-release/core';
import { SignError, type SignErrorCode } from './errors';
import { loadSigningKey, type KeySource, type SigningKey } from './key';
import { detachedSignature, publicKeyArmor, signStage } from './sign';

const TESTDATA = resolve(__dirname, '..', '..', 'testdata');
/** What the sign stage writes: signatures, envelopes, the key exports and the fingerprint file. */
const isSigningOutput = (f: string) => f.endsWith('.asc') || f.endsWith('.dsse.json') || f === 'release-signing-key-fingerprint.txt' || f === 'release-signing-public-key.pem';
/** Every fixture key was made at the faked time 2020-01-01T00:00:00Z. */
const KEY_CREATED = Date.parse('2020-01-01T00:00:00Z') / 1000;
/** The expired fixture's expiry. */
const EXPIRES = Date.parse('2021-01-01T00:00:00Z') / 1000;
/** A SOURCE_DATE_EPOCH after the keys were made (2026-01-02T03:04:05Z, the e2e commit time). */
const LATER = 1_767_323_045;
/** A SOURCE_DATE_EPOCH before the keys were made (2017-07-14). */
const EARLIER = 1_500_000_000;

type FixtureName = 'ed25519' | 'rsa3072' | 'expired' | 'revoked' | 'public-only' | 'malformed';
interface Fixture {
  armor: string;
  passphrase: string | undefined;
  fingerprint: string;
}

function fixture(name: FixtureName): Fixture {
  const read = (ext: string) => {
    try {
      return readFileSync(join(TESTDATA, `${name}.${ext}`), 'utf8');
    } catch {
      return undefined;
    }
  };
  return {
    armor: read('asc')!,
    passphrase: read('passphrase')?.replace(/\n$/, ''),
    fingerprint: read('fingerprint')!.trim(),
  };
}

const FIXTURES: Record<FixtureName, Fixture> = {
  ed25519: fixture('ed25519'),
  rsa3072: fixture('rsa3072'),
  expired: fixture('expired'),
  revoked: fixture('revoked'),
  'public-only': fixture('public-only'),
  malformed: fixture('malformed'),
};

/** The lines of an armour's body (not the BEGIN/END lines, not blank). */
function armorBodyLines(armor: string): string[] {
  return armor
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length >= 8 && !l.startsWith('-----'));
}

/** Everything no error may quote: every passphrase and every armour line of the fixtures. */
const SECRETS = Object.values(FIXTURES).flatMap((f) => [...(f.passphrase ? [f.passphrase] : []), ...armorBodyLines(f.armor)]);

function source(over: Partial<KeySource> & { fixture: FixtureName }): KeySource {
  const f = FIXTURES[over.fixture];
  return {
    armoredKey: f.armor,
    passphrase: f.passphrase,
    expectedFingerprint: f.fingerprint,
    origin: 'environment',
    where: 'GPG_PRIVATE_KEY',
    ...over,
  };
}

/** Fails unless `text` quotes none of the secrets (nor the extra ones). */
function expectNoSecrets(text: string, extra: readonly string[] = []): void {
  for (const secret of [...SECRETS, ...extra]) {
    expect(text.includes(secret), `error text quotes the secret ${JSON.stringify(secret.slice(0, 12))}…:\n${text}`).toBe(false);
  }
}

async function loadOrError(src: KeySource, at: number): Promise<SigningKey | SignError> {
  try {
    return await loadSigningKey(src, at);
  } catch (err) {
    if (err instanceof SignError) return err;
    throw err;
  }
}

describe('loadSigningKey on GnuPG-made keys', () => {
  const ed = FIXTURES.ed25519;
  const rsa = FIXTURES.rsa3072;
  interface Case {
    name: string;
    source: KeySource;
    at?: number;
    expect: 'PASS' | SignErrorCode;
    /** Substrings the error message must contain. */
    message?: string[];
  }
  const cases: Case[] = [
    { name: 'ed25519 with its passphrase and fingerprint', source: source({ fixture: 'ed25519' }), expect: 'PASS' },
    { name: 'rsa3072 with its passphrase and fingerprint', source: source({ fixture: 'rsa3072' }), expect: 'PASS' },
    {
      name: 'ed25519, fingerprint given as 0x, lower case, in groups of four',
      source: source({ fixture: 'ed25519', expectedFingerprint: `0x${ed.fingerprint.toLowerCase().replace(/(.{4})/g, '$1 ')}` }),
      expect: 'PASS',
    },
    { name: 'ed25519, SOURCE_DATE_EPOCH before the key was made', source: source({ fixture: 'ed25519' }), at: EARLIER, expect: 'PASS' },
    // Valid at the release's clock, expired by now: verifiers judge the key as of today, so it must not sign.
    {
      name: 'expired key, signing at a clock before it expired',
      source: source({ fixture: 'expired' }),
      at: EXPIRES - 86_400,
      expect: 'SIGN_KEY_EXPIRED',
      message: [FIXTURES.expired.fingerprint, 'was valid at the release\'s clock', 'expired on 2021-01-01T00:00:00.000Z', 'as of today', 'gpg --quick-set-expire'],
    },
    { name: 'ed25519, wrong passphrase', source: source({ fixture: 'ed25519', passphrase: 'not the passphrase' }), expect: 'SIGN_BAD_PASSPHRASE', message: ['GPG_PASSPHRASE', ed.fingerprint] },
    { name: 'rsa3072, wrong passphrase', source: source({ fixture: 'rsa3072', passphrase: 'not the passphrase' }), expect: 'SIGN_BAD_PASSPHRASE', message: ['GPG_PASSPHRASE', rsa.fingerprint] },
    { name: 'rsa3072, the passphrase of the ed25519 key', source: source({ fixture: 'rsa3072', passphrase: ed.passphrase }), expect: 'SIGN_BAD_PASSPHRASE' },
    { name: 'ed25519, empty passphrase', source: source({ fixture: 'ed25519', passphrase: '' }), expect: 'SIGN_BAD_PASSPHRASE' },
    { name: 'ed25519, no passphrase', source: source({ fixture: 'ed25519', passphrase: undefined }), expect: 'SIGN_BAD_PASSPHRASE', message: ['GPG_PASSPHRASE is not set'] },
    { name: 'expired key (expired 2021-01-01)', source: source({ fixture: 'expired' }), expect: 'SIGN_KEY_EXPIRED', message: [FIXTURES.expired.fingerprint, '2021-01-01T00:00:00.000Z'] },
    { name: 'expired key, signing at the second it expires', source: source({ fixture: 'expired' }), at: EXPIRES, expect: 'SIGN_KEY_EXPIRED' },
    { name: 'expired key, wrong passphrase too', source: source({ fixture: 'expired', passphrase: 'wrong' }), expect: 'SIGN_KEY_EXPIRED' },
    { name: 'revoked key', source: source({ fixture: 'revoked' }), expect: 'SIGN_KEY_REVOKED', message: [FIXTURES.revoked.fingerprint] },
    { name: 'revoked key, SOURCE_DATE_EPOCH before the revocation', source: source({ fixture: 'revoked' }), at: EARLIER, expect: 'SIGN_KEY_REVOKED' },
    { name: 'public key only', source: source({ fixture: 'public-only' }), expect: 'SIGN_KEY_NOT_PRIVATE', message: [FIXTURES['public-only'].fingerprint, '--export-secret-keys'] },
    { name: 'public key only, no fingerprint', source: source({ fixture: 'public-only', expectedFingerprint: undefined }), expect: 'SIGN_KEY_NOT_PRIVATE' },
    { name: 'truncated armour', source: source({ fixture: 'malformed' }), expect: 'SIGN_KEY_MALFORMED', message: ['GPG_PRIVATE_KEY'] },
    { name: 'not armour at all', source: source({ fixture: 'ed25519', armoredKey: 'hello, world\n' }), expect: 'SIGN_KEY_MALFORMED' },
    { name: 'empty key', source: source({ fixture: 'ed25519', armoredKey: '' }), expect: 'SIGN_KEY_MALFORMED' },
    {
      name: 'the armour body without its BEGIN line',
      source: source({ fixture: 'ed25519', armoredKey: ed.armor.replace(/^-----BEGIN[^\n]*\n/, '') }),
      expect: 'SIGN_KEY_MALFORMED',
    },
    {
      name: 'ed25519 key, rsa3072 fingerprint expected',
      source: source({ fixture: 'ed25519', expectedFingerprint: rsa.fingerprint }),
      expect: 'SIGN_FINGERPRINT_MISMATCH',
      message: [ed.fingerprint, rsa.fingerprint],
    },
    {
      name: 'rsa3072 key, ed25519 fingerprint expected (and a wrong passphrase)',
      source: source({ fixture: 'rsa3072', expectedFingerprint: ed.fingerprint, passphrase: 'wrong' }),
      expect: 'SIGN_FINGERPRINT_MISMATCH',
      message: [ed.fingerprint, rsa.fingerprint],
    },
    {
      name: 'ed25519 key, fingerprint one digit off',
      source: source({ fixture: 'ed25519', expectedFingerprint: ed.fingerprint.slice(0, -1) + (ed.fingerprint.endsWith('0') ? '1' : '0') }),
      expect: 'SIGN_FINGERPRINT_MISMATCH',
      message: [ed.fingerprint],
    },
    { name: 'ed25519, no fingerprint', source: source({ fixture: 'ed25519', expectedFingerprint: undefined }), expect: 'SIGN_FINGERPRINT_MISSING', message: ['GPG_PUBLIC_KEY_FINGERPRINT', ed.fingerprint] },
    { name: 'rsa3072, empty fingerprint', source: source({ fixture: 'rsa3072', expectedFingerprint: '' }), expect: 'SIGN_FINGERPRINT_MISSING' },
  ];

  it.each(cases)('$name → $expect', async (c) => {
    const result = await loadOrError(c.source, c.at ?? LATER);
    if (c.expect === 'PASS') {
      expect(result, result instanceof Error ? result.format() : '').not.toBeInstanceOf(Error);
      const key = result as SigningKey;
      expect(key.fingerprint).toBe(FIXTURES[fixtureOf(c.source)].fingerprint);
      expect(key.key.isDecrypted()).toBe(true);
      expect(key.origin).toBe('environment');
      expect(key.signingKeyCreated.getTime() / 1000).toBe(KEY_CREATED);
      return;
    }
    expect(result).toBeInstanceOf(SignError);
    const err = result as SignError;
    expect(err.code, err.format()).toBe(c.expect);
    for (const part of c.message ?? []) expect(err.message).toContain(part);
    // Nothing secret in the message, the formatted line, the stack, the cause chain or any property.
    const given = [c.source.passphrase, ...armorBodyLines(c.source.armoredKey)].filter((s): s is string => !!s && s.length >= 4);
    for (const text of [err.message, err.format(), err.stack ?? '', inspect(err, { depth: 10 })]) expectNoSecrets(text, given);
  });

  it('covers every error code that a key can cause', () => {
    const codes = new Set(cases.map((c) => c.expect));
    for (const code of ['PASS', 'SIGN_BAD_PASSPHRASE', 'SIGN_KEY_EXPIRED', 'SIGN_KEY_REVOKED', 'SIGN_KEY_NOT_PRIVATE', 'SIGN_KEY_MALFORMED', 'SIGN_FINGERPRINT_MISSING', 'SIGN_FINGERPRINT_MISMATCH']) {
      expect(codes).toContain(code);
    }
    // The no-secret check looks for every passphrase and the armour lines of every key.
    for (const f of Object.values(FIXTURES)) {
      if (f.passphrase) expect(SECRETS).toContain(f.passphrase);
      expect(armorBodyLines(f.armor).length).toBeGreaterThanOrEqual(3);
    }
  });

  function fixtureOf(src: KeySource): FixtureName {
    return (Object.keys(FIXTURES) as FixtureName[]).find((n) => FIXTURES[n].armor === src.armoredKey)!;
  }
});

/** A temporary GNUPGHOME and the real gpg. */
class Gpg {
  home = '';
  async init(): Promise<void> {
    this.home = await mkdtemp(join(tmpdir(), 'helix-sign-spec-gpg-'));
  }
  run(args: readonly string[], input?: string): { code: number; stdout: string; stderr: string } {
    const r = spawnSync('gpg', ['--homedir', this.home, '--batch', '--no-tty', ...args], { encoding: 'utf8', input, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
    if (r.error) throw r.error;
    return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }
  /** `gpg --verify --status-fd 1`: the exit code and the VALIDSIG fields, if any. */
  verify(sigFile: string, dataFile: string): { code: number; validsig: string[] | undefined; status: string } {
    const r = this.run(['--status-fd', '1', '--verify', sigFile, dataFile]);
    const line = r.stdout.split('\n').find((l) => l.startsWith('[GNUPG:] VALIDSIG '));
    return { code: r.code, validsig: line?.split(' ').slice(2), status: r.stdout + r.stderr };
  }
  async dispose(): Promise<void> {
    spawnSync('gpgconf', ['--homedir', this.home, '--kill', 'all']);
    await rm(this.home, { recursive: true, force: true });
  }
}

describe('detachedSignature', () => {
  const gpg = new Gpg();
  const keys = {} as Record<'ed25519' | 'rsa3072', SigningKey>;
  const data = new TextEncoder().encode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  helix-studio-1.4.0-linux-x86_64.zip\n');

  beforeAll(async () => {
    await gpg.init();
    for (const name of ['ed25519', 'rsa3072'] as const) {
      keys[name] = await loadSigningKey(source({ fixture: name }), LATER);
      const imported = gpg.run(['--import'], publicKeyArmor(keys[name]));
      expect(imported.code, imported.stderr).toBe(0);
    }
  });
  afterAll(async () => {
    await gpg.dispose();
  });

  describe.each(['ed25519', 'rsa3072'] as const)('%s', (name) => {
    it('gives the same bytes twice, and again with the key loaded anew', async () => {
      const first = await detachedSignature(keys[name], data, LATER);
      const second = await detachedSignature(keys[name], data, LATER);
      const reloaded = await detachedSignature(await loadSigningKey(source({ fixture: name }), LATER), data, LATER);
      expect(first).toMatch(/^-----BEGIN PGP SIGNATURE-----\n/);
      expect(second).toBe(first);
      expect(reloaded).toBe(first);
      // No salt notation: nothing random in the signature packet.
      const sig = await openpgp.readSignature({ armoredSignature: first });
      expect(sig.packets[0]!.rawNotations).toEqual([]);
      // Other data, other signature.
      expect(await detachedSignature(keys[name], new TextEncoder().encode('other data\n'), LATER)).not.toBe(first);
    });

    it.each([
      { when: 'SOURCE_DATE_EPOCH after the key was made', sde: LATER, created: LATER },
      { when: 'SOURCE_DATE_EPOCH before the key was made', sde: EARLIER, created: KEY_CREATED },
    ])('is dated max(SOURCE_DATE_EPOCH, key creation): $when; gpg --verify says good by the fingerprint', async ({ sde, created }) => {
      const armored = await detachedSignature(keys[name], data, sde);
      // openpgp's reading of the packet
      const sig = await openpgp.readSignature({ armoredSignature: armored });
      expect(sig.packets[0]!.created!.getTime() / 1000).toBe(created);
      // gpg's reading of the packet
      const file = join(gpg.home, `${name}-${sde}.txt`);
      await writeFile(file, data);
      await writeFile(`${file}.asc`, armored);
      const packets = gpg.run(['--list-packets', `${file}.asc`]);
      expect(packets.code, packets.stderr).toBe(0);
      expect(packets.stdout).toMatch(/^:signature packet:/m);
      expect([...packets.stdout.matchAll(/\bversion 4, created (\d+),/g)].map((m) => Number(m[1]))).toEqual([created]);
      expect(packets.stdout).toContain(`(sig created ${new Date(created * 1000).toISOString().slice(0, 10)})`);
      // gpg --verify: VALIDSIG <sig fpr> <date> <timestamp> <expire> <version> <reserved> <pk algo> <hash algo> <class> <primary fpr>
      const v = gpg.verify(`${file}.asc`, file);
      expect(v.code, v.status).toBe(0);
      expect(v.status).toMatch(/^\[GNUPG:\] GOODSIG /m);
      expect(v.validsig, v.status).toBeDefined();
      expect(v.validsig![0]).toBe(FIXTURES[name].fingerprint);
      expect(Number(v.validsig![2])).toBe(created);
      expect(v.validsig![8]).toBe('00'); // a binary-document signature
      expect(v.validsig![9]).toBe(FIXTURES[name].fingerprint);
    });

    it('fails gpg --verify when one data byte is changed', async () => {
      const armored = await detachedSignature(keys[name], data, LATER);
      const good = join(gpg.home, `${name}-good.txt`);
      await writeFile(good, data);
      await writeFile(`${good}.asc`, armored);
      expect(gpg.verify(`${good}.asc`, good).code).toBe(0);
      for (const at of [0, Math.floor(data.length / 2), data.length - 1]) {
        const tampered = Uint8Array.from(data);
        tampered[at]! ^= 0x01;
        const file = join(gpg.home, `${name}-tampered-${at}.txt`);
        await writeFile(file, tampered);
        const v = gpg.verify(`${good}.asc`, file);
        expect(v.code, v.status).not.toBe(0);
        expect(v.validsig).toBeUndefined();
        expect(v.status).toMatch(/^\[GNUPG:\] BADSIG /m);
      }
    });

    it('exports a public key with no secret material', () => {
      const armored = publicKeyArmor(keys[name]);
      expect(armored).toMatch(/^-----BEGIN PGP PUBLIC KEY BLOCK-----\n/);
      expect(armored).not.toContain('PRIVATE');
      expect(publicKeyArmor(keys[name])).toBe(armored);
      const listed = gpg.run(['--with-colons', '--list-secret-keys', FIXTURES[name].fingerprint]);
      expect(listed.code).not.toBe(0); // gpg imported no secret key from it
    });
  });
});

/**
 * signStage itself, on a temporary workspace: what it refuses. A file changed
 * after its stage recorded it, `sign.required` without a key, and a key that
 * loads but cannot sign (made here by the real gpg: a certify-only primary
 * key with no signing subkey, and an RSA 1024 key OpenPGP.js finds too weak).
 * A refused run leaves no signature behind.
 */
describe('signStage', () => {
  const gpg = new Gpg();
  /** Keys made by gpg for this block, unprotected. */
  const made = {} as Record<'certOnly' | 'rsa1024', { armor: string; fingerprint: string }>;
  let ws = '';
  let counter = 0;

  /** gpg --quick-gen-key at the fixtures' faked creation time; returns the unprotected secret key. */
  function makeKey(uid: string, algo: string, usage: string): { armor: string; fingerprint: string } {
    const opts = ['--faked-system-time', '20200101T000000!', '--pinentry-mode', 'loopback', '--passphrase', ''];
    const gen = gpg.run([...opts, '--quick-gen-key', uid, algo, usage, 'never']);
    expect(gen.code, gen.stderr).toBe(0);
    const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg.run(['--with-colons', '--fingerprint', uid]).stdout)?.[1];
    expect(fingerprint, `no fingerprint for ${uid}`).toBeDefined();
    const exported = gpg.run([...opts, '--armor', '--export-secret-keys', fingerprint!]);
    expect(exported.code, exported.stderr).toBe(0);
    // The armour header, spelt in parts: secret scanners flag the whole header in a source file.
    expect(exported.stdout.startsWith(`-----BEGIN PGP ${['PRIVATE', 'KEY', 'BLOCK'].join(' ')}-----`)).toBe(true);
    return { armor: exported.stdout, fingerprint: fingerprint! };
  }

  beforeAll(async () => {
    await gpg.init();
    made.certOnly = makeKey('Helix TEST-ONLY cert-only <test-only-cert-only@helix-release.invalid>', 'ed25519', 'cert');
    made.rsa1024 = makeKey('Helix TEST-ONLY rsa1024 <test-only-rsa1024@helix-release.invalid>', 'rsa1024', 'sign');
    ws = await mkdtemp(join(tmpdir(), 'helix-sign-stage-'));
  });
  afterAll(async () => {
    await gpg.dispose();
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  const ed = FIXTURES.ed25519;
  const keyEnv = (armor: string, fingerprint: string, passphrase?: string): NodeJS.ProcessEnv => ({
    GPG_PRIVATE_KEY: armor,
    GPG_PUBLIC_KEY_FINGERPRINT: fingerprint,
    ...(passphrase === undefined ? {} : { GPG_PASSPHRASE: passphrase }),
  });
  /** The files the release holds when signStage runs; each recorded by its stage. */
  const FILES: { path: string; kind: ArtifactKind; stage: string; text: string }[] = [
    { path: 'SHA256SUMS.txt', kind: 'checksums', stage: 'checksums', text: `${'a'.repeat(64)}  helix-studio-1.4.0-linux-x86_64.zip\n` },
    { path: 'BUILD_META.txt', kind: 'meta', stage: 'build-meta', text: 'format: helix-build-meta v1\nversion: 1.4.0\n' },
    { path: 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json', kind: 'sbom', stage: 'sbom', text: '{"spdxVersion":"SPDX-2.3"}\n' },
  ];

  interface StageCase {
    name: string;
    sign: { required?: boolean; developmentKey?: { privateKeyFile: string; passphraseFile: string; fingerprint: string } };
    env: () => NodeJS.ProcessEnv;
    /** Changes this release file (same size, one byte) after it was recorded. */
    change?: string;
    /** Files no stage recorded, put into the release folder before signing. */
    extra?: string[];
    /** SHA256SUMS.txt's text instead of FILES[0]'s (recorded as such). */
    sums?: string;
    expect: 'PASS' | SignErrorCode;
    /** The file the error must name, given the case's workspace root (undefined: it names none). */
    file?: (root: string) => string | undefined;
    /** Substrings the message must contain; functions read the keys made in beforeAll. */
    message?: () => string[];
  }
  const cases: StageCase[] = [
    { name: 'the ed25519 fixture key, nothing changed (the control)', sign: {}, env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase), expect: 'PASS' },
    {
      name: 'BUILD_META.txt changed after build-meta recorded it',
      sign: {},
      env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase),
      change: 'BUILD_META.txt',
      expect: 'SIGN_FILE_CHANGED',
      file: (root) => join(root, 'dist/release/BUILD_META.txt'),
      message: () => [`changed since its stage recorded sha256 ${sha256Hex(FILES[1]!.text)}`, 're-run the release'],
    },
    {
      name: 'an SBOM changed after the sbom stage recorded it (the files before it were signed already)',
      sign: { required: true },
      env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase),
      change: 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json',
      expect: 'SIGN_FILE_CHANGED',
      file: (root) => join(root, 'dist/release/SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json'),
      message: () => [`recorded sha256 ${sha256Hex(FILES[2]!.text)}`],
    },
    {
      // Checksums may come from the Nx cache and never see it; sign runs every time.
      name: 'a file no stage produced was dropped into the release folder',
      sign: {},
      env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase),
      extra: ['stray.txt'],
      expect: 'SIGN_STRAY_FILE',
      file: (root) => join(root, 'dist/release/stray.txt'),
      message: () => ['stray.txt is in the release folder but no stage of this release produced it', 'nothing was signed'],
    },
    {
      name: 'a killed atomic write left its temporary file (swept, then signed)',
      sign: {},
      env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase),
      extra: ['.helix-studio-1.4.0-linux-x86_64.zip.tmp-4242-0a1b2c3d'],
      expect: 'PASS',
    },
    {
      name: 'an SBOM that describes no file of SHA256SUMS.txt (its DSSE statement would have no subject)',
      sign: {},
      env: () => keyEnv(ed.armor, ed.fingerprint, ed.passphrase),
      sums: `${'b'.repeat(64)}  plugins/other-1.0.0.zip\n`,
      expect: 'SIGN_SBOM_UNBOUND',
      file: (root) => join(root, 'dist/release/SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json'),
      message: () => ['describes no file of SHA256SUMS.txt', 'its DSSE statement needs exactly one subject'],
    },
    {
      name: 'sign.required and no GPG_PRIVATE_KEY',
      sign: { required: true },
      env: () => ({}),
      expect: 'SIGN_KEY_REQUIRED',
      file: () => 'release.config.ts', // the config's own name for itself
      message: () => ['sign.required is true but GPG_PRIVATE_KEY is not set', 'GPG_PASSPHRASE', 'GPG_PUBLIC_KEY_FINGERPRINT'],
    },
    {
      name: 'sign.required, a development key configured but forbidden by HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS=1',
      sign: { required: true, developmentKey: { privateKeyFile: 'keys/dev.asc', passphraseFile: 'keys/dev.passphrase', fingerprint: ed.fingerprint } },
      env: () => ({ HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS: '1', GPG_PASSPHRASE: 'set, but no key' }),
      expect: 'SIGN_KEY_REQUIRED',
      file: () => 'release.config.ts', // the config's own name for itself
      message: () => ['sign.required is true but GPG_PRIVATE_KEY is not set'],
    },
    {
      name: 'a certify-only key (no signing key)',
      sign: {},
      env: () => keyEnv(made.certOnly.armor, made.certOnly.fingerprint),
      expect: 'SIGN_KEY_UNUSABLE',
      file: () => undefined,
      message: () => [`the key ${made.certOnly.fingerprint} cannot sign`, 'Could not find valid signing key packet'],
    },
    {
      name: 'an RSA 1024 key (too weak for OpenPGP.js)',
      sign: { required: true },
      env: () => keyEnv(made.rsa1024.armor, made.rsa1024.fingerprint),
      expect: 'SIGN_KEY_UNUSABLE',
      file: () => undefined,
      message: () => [`the key ${made.rsa1024.fingerprint} cannot sign`, 'RSA keys shorter than 2047 bits are considered too weak'],
    },
  ];

  it.each(cases)('$name → $expect', async (c) => {
    const root = join(ws, `case-${++counter}`);
    const config = resolveConfig({ apps: { root: 'apps' }, sign: c.sign });
    const releaseDir = join(root, config.releaseDir);
    await mkdir(releaseDir, { recursive: true });
    const files = FILES.map((f) => (f.path === 'SHA256SUMS.txt' && c.sums ? { ...f, text: c.sums } : f));
    for (const f of files) await writeFile(join(releaseDir, f.path), f.text);
    // Signatures of an earlier run: a refused run must not leave them behind.
    await writeFile(join(releaseDir, 'SHA256SUMS.txt.asc'), '-----BEGIN PGP SIGNATURE-----\nstale\n-----END PGP SIGNATURE-----\n');
    await writeFile(join(releaseDir, 'release-signing-key-fingerprint.txt'), `${ed.fingerprint}\n`);
    await writeFile(join(releaseDir, `${FILES[2]!.path}.dsse.json`), '{"stale": true}\n');
    await writeFile(join(releaseDir, 'release-signing-public-key.pem'), 'stale\n');
    const records = new ReleaseRecords(
      files.map((f) => ({
        schema: 'helix-release/stage-record/v1' as const,
        stage: f.stage,
        project: 'release',
        artifacts: [{ path: f.path, kind: f.kind, sha256: sha256Hex(f.text), size: Buffer.byteLength(f.text), sbom: false }],
      })),
    );
    for (const extra of c.extra ?? []) await writeFile(join(releaseDir, extra), 'not recorded by any stage\n');
    if (c.change) {
      const file = join(releaseDir, c.change);
      const bytes = readFileSync(file);
      bytes[5]! ^= 0x01; // same size: only the digest tells
      await writeFile(file, bytes);
    }
    const ctx: StageContext = {
      stage: 'sign',
      project: 'release',
      workspaceRoot: root,
      projectRoot: root,
      config,
      releaseDir,
      workDir: join(root, 'dist', 'work', 'release', 'sign'),
      sourceDateEpoch: { seconds: LATER, origin: 'environment' },
      variant: 'build',
      env: c.env(),
      logger: memoryLogger(),
    };
    const outcome = await signStage(ctx, records).catch((err: unknown) => err);
    const left = await readdir(releaseDir);
    if (c.expect === 'PASS') {
      expect(outcome, outcome instanceof Error ? outcome.message : '').toBeInstanceOf(Array);
      const sbomEnvelope = `${FILES[2]!.path}.dsse.json`;
      expect((outcome as { path: string }[]).map((a) => a.path).sort()).toEqual(
        [...FILES.map((f) => `${f.path}.asc`), sbomEnvelope, 'release-signing-key-fingerprint.txt', 'release-signing-public-key.asc', 'release-signing-public-key.pem'].sort(),
      );
      expect(readFileSync(join(releaseDir, 'SHA256SUMS.txt.asc'), 'utf8')).toMatch(/^-----BEGIN PGP SIGNATURE-----\n/);
      expect(JSON.parse(readFileSync(join(releaseDir, sbomEnvelope), 'utf8'))).toMatchObject({ payloadType: 'application/vnd.in-toto+json' });
      expect(readFileSync(join(releaseDir, 'release-signing-public-key.pem'), 'utf8')).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
      // Nothing is left but the recorded files and what signing wrote.
      expect(left.filter((f) => !isSigningOutput(f)).sort()).toEqual(FILES.map((f) => f.path).sort());
      return;
    }
    expect(outcome).toBeInstanceOf(SignError);
    const err = outcome as SignError;
    expect(err.code, err.format()).toBe(c.expect);
    expect(err.file).toBe(c.file!(root));
    for (const part of c.message?.() ?? []) expect(err.message).toContain(part);
    // Nothing signed is left: no .asc or envelope (not even the stale ones), no key export, no fingerprint file.
    expect(left.filter(isSigningOutput)).toEqual([]);
    expect(left.sort()).toEqual([...FILES.map((f) => f.path), ...(c.extra ?? [])].sort());
    // And no key material in what it says.
    const armor = c.env()['GPG_PRIVATE_KEY'];
    if (armor) for (const text of [err.message, err.format(), inspect(err, { depth: 10 })]) expectNoSecrets(text, armorBodyLines(armor));
  });

  it('covers every error code of the stage itself', () => {
    for (const code of ['PASS', 'SIGN_FILE_CHANGED', 'SIGN_KEY_REQUIRED', 'SIGN_KEY_UNUSABLE', 'SIGN_STRAY_FILE', 'SIGN_SBOM_UNBOUND']) expect(cases.map((c) => c.expect)).toContain(code);
  });
});

/**
 * The DSSE envelopes signStage writes beside the `.asc` files: which files get
 * one, what each payload is (the file's own bytes, or a Statement about the
 * artifact an SBOM describes), that the signature over DSSE's PAE verifies
 * with Node's crypto and the published PEM key, and that a second run gives
 * the same bytes. With the development key (EdDSA legacy, Ed25519) and RSA.
 */
describe('signStage: DSSE envelopes', () => {
  let ws = '';
  let counter = 0;
  beforeAll(async () => {
    ws = await mkdtemp(join(tmpdir(), 'helix-sign-dsse-'));
  });
  afterAll(async () => {
    if (ws) await rm(ws, { recursive: true, force: true });
  });

  const INSTALLER = 'helix-studio-1.4.0-linux-x86_64.zip';
  const PLUGIN = 'plugins/hello-1.0.0.zip';
  const SBOM_INSTALLER = `SBOM-${INSTALLER}.spdx.json`;
  const SBOM_PLUGIN = 'SBOM-hello-1.0.0.zip.spdx.json';
  const CDX_INSTALLER = `SBOM-${INSTALLER}.cdx.json`;
  const cdxText = `{\n  "bomFormat": "CycloneDX",\n  "specVersion": "1.6",\n  "metadata": { "component": { "type": "application", "name": "helix-studio" } }\n}\n`;
  const sbomText = (name: string) => `{\n  "spdxVersion": "SPDX-2.3",\n  "name": "${name}",\n  "packages": [{ "name": "x", "versionInfo": "1.0" }],\n  "documentNamespace": "https://helix-release.invalid/spdx/${name}-0"\n}\n`;
  const statement = (type: string) => `${JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: INSTALLER, digest: { sha256: 'c'.repeat(64) } }], predicateType: type, predicate: {} }, null, 2)}\n`;
  const devKeys = resolve(__dirname, '..', '..', '..', '..', 'workspace-fixtures', 'keys');
  const KEYS = {
    development: {
      armor: readFileSync(join(devKeys, 'DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8'),
      passphrase: readFileSync(join(devKeys, 'DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8').replace(/\r?\n$/, ''),
      fingerprint: readFileSync(join(devKeys, 'DEVELOPMENT-ONLY-release-signing-key.fingerprint'), 'utf8').trim(),
    },
    rsa3072: FIXTURES.rsa3072,
  };

  /** A release folder as the stages before sign leave it, recorded; then signStage. */
  async function signed(keyName: keyof typeof KEYS, options: { conformance?: string } = {}) {
    const root = join(ws, `case-${++counter}`);
    const config = resolveConfig({ apps: { root: 'apps' } });
    const releaseDir = join(root, config.releaseDir);
    await mkdir(join(releaseDir, 'plugins'), { recursive: true });
    const body: { path: string; kind: ArtifactKind; text: string }[] = [
      { path: INSTALLER, kind: 'installer', text: 'PK installer\n' },
      { path: PLUGIN, kind: 'plugin', text: 'PK plugin\n' },
      { path: SBOM_INSTALLER, kind: 'sbom', text: sbomText(INSTALLER) },
      { path: SBOM_PLUGIN, kind: 'sbom', text: sbomText('hello-1.0.0.zip') },
      { path: CDX_INSTALLER, kind: 'sbom', text: cdxText },
      { path: 'conformance-results.json', kind: 'conformance', text: options.conformance ?? statement('https://in-toto.io/attestation/test-result/v0.1') },
      { path: 'conformance.log', kind: 'conformance', text: 'PASS 01-version\n' },
    ];
    const sums = body.map((f) => ({ path: f.path, sha256: sha256Hex(f.text) })).sort((a, b) => (a.path < b.path ? -1 : 1));
    const sumsText = sums.map((l) => `${l.sha256}  ${l.path}\n`).join('');
    const files = [
      ...body,
      { path: 'SHA256SUMS.txt', kind: 'checksums' as const, text: sumsText },
      { path: 'BUILD_META.txt', kind: 'meta' as const, text: 'format: helix-build-meta v1\n' },
      { path: 'release-provenance.intoto.json', kind: 'provenance' as const, text: statement('https://slsa.dev/provenance/v1') },
    ];
    for (const f of files) await writeFile(join(releaseDir, f.path), f.text);
    const records = new ReleaseRecords(
      files.map((f) => ({
        schema: 'helix-release/stage-record/v1' as const,
        stage: f.kind,
        project: 'release',
        artifacts: [{ path: f.path, kind: f.kind, sha256: sha256Hex(f.text), size: Buffer.byteLength(f.text), sbom: false }],
      })),
    );
    const k = KEYS[keyName];
    const ctx: StageContext = {
      stage: 'sign',
      project: 'release',
      workspaceRoot: root,
      projectRoot: root,
      config,
      releaseDir,
      workDir: join(root, 'dist', 'work', 'release', 'sign'),
      sourceDateEpoch: { seconds: LATER, origin: 'environment' },
      variant: 'build',
      env: { GPG_PRIVATE_KEY: k.armor, GPG_PASSPHRASE: k.passphrase!, GPG_PUBLIC_KEY_FINGERPRINT: k.fingerprint },
      logger: memoryLogger(),
    };
    const written = await signStage(ctx, records);
    return { ctx, records, releaseDir, written, sums, files };
  }

  const read = (dir: string, f: string) => readFileSync(join(dir, f));
  const envelopeOf = (dir: string, f: string) => JSON.parse(read(dir, `${f}.dsse.json`).toString('utf8')) as { payload: string; payloadType: string; signatures: { keyid: string; sig: string }[] };

  describe.each(['development', 'rsa3072'] as const)('%s key', (keyName) => {
    it('writes envelopes of the provenance, the conformance results and every SBOM, and the PEM key, all recorded', async () => {
      const { releaseDir, written } = await signed(keyName);
      const envelopes = (await readdir(releaseDir)).filter((f) => f.endsWith('.dsse.json')).sort();
      expect(envelopes).toEqual([`${CDX_INSTALLER}.dsse.json`, `${SBOM_INSTALLER}.dsse.json`, `${SBOM_PLUGIN}.dsse.json`, 'conformance-results.json.dsse.json', 'release-provenance.intoto.json.dsse.json']);
      for (const f of [...envelopes, 'release-signing-public-key.pem']) {
        const record = written.find((a) => a.path === f);
        expect(record, f).toMatchObject({ kind: 'signature', sha256: sha256Hex(read(releaseDir, f)), size: read(releaseDir, f).length });
      }
      expect(written.find((a) => a.path === 'release-provenance.intoto.json.dsse.json')?.name).toBe('release-provenance.intoto.json');
    });

    it('signs DSSE PAE with the signing key: verifies with Node crypto and the PEM; a flipped payload byte does not', async () => {
      const { releaseDir } = await signed(keyName);
      const pem = createPublicKey(read(releaseDir, 'release-signing-public-key.pem'));
      expect(pem.asymmetricKeyType).toBe(keyName === 'development' ? 'ed25519' : 'rsa');
      const check = (payload: Buffer, sig: Buffer) => {
        const pae = Buffer.concat([Buffer.from(`DSSEv1 28 application/vnd.in-toto+json ${payload.length} `), payload]);
        return keyName === 'development' ? cryptoVerify(null, pae, pem, sig) : cryptoVerify('sha256', pae, { key: pem, padding: cryptoConstants.RSA_PKCS1_PADDING }, sig);
      };
      for (const f of ['release-provenance.intoto.json', 'conformance-results.json', SBOM_INSTALLER]) {
        const e = envelopeOf(releaseDir, f);
        expect(Object.keys(e)).toEqual(['payload', 'payloadType', 'signatures']);
        expect(e.payloadType).toBe('application/vnd.in-toto+json');
        expect(e.signatures).toHaveLength(1);
        expect(e.signatures[0]!.keyid).toBe(KEYS[keyName].fingerprint.toLowerCase());
        const payload = Buffer.from(e.payload, 'base64');
        const sig = Buffer.from(e.signatures[0]!.sig, 'base64');
        expect(check(payload, sig), f).toBe(true);
        const flipped = Buffer.from(payload);
        flipped[10]! ^= 0x01;
        expect(check(flipped, sig), `${f} flipped`).toBe(false);
      }
      // The provenance's and the conformance results' payloads are their exact bytes.
      for (const f of ['release-provenance.intoto.json', 'conformance-results.json']) expect(Buffer.from(envelopeOf(releaseDir, f).payload, 'base64').equals(read(releaseDir, f))).toBe(true);
    });

    it("wraps each SBOM in a Statement about its artifact (name and sha256 as in SHA256SUMS.txt), in stableJson", async () => {
      const { releaseDir, sums } = await signed(keyName);
      for (const [sbom, artifact, predicateType] of [
        [SBOM_INSTALLER, INSTALLER, 'https://spdx.dev/Document/v2.3'],
        [SBOM_PLUGIN, PLUGIN, 'https://spdx.dev/Document/v2.3'],
        [CDX_INSTALLER, INSTALLER, 'https://cyclonedx.org/bom'],
      ] as const) {
        const payload = Buffer.from(envelopeOf(releaseDir, sbom).payload, 'base64').toString('utf8');
        const st = JSON.parse(payload) as Record<string, unknown>;
        expect(st).toEqual({
          _type: 'https://in-toto.io/Statement/v1',
          subject: [{ name: artifact, digest: { sha256: sums.find((l) => l.path === artifact)!.sha256 } }],
          predicateType,
          predicate: JSON.parse(read(releaseDir, sbom).toString('utf8')),
        });
        expect(payload).toBe(stableJson(st));
      }
    });

    it('gives byte-identical envelopes and PEM when the release is signed again', async () => {
      const { ctx, records, releaseDir } = await signed(keyName);
      const names = (await readdir(releaseDir)).filter((f) => f.endsWith('.dsse.json') || f.endsWith('.pem'));
      const first = new Map(names.map((f) => [f, read(releaseDir, f)]));
      await signStage(ctx, records);
      for (const f of names) expect(read(releaseDir, f).equals(first.get(f)!), f).toBe(true);
    });
  });

  /**
   * An independent DSSE implementation: securesystemslib (with cryptography),
   * from the dev toolchain (tools/toolchain/requirements-dev.txt, installed by
   * `npx nx run release:toolchain --dev`). The key is built from the PEM with
   * the envelope's keyid, since securesystemslib's own keyid is another digest.
   */
  const SSLIB_VERIFY = [
    'import base64, json, sys',
    'from cryptography.hazmat.primitives.serialization import load_pem_public_key',
    'from securesystemslib.dsse import Envelope',
    'from securesystemslib.exceptions import VerificationError',
    'from securesystemslib.signer import SSlibKey',
    'envelope_file, pem_file, scheme, flip = sys.argv[1:5]',
    'data = json.load(open(envelope_file))',
    'if flip == "flip":',
    '    payload = bytearray(base64.b64decode(data["payload"]))',
    '    payload[10] ^= 1',
    '    data["payload"] = base64.b64encode(bytes(payload)).decode()',
    'keyid = data["signatures"][0]["keyid"]',
    'envelope = Envelope.from_dict(data)',
    'pem = SSlibKey.from_crypto(load_pem_public_key(open(pem_file, "rb").read()), scheme=scheme)',
    'key = SSlibKey(keyid, pem.keytype, pem.scheme, pem.keyval)',
    'try:',
    '    accepted = envelope.verify([key], 1)',
    'except VerificationError as err:',
    '    print("REFUSED", err)',
    '    sys.exit(1)',
    'print("VERIFIED", " ".join(sorted(accepted)))',
  ].join('\n');

  it.each([
    ['development', 'ed25519'],
    ['rsa3072', 'rsa-pkcs1v15-sha256'],
  ] as const)('passes securesystemslib.dsse with the %s key (scheme %s), and fails it with a payload byte flipped', async (keyName, scheme) => {
    const { releaseDir } = await signed(keyName);
    const python = toolchainPaths(resolve(__dirname, '..', '..', '..', '..')).venvPython;
    const sslib = (file: string, flip: boolean) =>
      spawnSync(python, ['-c', SSLIB_VERIFY, join(releaseDir, `${file}.dsse.json`), join(releaseDir, 'release-signing-public-key.pem'), scheme, flip ? 'flip' : 'keep'], { encoding: 'utf8', timeout: 60_000 });
    for (const f of ['release-provenance.intoto.json', 'conformance-results.json', SBOM_INSTALLER, SBOM_PLUGIN]) {
      const ok = sslib(f, false);
      expect(ok.stderr, `${python} needs securesystemslib[crypto]: run npx nx run release:toolchain --dev`).not.toMatch(/ModuleNotFoundError/);
      expect(ok.status, `${f}: ${ok.stdout}${ok.stderr}`).toBe(0);
      expect(ok.stdout).toBe(`VERIFIED ${KEYS[keyName].fingerprint.toLowerCase()}\n`);
      const bad = sslib(f, true);
      expect(bad.status, `${f} flipped: ${bad.stdout}${bad.stderr}`).toBe(1);
      expect(bad.stdout).toMatch(/^REFUSED /);
    }
  });

  it('writes no envelope for conformance results that are not an in-toto Statement', async () => {
    const { releaseDir } = await signed('development', { conformance: '{"result": "PASSED"}\n' });
    expect(existsSync(join(releaseDir, 'conformance-results.json.dsse.json'))).toBe(false);
    expect(existsSync(join(releaseDir, 'conformance-results.json.asc'))).toBe(true);
  });

  it('removes the envelopes and the PEM when the next run is unsigned', async () => {
    const { ctx, records, releaseDir } = await signed('development');
    await signStage({ ...ctx, env: {} }, records);
    expect((await readdir(releaseDir)).filter(isSigningOutput)).toEqual([]);
  });
});
