/**
 * Signing a release with a user's own GnuPG key, as a user does it: keys made
 * at test time by the real `gpg` (RSA 3072 and Ed25519, each with a
 * passphrase, exported with `gpg --armor --export-secret-keys`) are passed to
 * `npx nx run release:all` in GPG_PRIVATE_KEY, GPG_PASSPHRASE and
 * GPG_PUBLIC_KEY_FINGERPRINT, in a copy of the base workspace (its Nx cache
 * gives every stage up to `sign`, which is never cached).
 *
 * Then `gpg --verify` in a GNUPGHOME that knows only the published public key
 * accepts every signature, by the key's fingerprint; a re-run re-signs to the
 * same bytes; tampering is caught; a wrong fingerprint or no key at all are
 * refused or reported loudly; and neither the passphrase nor any line of the
 * private key armour is left in dist/, in .nx/ or in the Nx output.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, lstat, mkdir, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { FIXED_EPOCH, cachedTasks, cloneWorkspace, nx, ranTasks, removeTemp, run, tempRoot, type RunResult } from './workspace';

const PUBLIC_KEY = 'release-signing-public-key.asc';
const FINGERPRINT_FILE = 'release-signing-key-fingerprint.txt';
/** The evidence files that must each have a detached signature. */
const MUST_BE_SIGNED = ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json', 'conformance-results.json', 'conformance.log', 'THIRD_PARTY_LICENSES.txt'];
const TAMPERED_ARTIFACTS = ['SHA256SUMS.txt', 'BUILD_META.txt', 'release-provenance.intoto.json'];

type KeyName = 'rsa3072' | 'ed25519';
interface GnupgKey {
  name: KeyName;
  fingerprint: string;
  /** Creation time of the primary key (it signs), in seconds. */
  created: number;
  passphrase: string;
  /** `gpg --armor --export-secret-keys` */
  armor: string;
}

const base = inject('baseWorkspace');
let root: string;
let ws: string;
let releaseDir: string;
let genHome: string;
const gpgHomes: string[] = [];
const keys = {} as Record<KeyName, GnupgKey>;
/** The combined output of every `release:all` this file ran. */
const outputs: string[] = [];

function gpgEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: root, GNUPGHOME: home, LC_ALL: 'C', TZ: 'UTC' };
}

async function newGpgHome(name: string): Promise<string> {
  const home = join(root, `gnupg-${name}-${gpgHomes.length}`);
  await mkdir(home, { mode: 0o700 });
  gpgHomes.push(home);
  return home;
}

/** Runs gpg in its own home, non-interactively. */
function gpg(home: string, args: readonly string[]): Promise<RunResult> {
  return run('gpg', ['--homedir', home, '--batch', '--no-tty', ...args], { cwd: root, env: gpgEnv(home) });
}

async function mustGpg(home: string, args: readonly string[]): Promise<RunResult> {
  const r = await gpg(home, args);
  if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.code}):\n${r.output}`);
  return r;
}

/** A passphrase-protected key made by gpg now; the armour as `gpg --export-secret-keys --armor` writes it. */
async function makeKey(name: KeyName, algo: string, expire: string, subkey?: string): Promise<GnupgKey> {
  const passphrase = `helix e2e ${name} ${randomBytes(18).toString('base64url')}`;
  const uid = `Helix e2e ${name} <e2e-${name}@helix-release.invalid>`;
  const withPass = ['--pinentry-mode', 'loopback', '--passphrase', passphrase];
  await mustGpg(genHome, [...withPass, '--quick-gen-key', uid, algo, 'sign', expire]);
  const listing = (await mustGpg(genHome, ['--with-colons', '--list-secret-keys', uid])).stdout;
  const fingerprint = /^fpr:(?::[^:]*){7}:([0-9A-F]{40}):/m.exec(listing)?.[1];
  const created = Number(/^sec:(?:[^:]*:){4}(\d+):/m.exec(listing)?.[1]);
  if (!fingerprint || !created) throw new Error(`no fingerprint or creation time in:\n${listing}`);
  if (subkey) await mustGpg(genHome, [...withPass, '--quick-add-key', fingerprint, subkey, 'encr', expire]);
  const armor = (await mustGpg(genHome, [...withPass, '--armor', '--export-secret-keys', fingerprint])).stdout;
  expect(armor).toMatch(new RegExp(`^-----BEGIN PGP ${'PRIVATE'} KEY BLOCK-----\\n`)); // spelt so no secret-scanner mistakes this test for a key
  return { name, fingerprint, created, passphrase, armor };
}

async function releaseAll(env: Record<string, string | undefined>): Promise<RunResult> {
  const r = await nx(ws, ['run', 'release:all'], { HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS: '1', ...env });
  outputs.push(r.output);
  return r;
}

function signedEnv(key: GnupgKey, fingerprint = key.fingerprint): Record<string, string> {
  return { GPG_PRIVATE_KEY: key.armor, GPG_PASSPHRASE: key.passphrase, GPG_PUBLIC_KEY_FINGERPRINT: fingerprint };
}

/** Every `.asc` in the release folder, recursively, except the public key export. */
async function signatures(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => f.endsWith('.asc') && f !== PUBLIC_KEY);
}

async function allAsc(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => f.endsWith('.asc'));
}

/** `gpg --verify --status-fd 1`: exit code, the GOODSIG/BADSIG lines and the VALIDSIG fields. */
async function verify(home: string, sig: string, data: string): Promise<{ code: number; good: boolean; bad: boolean; validsig: string[] | undefined; output: string }> {
  const r = await gpg(home, ['--status-fd', '1', '--verify', sig, data]);
  const line = r.stdout.split('\n').find((l) => l.startsWith('[GNUPG:] VALIDSIG '));
  return {
    code: r.code,
    good: /^\[GNUPG:\] GOODSIG /m.test(r.stdout),
    bad: /^\[GNUPG:\] BADSIG /m.test(r.stdout),
    // VALIDSIG <sig fpr> <date> <timestamp> <expire> <version> <reserved> <pk algo> <hash algo> <class> <primary fpr>
    validsig: line?.split(' ').slice(2),
    output: r.output,
  };
}

/** A GNUPGHOME that imported only the release's public key export. */
async function publishedKeyHome(dir: string, key: GnupgKey): Promise<string> {
  const home = await newGpgHome(`verify-${key.name}`);
  await mustGpg(home, ['--import', join(dir, PUBLIC_KEY)]);
  const pub = (await mustGpg(home, ['--with-colons', '--list-keys'])).stdout;
  expect([...pub.matchAll(/^pub:/gm)]).toHaveLength(1);
  expect(pub).toContain(`fpr:::::::::${key.fingerprint}:`);
  expect((await gpg(home, ['--with-colons', '--list-secret-keys'])).stdout).not.toMatch(/^sec:/m);
  return home;
}

/** Reads the .asc files, the DSSE envelopes and the PEM key of the release folder (path → bytes). */
async function snapshotSignatures(): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const dsse = (await listFiles(releaseDir)).filter((f) => f.endsWith('.dsse.json') || f === 'release-signing-public-key.pem');
  for (const f of [...(await allAsc(releaseDir)), ...dsse]) out.set(f, await readFile(join(releaseDir, f)));
  out.set(FINGERPRINT_FILE, await readFile(join(releaseDir, FINGERPRINT_FILE)));
  return out;
}

function flipByte(data: Buffer, at = Math.floor(data.length / 2)): Buffer {
  const copy = Buffer.from(data);
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}

/** The binary packets of an armoured signature. */
function dearmor(armored: string): Buffer {
  const lines = armored.split('\n');
  const start = lines.findIndex((l) => l === '') + 1;
  const end = lines.findIndex((l) => l.startsWith('-----END'));
  return Buffer.from(lines.slice(start, end).filter((l) => !l.startsWith('=')).join(''), 'base64');
}

function armor(binary: Buffer): string {
  const body = binary.toString('base64').match(/.{1,64}/g)!.join('\n');
  return `-----BEGIN PGP SIGNATURE-----\n\n${body}\n-----END PGP SIGNATURE-----\n`;
}

/** Lines of the private key armour's base64 body longer than 20 characters. */
function armorLines(key: GnupgKey): string[] {
  return key.armor
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 20 && !l.startsWith('-----') && !l.includes(':'));
}

/** Every regular file under `dir` (not following symlinks). */
async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await visit(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  await visit(dir);
  return out;
}

beforeAll(async () => {
  root = await tempRoot('signing');
  ws = await cloneWorkspace(base, join(root, 'ws'));
  releaseDir = join(ws, 'dist/release');
  genHome = await newGpgHome('gen');
  keys.rsa3072 = await makeKey('rsa3072', 'rsa3072', '2y');
  keys.ed25519 = await makeKey('ed25519', 'ed25519', 'never', 'cv25519');
});

afterAll(async () => {
  for (const home of gpgHomes) spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { env: gpgEnv(home), stdio: 'ignore' });
  await removeTemp(root);
});

describe('signing the release with a GnuPG key', () => {
  it('refuses a wrong GPG_PUBLIC_KEY_FINGERPRINT, naming both fingerprints, and leaves no .asc', async () => {
    // The base release was signed with the development key: those signatures must go too.
    expect((await signatures(releaseDir)).length).toBeGreaterThan(0);
    const r = await releaseAll(signedEnv(keys.rsa3072, keys.ed25519.fingerprint));
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain('SIGN_FINGERPRINT_MISMATCH');
    expect(r.output).toContain(keys.rsa3072.fingerprint);
    expect(r.output).toContain(keys.ed25519.fingerprint);
    expect(await allAsc(releaseDir)).toEqual([]);
    await expect(stat(join(releaseDir, FINGERPRINT_FILE))).rejects.toThrow();
  });

  it('with no key (and development keys forbidden) succeeds UNSIGNED, loudly, and helix-release verify fails it', async () => {
    const r = await releaseAll({});
    expect(r.code, r.output).toBe(0);
    expect(r.output).toMatch(/^!{78}\n!! \[release:sign\] THE RELEASE IS UNSIGNED: GPG_PRIVATE_KEY is not set/m);
    expect(ranTasks(r.output)).toContain('release:sign');
    expect(await allAsc(releaseDir)).toEqual([]);
    const v = await run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', 'dist/release', '--tofu'], { cwd: ws });
    expect(v.code, v.output).not.toBe(0);
    expect(v.stdout).toMatch(/^FAILED UNSIGNED: /m);
    expect(v.stdout).toMatch(/^verification FAILED/m);
  });

  describe.each(['rsa3072', 'ed25519'] as const)('%s key with a passphrase', (name) => {
    let first: Map<string, Buffer>;

    it('release:all signs every evidence file; gpg with only the published public key verifies each by the fingerprint', async () => {
      const key = keys[name];
      const r = await releaseAll(signedEnv(key));
      expect(r.code, r.output).toBe(0);
      expect(cachedTasks(r.output)).not.toContain('release:sign');
      expect(r.output).not.toMatch(/UNSIGNED|DEVELOPMENT key/);
      expect(await readFile(join(releaseDir, FINGERPRINT_FILE), 'utf8')).toBe(`${key.fingerprint}\n`);
      expect(await readFile(join(releaseDir, PUBLIC_KEY), 'utf8')).not.toContain('PRIVATE');

      const sigs = await signatures(releaseDir);
      const present = await listFiles(releaseDir);
      const expected = [...MUST_BE_SIGNED, ...present.filter((f) => /^SBOM-.*\.(spdx|cdx)\.json$/.test(f))];
      expect(present.filter((f) => /^SBOM-/.test(f)).length).toBeGreaterThanOrEqual(3);
      for (const f of expected) expect(sigs).toContain(`${f}.asc`);

      const home = await publishedKeyHome(releaseDir, key);
      for (const sig of sigs) {
        const v = await verify(home, join(releaseDir, sig), join(releaseDir, sig.slice(0, -'.asc'.length)));
        expect(v.code, `${sig}: ${v.output}`).toBe(0);
        expect(v.good, `${sig}: ${v.output}`).toBe(true);
        expect(v.validsig?.[9], `${sig}: ${v.output}`).toBe(key.fingerprint);
        // Dated max(SOURCE_DATE_EPOCH, key creation): the key was made just now, after the commit.
        expect(Number(v.validsig?.[2]), `${sig}: ${v.output}`).toBe(Math.max(FIXED_EPOCH, key.created));
      }
      first = await snapshotSignatures();
    });

    it('re-running release:all re-signs (never from the cache) to byte-identical .asc files and DSSE envelopes', async () => {
      expect(first).toBeDefined();
      // Mark the old signatures: one removed, the others dated 2000-01-01; a re-signing brings back all of them, new.
      await rm(join(releaseDir, 'BUILD_META.txt.asc'));
      const old = new Date('2000-01-01T00:00:00Z');
      for (const f of first.keys()) if (f !== 'BUILD_META.txt.asc') await utimes(join(releaseDir, f), old, old);
      const r = await releaseAll(signedEnv(keys[name]));
      expect(r.code, r.output).toBe(0);
      expect(ranTasks(r.output)).toContain('release:sign');
      expect(cachedTasks(r.output)).not.toContain('release:sign');
      const again = await snapshotSignatures();
      for (const f of again.keys()) expect((await stat(join(releaseDir, f))).mtimeMs, `${f} was not rewritten`).toBeGreaterThan(old.getTime());
      expect([...again.keys()].sort()).toEqual([...first.keys()].sort());
      for (const [file, bytes] of first) expect(again.get(file)!.equals(bytes), `${file} changed on re-signing`).toBe(true);
    });

    it('gpg --verify fails for a tampered artifact or a tampered .asc', async () => {
      const key = keys[name];
      const copy = join(root, `tamper-${name}`);
      await mkdir(copy);
      for (const f of [...TAMPERED_ARTIFACTS, ...TAMPERED_ARTIFACTS.map((a) => `${a}.asc`), PUBLIC_KEY]) await copyFile(join(releaseDir, f), join(copy, f));
      const home = await publishedKeyHome(copy, key);
      const expectFails = async (sig: string, data: string, what: string) => {
        const v = await verify(home, join(copy, sig), join(copy, data));
        expect(v.code, `${what}: ${v.output}`).not.toBe(0);
        expect(v.good, `${what}: ${v.output}`).toBe(false);
        expect(v.validsig, `${what}: ${v.output}`).toBeUndefined();
        return v;
      };
      for (const artifact of TAMPERED_ARTIFACTS) {
        const original = await readFile(join(releaseDir, artifact));
        for (const at of [0, Math.floor(original.length / 2), original.length - 1]) {
          await writeFile(join(copy, artifact), flipByte(original, at));
          const v = await expectFails(`${artifact}.asc`, artifact, `${artifact} with byte ${at} flipped`);
          expect(v.bad, v.output).toBe(true);
        }
        await copyFile(join(releaseDir, artifact), join(copy, artifact));
        expect((await verify(home, join(copy, `${artifact}.asc`), join(copy, artifact))).code).toBe(0);
      }
      const sig = 'SHA256SUMS.txt.asc';
      const armored = await readFile(join(releaseDir, sig), 'utf8');
      // The signature value itself: flip the last bit of the signature MPI, re-armoured cleanly.
      await writeFile(join(copy, sig), armor(flipByte(dearmor(armored), dearmor(armored).length - 1)));
      expect((await expectFails(sig, 'SHA256SUMS.txt', 'signature value changed')).bad).toBe(true);
      // A character of the armour changed.
      const lines = armored.split('\n');
      const bodyLine = lines.findIndex((l) => l === '') + 2;
      const l = lines[bodyLine]!;
      const mid = Math.floor(l.length / 2);
      lines[bodyLine] = l.slice(0, mid) + (l[mid] === 'A' ? 'B' : 'A') + l.slice(mid + 1);
      await writeFile(join(copy, sig), lines.join('\n'));
      await expectFails(sig, 'SHA256SUMS.txt', 'armour character changed');
      // Another file's signature.
      await copyFile(join(releaseDir, 'BUILD_META.txt.asc'), join(copy, sig));
      expect((await expectFails(sig, 'SHA256SUMS.txt', 'signature of BUILD_META.txt')).bad).toBe(true);
    });
  });

  it('leaves neither passphrase nor any private key armour line in dist/, .nx/ or the Nx output', async () => {
    expect(outputs.length).toBe(6);
    const secrets = Object.values(keys).flatMap((k) => [k.passphrase, ...armorLines(k)]);
    expect(secrets.length).toBeGreaterThan(20);
    const needles = secrets.map((s) => ({ s, bytes: Buffer.from(s, 'utf8') }));
    // The search finds what it looks for: every armour line is in the armour.
    for (const k of Object.values(keys)) for (const line of armorLines(k)) expect(Buffer.from(k.armor).includes(line)).toBe(true);
    const found: string[] = [];
    for (const [i, output] of outputs.entries()) {
      const bytes = Buffer.from(output, 'utf8');
      for (const n of needles) if (bytes.includes(n.bytes)) found.push(`run ${i} output: ${n.s.slice(0, 12)}…`);
    }
    const files = [...(await walk(join(ws, 'dist'))), ...(await walk(join(ws, '.nx')))];
    expect(files.length).toBeGreaterThan(50);
    let bytesRead = 0;
    for (const file of files) {
      if (!(await lstat(file)).isFile()) continue;
      const data = await readFile(file);
      bytesRead += data.length;
      for (const n of needles) if (data.includes(n.bytes)) found.push(`${file.slice(ws.length + 1)}: ${n.s.slice(0, 12)}…`);
    }
    expect(bytesRead).toBeGreaterThan(0);
    expect(found).toEqual([]);
  });
});
