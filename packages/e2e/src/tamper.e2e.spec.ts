/**
 * Tampering with a published release is caught by the source document's
 * verified-install flow, run in a folder that holds only the published files:
 *
 *   gpg --import release-signing-public-key.asc        (a fresh GNUPGHOME)
 *   gpg --verify SHA256SUMS.txt.asc SHA256SUMS.txt
 *   sha256sum -c SHA256SUMS.txt
 *   python3 tools/verify_release_signatures.py --fingerprint <pinned> --trust-store <file>
 *   python3 tools/verify_release_provenance.py --commit <HEAD>
 *   unzip the Studio; ./tools/conformance.sh --app … --plugins plugins
 *
 * and by `helix-release verify`, which also names the changed file.
 *
 * (a) an untouched copy passes every step; (b) one flipped byte in ANY file of
 * the release (signatures, key export, fingerprint file and the verification
 * kit included) makes a step fail and `helix-release verify` name the file;
 * (c) a release re-signed, consistently, by another key fails against the
 * pinned fingerprint although every signature is valid, and passes with --tofu.
 */
import { spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access, cp, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as openpgp from 'openpgp';
import { listFiles } from '@helix-release/core';
import { dsseEnvelope, dsseKeyOf, publicKeyPem } from '@helix-release/sign';
import { git, removeTemp, repoRoot, run, tempRoot, type RunResult } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const TRUST_STORE = join(repoRoot, 'workspace-fixtures/trust-store/trust-store.json');
const HELIX_RELEASE = join(repoRoot, 'packages/cli/bin/helix-release.cjs');
const PUBLIC_KEY = 'release-signing-public-key.asc';
const FINGERPRINT_FILE = 'release-signing-key-fingerprint.txt';
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
/** Parallel workers for the per-file loop, each with its own copy of the release. */
const WORKERS = 2;

const base = inject('baseWorkspace');
const baseRelease = join(base, 'dist/release');
let root: string;
let head: string;
let studioZip: string;
const gpgHomes: string[] = [];

/** The steps of the flow, in order. */
type Step = 'gpg-import' | 'gpg-verify' | 'sha256sum' | 'verify_release_signatures.py' | 'verify_release_provenance.py' | 'unzip-studio' | 'conformance.sh';

interface FlowOutcome {
  failed: Step[];
  log: string;
}

interface VerifyResult {
  status: 'PASSED' | 'FAILED' | 'SKIPPED';
  check: string;
  code?: string;
  file?: string;
  reason?: string;
}

let scratchCounter = 0;
async function scratchDir(name: string): Promise<string> {
  const dir = join(root, `${name}-${scratchCounter++}`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return dir;
}

function gpgEnv(home: string): NodeJS.ProcessEnv {
  return { PATH: SYSTEM_PATH, HOME: root, GNUPGHOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8', TZ: 'UTC' };
}

async function newGpgHome(name: string): Promise<string> {
  const home = await scratchDir(`gnupg-${name}`);
  gpgHomes.push(home);
  return home;
}

/** Stops the gpg-agent a home may have started (each home is used once). */
function killAgent(home: string): void {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'all'], { env: gpgEnv(home), stdio: 'ignore' });
}

/**
 * The source document's flow over the release folder `dir`, as a user runs it
 * there (no Node.js, a fresh GNUPGHOME). Every step runs even when an earlier
 * one failed, so the outcome says which of them catch a change. The Studio is
 * unpacked and the conformance pack run only with `conformance`.
 */
async function verifiedInstallFlow(dir: string, options: { conformance: boolean }): Promise<FlowOutcome> {
  const home = await newGpgHome('flow');
  const env = gpgEnv(home);
  const failed: Step[] = [];
  let log = '';
  const step = async (name: Step, cmd: string, args: string[], cwd = dir): Promise<RunResult> => {
    const r = await run(cmd, args, { cwd, env });
    log += `$ ${cmd} ${args.join(' ')}  (exit ${r.code})\n${r.output}\n`;
    if (r.code !== 0) failed.push(name);
    return r;
  };
  try {
    await step('gpg-import', 'gpg', ['--batch', '--import', PUBLIC_KEY]);
    await step('gpg-verify', 'gpg', ['--batch', '--verify', 'SHA256SUMS.txt.asc', 'SHA256SUMS.txt']);
    await step('sha256sum', 'sha256sum', ['-c', 'SHA256SUMS.txt']);
    await step('verify_release_signatures.py', 'python3', ['tools/verify_release_signatures.py', '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--trust-store', TRUST_STORE]);
    await step('verify_release_provenance.py', 'python3', ['tools/verify_release_provenance.py', '--commit', head]);
    if (options.conformance) {
      const install = await scratchDir('install');
      const unzip = await step('unzip-studio', 'unzip', ['-q', join(dir, studioZip)], install);
      const studio = join(install, studioZip.replace(/\.zip$/, ''), 'helix-studio');
      // A damaged zip may still unpack a runnable Studio: the pack then judges it.
      const runnable = await access(studio, constants.X_OK).then(() => true, () => false);
      if (unzip.code === 0 || runnable) {
        const c = await step('conformance.sh', './tools/conformance.sh', ['--app', studio, '--plugins', join(dir, 'plugins')]);
        if (c.code === 0 && !/^\d+ passed, 0 failed$/m.test(c.stdout)) failed.push('conformance.sh');
      } else {
        failed.push('conformance.sh');
      }
      await removeTemp(install);
    }
  } finally {
    killAgent(home);
    await removeTemp(home);
  }
  return { failed, log };
}

/** `helix-release verify <dir> --json` with the pinned development fingerprint, HEAD and the trust store. */
async function helixVerify(dir: string, extra: string[] = ['--fingerprint', DEV_FINGERPRINT, '--allow-development-key']): Promise<{ code: number; results: VerifyResult[]; output: string }> {
  const r = await run(process.execPath, [HELIX_RELEASE, 'verify', dir, ...extra, '--commit', head, '--trust-store', TRUST_STORE, '--json'], { cwd: root });
  let results: VerifyResult[] = [];
  try {
    results = JSON.parse(r.stdout) as VerifyResult[];
  } catch {
    /* asserted by the callers through the exit code and the output */
  }
  return { code: r.code, results, output: r.output };
}

/**
 * Flips one byte in the middle of `data`. A text file gets another printable
 * character of the same kind (a hex digit stays a hex digit, a letter a
 * letter), at the alphanumeric character nearest the middle, so that it still
 * parses; a binary file gets its middle byte XOR 0x01.
 */
function flipByte(data: Buffer): { data: Buffer; at: number; from: string; to: string } {
  const copy = Buffer.from(data);
  const mid = Math.floor(data.length / 2);
  const isText = data.length > 0 && !data.includes(0) && isUtf8(data);
  if (!isText) {
    copy[mid] = data[mid]! ^ 0x01;
    return { data: copy, at: mid, from: `0x${data[mid]!.toString(16)}`, to: `0x${copy[mid]!.toString(16)}` };
  }
  const alnum = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  let at = -1;
  for (let d = 0; d < data.length && at < 0; d++) {
    if (mid + d < data.length && alnum(data[mid + d]!)) at = mid + d;
    else if (mid - d >= 0 && alnum(data[mid - d]!)) at = mid - d;
  }
  if (at < 0) throw new Error('a text file with no letter or digit');
  const c = String.fromCharCode(data[at]!);
  const next =
    c === '9' ? '0'
    : c === 'f' ? 'a'
    : c === 'F' ? 'A'
    : c === 'z' ? 'g'
    : c === 'Z' ? 'G'
    : String.fromCharCode(c.charCodeAt(0) + 1);
  copy[at] = next.charCodeAt(0);
  return { data: copy, at, from: c, to: next };
}

/** sha256 of every file of a folder. */
async function digests(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await listFiles(dir)) out.set(f, createHash('sha256').update(await readFile(join(dir, f))).digest('hex'));
  return out;
}

/** A FAILED result naming `file`: its own entry, or (for a signed evidence file) the `.asc` that no longer verifies over it. */
function naming(results: VerifyResult[], file: string): { direct: VerifyResult | undefined; viaSignature: VerifyResult | undefined } {
  const failed = results.filter((r) => r.status === 'FAILED');
  return {
    direct: failed.find((r) => r.file === file),
    viaSignature: failed.find((r) => r.file === `${file}.asc` && r.code === 'SIGNATURE_BAD' && (r.reason ?? '').includes(file)),
  };
}

beforeAll(async () => {
  root = await tempRoot('tamper');
  head = git(base, 'rev-parse', 'HEAD');
  const zips = (await readdir(baseRelease)).filter((f) => /^helix-studio-.*\.zip$/.test(f));
  expect(zips).toHaveLength(1);
  studioZip = zips[0]!;
});

afterAll(async () => {
  for (const home of gpgHomes) killAgent(home);
  await removeTemp(root);
});

describe('the verified install flow over the published files', () => {
  it('(a) passes every step, and helix-release verify, on an untouched copy', async () => {
    const published = join(await scratchDir('untouched'), 'release');
    await cp(baseRelease, published, { recursive: true });
    const flow = await verifiedInstallFlow(published, { conformance: true });
    expect(flow.failed, flow.log).toEqual([]);
    const v = await helixVerify(published);
    expect(v.code, v.output).toBe(0);
    expect(v.results.filter((r) => r.status === 'FAILED')).toEqual([]);
  });

  it('(b) catches one flipped byte in every file of the release, and helix-release verify names the file', async () => {
    const files = await listFiles(baseRelease);
    // Every kind of file is in the loop: nothing is skipped.
    for (const f of [PUBLIC_KEY, FINGERPRINT_FILE, 'SHA256SUMS.txt', 'SHA256SUMS.txt.asc', 'BUILD_META.txt.asc', 'tools/conformance.sh', 'tools/release_verify_lib.py', 'tools/verify_release_signatures.py', 'tools/verify_release_provenance.py', 'trust-store.json', studioZip]) {
      expect(files).toContain(f);
    }
    expect(files.some((f) => f.startsWith('conformance-pack/'))).toBe(true);
    expect(files.some((f) => f.startsWith('plugins/') && f.endsWith('.zip'))).toBe(true);
    expect(files.length).toBeGreaterThanOrEqual(50);
    // The full flow, conformance included, for a few representative files; the cheap steps for all.
    const firstPlugin = files.find((f) => f.startsWith('plugins/') && f.endsWith('.zip'))!;
    const withConformance = new Set([studioZip, firstPlugin, 'SHA256SUMS.txt']);

    const original = await digests(baseRelease);
    const copies: string[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const dir = join(await scratchDir(`flip-${i}`), 'release');
      await cp(baseRelease, dir, { recursive: true });
      copies.push(dir);
    }

    interface Outcome {
      file: string;
      flip: string;
      failedSteps: Step[];
      verifyCode: number;
      failedChecks: string[];
      named: 'direct' | 'via-signature' | 'no';
      log: string;
    }
    const outcomes: Outcome[] = [];
    const queue = [...files];
    const worker = async (dir: string) => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const path = join(dir, file);
        const bytes = await readFile(path);
        const flipped = flipByte(bytes);
        await writeFile(path, flipped.data);
        try {
          const flow = await verifiedInstallFlow(dir, { conformance: withConformance.has(file) });
          const v = await helixVerify(dir);
          const { direct, viaSignature } = naming(v.results, file);
          outcomes.push({
            file,
            flip: `byte ${flipped.at} ${flipped.from}->${flipped.to}`,
            failedSteps: flow.failed,
            verifyCode: v.code,
            failedChecks: v.results.filter((r) => r.status === 'FAILED').map((r) => `${r.code}:${r.file}`),
            named: direct ? 'direct' : viaSignature ? 'via-signature' : 'no',
            log: `${flow.log}\n--- helix-release verify (exit ${v.code})\n${v.output}`,
          });
        } finally {
          await writeFile(path, bytes);
        }
      }
    };
    const started = Date.now();
    await Promise.all(copies.map((dir) => worker(dir)));
    const seconds = ((Date.now() - started) / 1000).toFixed(1);

    outcomes.sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file));
    const table = outcomes
      .map((o) => `${o.file} [${o.flip}]: flow failed ${o.failedSteps.join(',') || 'NOTHING'}; verify exit ${o.verifyCode}, named ${o.named}; ${o.failedChecks.join(' ')}`)
      .join('\n');
    console.log(`flipped ${outcomes.length} files in ${seconds}s (${WORKERS} workers)\n${table}`);
    expect(outcomes.map((o) => o.file)).toEqual(files);

    // Each flip: at least one step of the flow fails.
    const undetected = outcomes.filter((o) => o.failedSteps.length === 0);
    expect(undetected.map((o) => `${o.file} [${o.flip}]`), undetected.map((o) => o.log).join('\n\n')).toEqual([]);
    // helix-release verify fails and names the file. Signatures, the key export
    // and the fingerprint file must be named themselves; a signed evidence file
    // may be named by its own signature that no longer verifies over it.
    const unflagged = outcomes.filter((o) => o.verifyCode === 0);
    expect(unflagged.map((o) => o.file), unflagged.map((o) => o.log).join('\n\n')).toEqual([]);
    // The key export is a .asc too; the DSSE envelopes and the PEM key are checked by name as well.
    const mustBeDirect = (f: string) => f.endsWith('.asc') || f.endsWith('.dsse.json') || f === 'release-signing-public-key.pem' || f === FINGERPRINT_FILE;
    const unnamed = outcomes.filter((o) => o.named === 'no' || (o.named !== 'direct' && mustBeDirect(o.file)));
    expect(unnamed.map((o) => `${o.file}: ${o.failedChecks.join(' ')}`)).toEqual([]);
    // Flipping a file listed in SHA256SUMS.txt is a SUMS_MISMATCH of that very file.
    const listed = (await readFile(join(baseRelease, 'SHA256SUMS.txt'), 'utf8')).split('\n').filter(Boolean).map((l) => l.slice(66));
    for (const o of outcomes.filter((x) => listed.includes(x.file))) {
      expect(o.failedChecks, o.file).toContain(`SUMS_MISMATCH:${o.file}`);
      expect(o.failedSteps, o.file).toContain('sha256sum');
    }
    // The representative files went through conformance.sh too.
    for (const f of withConformance) expect(outcomes.find((o) => o.file === f)!.log).toContain('./tools/conformance.sh');

    // Every copy was restored byte for byte.
    for (const dir of copies) expect(await digests(dir)).toEqual(original);
  });
});

describe('a release re-signed by another key', () => {
  let resigned: string;
  let newFingerprint: string;
  let signedTargets: string[];

  beforeAll(async () => {
    resigned = join(await scratchDir('resigned'), 'release');
    await cp(baseRelease, resigned, { recursive: true });
    const home = await newGpgHome('other-key');
    const env = gpgEnv(home);
    const gpg = async (args: string[], cwd = resigned): Promise<RunResult> => {
      const r = await run('gpg', ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { cwd, env });
      if (r.code !== 0) throw new Error(`gpg ${args.join(' ')} failed (${r.code}):\n${r.output}`);
      return r;
    };
    const uid = 'Helix e2e impostor <impostor@helix-release.invalid>';
    await gpg(['--quick-gen-key', uid, 'ed25519', 'sign', 'never']);
    const listing = (await gpg(['--with-colons', '--list-secret-keys', uid])).stdout;
    newFingerprint = /^fpr:(?::[^:]*){7}:([0-9A-F]{40}):/m.exec(listing)?.[1] ?? '';
    expect(newFingerprint).toMatch(/^[0-9A-F]{40}$/);
    expect(newFingerprint).not.toBe(DEV_FINGERPRINT);
    signedTargets = (await listFiles(resigned)).filter((f) => f.endsWith('.asc') && f !== PUBLIC_KEY).map((f) => f.slice(0, -4));
    expect(signedTargets).toContain('SHA256SUMS.txt');
    for (const target of signedTargets) {
      await gpg(['--yes', '--local-user', newFingerprint, '--detach-sign', '--armor', '--output', `${target}.asc`, target]);
    }
    await writeFile(join(resigned, PUBLIC_KEY), (await gpg(['--armor', '--export', newFingerprint])).stdout);
    await writeFile(join(resigned, FINGERPRINT_FILE), `${newFingerprint}\n`);
    // A thorough impostor makes the DSSE envelopes and their PEM key again too, with the same payloads.
    let secret = (await openpgp.readKey({ armoredKey: (await gpg(['--armor', '--export-secret-keys', newFingerprint])).stdout })) as openpgp.PrivateKey;
    if (!secret.isDecrypted()) secret = await openpgp.decryptKey({ privateKey: secret, passphrase: '' });
    const signingSubkey = (await secret.getSigningKey()) as openpgp.PrivateKey | openpgp.Subkey;
    const dsse = dsseKeyOf({ key: secret, fingerprint: newFingerprint, signingKeyCreated: signingSubkey.getCreationTime(), signingSubkey, origin: 'environment' });
    for (const envelope of (await listFiles(resigned)).filter((f) => f.endsWith('.dsse.json'))) {
      const payload = Buffer.from((JSON.parse(await readFile(join(resigned, envelope), 'utf8')) as { payload: string }).payload, 'base64');
      await writeFile(join(resigned, envelope), dsseEnvelope(dsse, payload));
    }
    await writeFile(join(resigned, 'release-signing-public-key.pem'), publicKeyPem(dsse));
    killAgent(home);
  });

  it('has signatures that are all valid under the new key (gpg --verify with only it imported)', async () => {
    const home = await newGpgHome('new-key-verify');
    const env = gpgEnv(home);
    const imported = await run('gpg', ['--batch', '--import', PUBLIC_KEY], { cwd: resigned, env });
    expect(imported.code, imported.output).toBe(0);
    for (const target of signedTargets) {
      const r = await run('gpg', ['--batch', '--status-fd', '1', '--verify', `${target}.asc`, target], { cwd: resigned, env });
      expect(r.code, `${target}: ${r.output}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG .* ${newFingerprint}$`, 'm'));
    }
    killAgent(home);
  });

  it('fails helix-release verify and verify_release_signatures.py against the pinned fingerprint with KEY_MISMATCH', async () => {
    const v = await helixVerify(resigned);
    expect(v.code, v.output).not.toBe(0);
    expect(v.results.find((r) => r.status === 'FAILED' && r.code === 'KEY_MISMATCH'), v.output).toBeDefined();
    expect(v.results.filter((r) => r.status === 'FAILED' && r.check !== 'key' && r.check !== 'signature' && r.check !== 'dsse'), v.output).toEqual([]);

    const py = await run('python3', ['tools/verify_release_signatures.py', '--fingerprint', DEV_FINGERPRINT, '--trust-store', TRUST_STORE], { cwd: resigned, env: gpgEnv(root) });
    expect(py.code, py.output).not.toBe(0);
    expect(py.stdout).toMatch(/^FAILED KEY_MISMATCH: /m);
    expect(py.stdout).toContain(newFingerprint);

    // In the flow, gpg (which trusts whatever key the folder carries) and the
    // sums pass; only the pinned fingerprint stops it.
    const flow = await verifiedInstallFlow(resigned, { conformance: false });
    expect(flow.failed, flow.log).toEqual(['verify_release_signatures.py']);
  });

  it('passes both with --tofu: the pinned fingerprint is what rejects it', async () => {
    const v = await helixVerify(resigned, ['--tofu']);
    expect(v.code, v.output).toBe(0);
    expect(v.results.find((r) => r.check === 'key' && r.status === 'PASSED')?.reason, v.output).toContain(newFingerprint);

    const py = await run('python3', ['tools/verify_release_signatures.py', '--tofu', '--trust-store', TRUST_STORE], { cwd: resigned, env: gpgEnv(root) });
    expect(py.code, py.output).toBe(0);
    expect(py.stdout).not.toMatch(/^FAILED/m);
    expect(py.output).toContain(newFingerprint);
  });
});
