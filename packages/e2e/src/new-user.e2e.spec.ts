/**
 * helix-release as a new user adopts it (issue 11): in an empty folder
 * outside this repository, a plain Nx workspace gets nx from the registry
 * and our packages from the tarballs `npm run pack:packages` writes (nothing
 * linked to this checkout); then `init`, `app acme-cli`, a commit,
 * `npx nx run release:all`, and the release verifies with our CLI, gpgv and
 * `sha256sum -c`, and its installer runs.
 *
 * The one thing shared with this checkout is syft: the pinned version on
 * PATH, as a user who has it installed would have (provisioning reuses it;
 * building it from the Go module proxy is the toolchain e2e's subject).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { platformTag } from '@helix-release/core';
import { git, plain, removeTemp, repoRoot, run, tempRoot, testEnv, type RunResult } from './workspace';

let root: string;
let ws: string;
let env: NodeJS.ProcessEnv;
let fingerprint: string;

const INSTALLER = `acme-cli-0.1.0-${platformTag()}`;

/** Runs a command in the new workspace and fails the test with its output when it fails. */
async function step(command: string, args: readonly string[], options: { cwd?: string; allowFail?: boolean } = {}): Promise<RunResult> {
  const result = await run(command, args, { cwd: options.cwd ?? ws, env });
  if (!options.allowFail && result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.output}`);
  return result;
}

const nx = (...args: string[]) => step('npx', ['--no-install', 'nx', ...args], { allowFail: true });

/** Every file below `dir`, relative. */
async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, d.name);
    if (d.isDirectory()) out.push(...(await walk(full, base)));
    else out.push(full.slice(base.length + 1));
  }
  return out;
}

beforeAll(async () => {
  root = await tempRoot('new-user');
  ws = join(root, 'acme');
  await mkdir(ws);
  const gnupg = join(root, 'gnupg');
  await mkdir(gnupg, { mode: 0o700 });
  // The release key of the team: their own, from CI secrets in real life.
  const keyEnv = { ...testEnv(), GNUPGHOME: gnupg };
  const gen = await run('gpg', ['--batch', '--passphrase', 'acme-pass', '--quick-gen-key', 'Acme Release <release@acme.invalid>', 'ed25519', 'sign', 'never'], { cwd: root, env: keyEnv });
  expect(gen.code, gen.output).toBe(0);
  fingerprint = (await run('gpg', ['--list-keys', '--with-colons'], { cwd: root, env: keyEnv })).stdout.split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  const secret = await run('gpg', ['--batch', '--pinentry-mode', 'loopback', '--passphrase', 'acme-pass', '--armor', '--export-secret-keys', fingerprint], { cwd: root, env: keyEnv });
  env = testEnv({
    GNUPGHOME: gnupg,
    GPG_PRIVATE_KEY: secret.stdout,
    GPG_PASSPHRASE: 'acme-pass',
    GPG_PUBLIC_KEY_FINGERPRINT: fingerprint,
    PATH: `${join(repoRoot, '.helix', 'toolchain', 'bin')}:${process.env['PATH']}`,
  });

  // The tarballs, as README says to make them.
  const pack = await run('npm', ['run', 'pack:packages'], { cwd: repoRoot, env: testEnv() });
  expect(pack.code, pack.output).toBe(0);
  const tarballs = (await readdir(join(repoRoot, 'dist', 'packages'))).filter((f) => /^helix-release-.*\.tgz$/.test(f)).map((f) => join(repoRoot, 'dist', 'packages', f));
  expect(tarballs.length).toBeGreaterThanOrEqual(15);

  git(ws, 'init', '-q', '-b', 'main');
  await step('npm', ['init', '-y']);
  await writeFile(join(ws, 'nx.json'), '{}\n');
  await step('npm', ['install', '--no-audit', '--no-fund', '--save-dev', 'nx@22.7.12', ...tarballs]);
});
afterAll(async () => {
  await removeTemp(root);
});

describe('a new user adopting helix-release', () => {
  it('installs our packages as JavaScript: no TypeScript of ours to compile, the CLI a local bin', async () => {
    const installed = join(ws, 'node_modules', '@helix-release');
    const files = (await Promise.all((await readdir(installed)).map(async (p) => (await walk(join(installed, p))).map((f) => `${p}/${f}`)))).flat();
    expect(files).toContain('nx-plugin/src/index.js');
    expect(files).toContain('core/assets/tools/toolchain/pins.json');
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.includes('/files/'))).toEqual([]);
    const version = await step('npx', ['--no-install', 'helix-release', '--version']);
    expect(version.stdout.trim()).toBe('helix-release 0.1.0');
    // The dependency names a tarball, never a registry version anyone could publish.
    const manifest = JSON.parse(await readFile(join(ws, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    expect(manifest.devDependencies['@helix-release/cli']).toMatch(/^file:.*helix-release-cli-0\.1\.0\.tgz$/);
  });

  it('init registers the plugin, writes release.config.ts and the ignores, and says what is next', async () => {
    const init = await nx('g', '@helix-release/nx-plugin:init');
    expect(init.code, init.output).toBe(0);
    expect(plain(init.output)).toContain('Next:');
    expect(JSON.parse(await readFile(join(ws, 'nx.json'), 'utf8'))).toMatchObject({ plugins: ['@helix-release/nx-plugin'] });
    expect(await readFile(join(ws, 'release.config.ts'), 'utf8')).toContain("root: \"apps\"");
    expect((await readFile(join(ws, '.gitignore'), 'utf8')).split('\n')).toEqual(expect.arrayContaining(['node_modules/', 'dist/', '.nx/', '.helix/']));
    // Again: nothing changes.
    const again = await nx('g', '@helix-release/nx-plugin:init');
    expect(plain(again.output)).toContain('already set up, nothing changed');
  });

  it('with no app yet, the release stops at the preflight naming apps.root, and writes nothing', async () => {
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'helix-release set up');
    const release = await nx('run', 'release:all');
    expect(release.code).not.toBe(0);
    expect(plain(release.output)).toMatch(/apps\.root: "apps" is not a folder of the workspace/);
    expect(existsSync(join(ws, 'dist', 'release'))).toBe(false);
  });

  it('app acme-cli makes an app that builds, passes its conformance cases, and verifies with no edits', async () => {
    const app = await nx('g', '@helix-release/nx-plugin:app', 'acme-cli');
    expect(app.code, app.output).toBe(0);
    const requirements = await readFile(join(ws, 'apps/acme-cli/requirements.txt'), 'utf8');
    expect(requirements).toMatch(/^# This file was autogenerated by uv/);
    expect(await readFile(join(ws, 'apps/acme-cli/uv.lock'), 'utf8')).toMatch(/name = "acme-cli"\nversion = "0\.1\.0"/);
    expect(await readFile(join(ws, 'conformance/cases/acme-cli-01-version/app'), 'utf8')).toBe('acme-cli\n');
    git(ws, 'add', '-A');
    git(ws, 'commit', '-q', '-m', 'add acme-cli');

    const release = await nx('run', 'release:all');
    expect(release.code, release.output).toBe(0);
    const out = plain(release.output);
    expect(out).toContain('conformance PASSED: 3 cases');
    expect(out).toContain(`signed by ${fingerprint}`);
    expect(out).toContain('built from a clean tree');
    expect(git(ws, 'status', '--porcelain')).toBe('');

    const released = join(ws, 'dist', 'release');
    const verify = await step('npx', ['--no-install', 'helix-release', 'verify', 'dist/release', '--tofu'], { allowFail: true });
    expect(verify.code, verify.output).toBe(0);
    expect(verify.stdout).toMatch(/^verification PASSED$/m);
    expect(verify.stdout).toMatch(/^PASSED conformance: conformance-results\.json/m);
    const sums = await step('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: released });
    expect(sums.stdout).toContain(`${INSTALLER}.zip: OK`);
    await step('sh', ['-c', `gpg --dearmor < release-signing-public-key.asc > "${join(root, 'release.gpg')}"`], { cwd: released });
    const gpgv = await step('gpgv', ['--keyring', join(root, 'release.gpg'), 'SHA256SUMS.txt.asc', 'SHA256SUMS.txt'], { cwd: released, allowFail: true });
    expect(gpgv.code, gpgv.output).toBe(0);
    expect(gpgv.stderr).toContain('Good signature from "Acme Release <release@acme.invalid>"');

    const install = join(root, 'install');
    await mkdir(install);
    await step('unzip', ['-q', join(released, `${INSTALLER}.zip`)], { cwd: install });
    const installed = await step(join(install, INSTALLER, 'acme-cli'), ['--version'], { cwd: install });
    expect(installed.stdout.trim()).toBe('acme-cli 0.1.0');
  });
});
