/**
 * `helix-release reproduce` (issue 15): the sample release, rebuilt from the
 * commit its provenance names in a temporary worktree, is byte-identical and
 * the statement says so; a release re-signed by another key is refused before
 * anything is built, naming the files; and a different Python on this machine
 * is reported, as a table, before any build starts. A release of imported
 * artifacts (the tag workflow's) is rebuilt as the workflow made it: its
 * Linux installer and plugins rebuilt, another platform's installer carried
 * over (NOT REBUILT), and an installer that is not the commit's named.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { toolchainPaths } from '@helix-release/core';
import { parseSums } from '@helix-release/format';
import { cloneWorkspace, git, plain, removeTemp, repoRoot, run, tempRoot, testEnv } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const STUDIO = 'helix-studio-1.4.0-linux-x86_64.zip';
let root: string | undefined;
let ws: string;
let release: string;

beforeAll(async () => {
  root = await tempRoot('reproduce');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
  release = join(ws, 'dist/release');
});
afterAll(async () => removeTemp(root));

const cli = (args: string[], env: NodeJS.ProcessEnv = testEnv()) => run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), ...args], { cwd: ws, env });
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const worktrees = () => git(ws, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length;

interface Reproduction {
  _type: string;
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: string;
  predicate: {
    verificationResult: string;
    inputAttestations: { uri: string; digest: { sha256: string } }[];
    rebuild: { commit: string; imported: boolean; notRebuilt?: string[]; sourceDateEpochFrom: string; toolchainDrift: unknown[]; toolchain: Record<string, string> };
    artifacts: { name: string; digest: { sha256: string }; rebuiltDigest: { sha256: string } | null; verdict: string; signature?: string }[];
  };
}

describe('helix-release reproduce', () => {
  it('rebuilds the sample release from its commit byte for byte, and writes a statement saying so', async () => {
    const out = join(root!, 'out', 'reproduction.intoto.json');
    await mkdir(join(root!, 'out'));
    const r = await cli(['reproduce', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--out', out]);
    expect(r.code, r.output).toBe(0);
    const sums = parseSums(await readFile(join(release, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt');
    // Progress first, the toolchain check before the build, then one line per file.
    const text = plain(r.output);
    expect(text).toContain(`reproduce: checking out ${git(ws, 'rev-parse', 'HEAD')} into `);
    expect(text.indexOf("reproduce: this machine's toolchain is the recorded one")).toBeLessThan(text.indexOf('reproduce: rebuilding every stage but sign'));
    for (const s of sums) expect(r.stdout).toContain(`MATCH ${s.path}`);
    // A file the release signed: its .asc verifies against the rebuilt bytes.
    expect(r.stdout).toContain(`MATCH SBOM-${STUDIO}.spdx.json (its signature verifies against the rebuilt file)`);
    expect(r.stdout).toContain('MATCH SHA256SUMS.txt');
    // Every subject of the provenance (the entries of SHA256SUMS.txt) and SHA256SUMS.txt itself.
    expect(r.stdout).toContain(`reproduction PASSED: ${sums.length + 1} of ${sums.length + 1} files byte-identical; ${out}`);
    expect(r.stdout).not.toMatch(/^FAILED/m);

    const statement = JSON.parse(await readFile(out, 'utf8')) as Reproduction;
    expect(statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(statement.predicateType).toBe('https://helix-release.invalid/reproduction/v1');
    expect(statement.subject.map((s) => [s.name, s.digest.sha256])).toEqual([...sums.map((s) => [s.path, s.sha256]), ['SHA256SUMS.txt', sha256(await readFile(join(release, 'SHA256SUMS.txt')))]]);
    expect(statement.predicate.verificationResult).toBe('PASSED');
    expect(statement.predicate.rebuild.commit).toBe(git(ws, 'rev-parse', 'HEAD'));
    expect(statement.predicate.rebuild.sourceDateEpochFrom).toBe('git');
    expect(statement.predicate.rebuild.toolchainDrift).toEqual([]);
    expect(statement.predicate.inputAttestations).toEqual([{ uri: 'release-provenance.intoto.json', digest: { sha256: sha256(await readFile(join(release, 'release-provenance.intoto.json'))) } }]);
    for (const a of statement.predicate.artifacts) {
      expect(a.verdict, a.name).toBe('MATCH');
      expect(a.rebuiltDigest, a.name).toEqual(a.digest);
    }
    // in-toto-attestation's own Statement validation, and the predicate read as a SLSA VSA v1;
    // a statement without subjects is refused (the check can fail).
    const validator = [join(repoRoot, 'tools/tests/validate_intoto_statement.py'), '--vsa'];
    const devPython = join(toolchainPaths(repoRoot).venv, 'bin', 'python');
    const valid = await run(devPython, [...validator, out], { cwd: root! });
    expect(valid.code, valid.output).toBe(0);
    expect(valid.stdout).toBe(`VALID ${out}\n`);
    const empty = join(root!, 'no-subjects.intoto.json');
    await writeFile(empty, JSON.stringify({ ...statement, subject: [] }));
    const invalid = await run(devPython, [...validator, empty], { cwd: root! });
    expect(invalid.code, invalid.output).toBe(1);
    expect(invalid.stdout).toBe(`INVALID ${empty}: At least one subject required\n`);
    // The worktree is gone, and the workspace is as it was.
    expect(worktrees()).toBe(1);
    expect(git(ws, 'status', '--porcelain')).toBe('');

    // A rebuilder's key never shares a process with the rebuild: reproduce refuses it, sign-statement signs afterwards.
    const key = await readFile(join(ws, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8');
    const passphrase = (await readFile(join(ws, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8')).trim();
    const keyEnv = testEnv({ GPG_PRIVATE_KEY: key, GPG_PASSPHRASE: passphrase, GPG_PUBLIC_KEY_FINGERPRINT: DEV_FINGERPRINT });
    const refused = await cli(['reproduce', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--out', out], keyEnv);
    expect(refused.code, refused.output).toBe(1);
    expect(plain(refused.output)).toContain('REPRODUCE_SECRETS_IN_ENVIRONMENT: ');
    expect(plain(refused.output)).toContain('sign the statement afterwards with `helix-release sign-statement reproduction.intoto.json`');
    expect(plain(refused.output)).not.toContain('reproduce: verifying');
    const signed = await cli(['sign-statement', out], keyEnv);
    expect(signed.code, signed.output).toBe(0);
    expect(signed.stdout).toContain(`with ${DEV_FINGERPRINT}: ${out}.asc`);
    // gpg, with nothing but the release's public key, takes the signature.
    const home = join(root!, 'verify-gnupg');
    await mkdir(home, { mode: 0o700 });
    execFileSync('gpg', ['--homedir', home, '--batch', '--import', join(release, 'release-signing-public-key.asc')], { stdio: 'pipe' });
    const verified = execFileSync('gpg', ['--homedir', home, '--batch', '--status-fd', '1', '--verify', `${out}.asc`, out], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
    expect(verified).toMatch(new RegExp(`^\\[GNUPG:\\] VALIDSIG ${DEV_FINGERPRINT} `, 'm'));
  });

  it('refuses a release whose installer was replaced and resealed with another key, naming the files, before anything is built', async () => {
    const forged = join(root!, 'forged');
    await cp(release, forged, { recursive: true });
    const zip = await readFile(join(forged, STUDIO));
    zip[zip.length - 30] ^= 0xff;
    await writeFile(join(forged, STUDIO), zip);
    // The attacker reseals the sums and signs them with a key of their own.
    const sumsText = (await readFile(join(forged, 'SHA256SUMS.txt'), 'utf8')).replace(/^[0-9a-f]{64}(?=  helix-studio-1\.4\.0-linux-x86_64\.zip$)/m, sha256(zip));
    await writeFile(join(forged, 'SHA256SUMS.txt'), sumsText);
    const home = join(root!, 'gnupg');
    await mkdir(home, { mode: 0o700 });
    const gpg = (args: string[]) => execFileSync('gpg', ['--homedir', home, '--batch', '--pinentry-mode', 'loopback', '--passphrase', '', ...args], { stdio: 'pipe' });
    gpg(['--quick-gen-key', 'attacker <a@example.invalid>', 'ed25519', 'sign', 'never']);
    gpg(['--yes', '--armor', '--detach-sign', '--output', join(forged, 'SHA256SUMS.txt.asc'), join(forged, 'SHA256SUMS.txt')]);
    await writeFile(join(forged, 'release-signing-public-key.asc'), gpg(['--armor', '--export']));

    const r = await cli(['reproduce', forged, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key']);
    expect(r.code, r.output).toBe(1);
    expect(plain(r.output)).toMatch(/helix-release: REPRODUCE_NOT_VERIFIED: \S+forged: the release does not verify \(.*\); nothing was rebuilt/);
    expect(r.stdout).toMatch(/^FAILED \S+: release-signing-public-key\.asc: /m);
    expect(plain(r.output)).not.toContain('reproduce: checking out');
    expect(worktrees()).toBe(1);
  });

  it('names the repository that lacks the commit, and says how to get it', async () => {
    const empty = join(root!, 'empty-repo');
    await mkdir(empty);
    git(empty, 'init', '-q');
    const r = await cli(['reproduce', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--repo', empty]);
    expect(r.code, r.output).toBe(1);
    expect(plain(r.output)).toContain(`helix-release: REPRODUCE_COMMIT_MISSING: ${empty}: the repository has no commit ${git(ws, 'rev-parse', 'HEAD')}, which the release was built from: fetch it (git fetch --tags) or name the project's repository with --repo <url-or-path>`);
  });

  it('reports a different Python on this machine as a table, before any build starts, and removes its worktree', async () => {
    // A python3 that answers the probe as another interpreter would.
    const bin = join(root!, 'other-python');
    await mkdir(bin);
    await writeFile(join(bin, 'python3'), '#!/bin/sh\necho \'{"version": "3.99.0", "basePrefix": "/usr", "executable": "/bin/sh", "libpython": ""}\'\n');
    await chmod(join(bin, 'python3'), 0o755);
    const r = await cli(['reproduce', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--out', join(root!, 'drift.intoto.json')], testEnv({ PATH: `${bin}:${process.env['PATH']}` }));
    expect(r.code, r.output).toBe(1);
    const text = plain(r.output);
    expect(text).toContain("REPRODUCE_TOOLCHAIN_DRIFT: ");
    expect(text).toContain("this machine's toolchain differs from the one the release records, so a rebuild would not give the same bytes; nothing was built:");
    expect(text).toMatch(/^ {2}component +recorded in the release +this machine$/m);
    expect(text).toMatch(/^ {2}python +3\.\d+\.\d+ +3\.99\.0$/m);
    expect(text).toMatch(/^ {2}python interpreter sha256 +[0-9a-f]{64} +[0-9a-f]{64}$/m);
    expect(text).toContain('pass --allow-toolchain-drift to rebuild anyway (a mismatch is then expected)');
    expect(text).not.toContain('reproduce: rebuilding');
    expect(existsSync(join(root!, 'drift.intoto.json'))).toBe(false);
    expect(worktrees()).toBe(1);

    // With --allow-toolchain-drift it builds anyway, warning; here the build cannot even start its Python.
    const anyway = await cli(['reproduce', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--allow-toolchain-drift', '--out', join(root!, 'drift.intoto.json')], testEnv({ PATH: `${bin}:${process.env['PATH']}` }));
    expect(anyway.code, anyway.output).toBe(1);
    expect(plain(anyway.output)).toContain('reproduce: WARNING: rebuilding with a different toolchain (--allow-toolchain-drift), so a mismatch is expected:');
    expect(plain(anyway.output)).toMatch(/helix-release: REPRODUCE_BUILD_FAILED: \S+: the rebuild of [0-9a-f]{40} failed \(its output is above\); nothing was compared/);
    expect(existsSync(join(root!, 'drift.intoto.json'))).toBe(false);
    expect(worktrees()).toBe(1);
  });

  describe('a release of imported artifacts, as the tag workflow makes it', () => {
    const WINDOWS = 'helix-studio-1.4.0-windows-x86_64.zip';
    const PLUGINS = ['plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip'];
    /** `src`'s entries (modes, links and all) zipped again into `dst`, dated `date`. */
    const rezip = (src: string, dst: string, date: number[]) =>
      execFileSync('python3', ['-c', 'import copy, sys, zipfile\nwith zipfile.ZipFile(sys.argv[1]) as src, zipfile.ZipFile(sys.argv[2], "w") as dst:\n    for i in src.infolist():\n        n = copy.copy(i); n.date_time = tuple(int(x) for x in sys.argv[3].split(",")); dst.writestr(n, src.read(i))', src, dst, date.join(',')]);
    /** A clone of the workspace whose release imports `studio` as the Linux installer, the plugins and a Windows zip. */
    const importedRelease = async (name: string, studio: string): Promise<{ ws: string; release: string }> => {
      const ws2 = await cloneWorkspace(inject('baseWorkspace'), join(root!, name));
      const staging = join(root!, `${name}-artifacts`);
      await mkdir(join(staging, 'plugins'), { recursive: true });
      await cp(studio, join(staging, STUDIO));
      for (const p of PLUGINS) await cp(join(release, p), join(staging, p));
      // What the Windows build job would upload, which no Linux machine can rebuild: here the
      // Linux files zipped again (the SBOM stage checks their packages against the lock).
      rezip(join(release, STUDIO), join(staging, WINDOWS), [2024, 1, 1, 0, 0, 0]);
      const r = await run(join(ws2, 'tools/release_local.sh'), [STUDIO, ...PLUGINS, WINDOWS], { cwd: staging, env: testEnv() });
      expect(r.code, r.output).toBe(0);
      return { ws: ws2, release: join(ws2, 'dist/release') };
    };
    const reproduceIn = (workspace: string, folder: string, out: string) =>
      run(process.execPath, [join(workspace, 'packages/cli/bin/helix-release.cjs'), 'reproduce', folder, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--out', out], { cwd: workspace, env: testEnv() });

    it('rebuilds the Linux installer and the plugins, releases them with the Windows zip as the publish job did, and gets every byte again', async () => {
      const imported = await importedRelease('imported', join(release, STUDIO));
      const out = join(root!, 'imported.intoto.json');
      const r = await reproduceIn(imported.ws, imported.release, out);
      expect(r.code, r.output).toBe(0);
      const text = plain(r.output);
      expect(text).toContain('reproduce: the release imported 4 artifact(s); rebuilding the apps and plugins');
      expect(text).toContain(`reproduce: ${WINDOWS} is not rebuilt here; the release's file is imported as it is`);
      expect(text.indexOf('rebuilding the apps and plugins')).toBeLessThan(text.indexOf('releasing them as the publish job did (tools/release_local.sh --no-sign, 4 artifact(s))'));
      const sums = parseSums(await readFile(join(imported.release, 'SHA256SUMS.txt'), 'utf8'), 'SHA256SUMS.txt');
      for (const s of sums.filter((x) => x.path !== WINDOWS)) expect(r.stdout).toContain(`MATCH ${s.path}`);
      // The evidence the publish job made from them: conformance, SBOMs (the Windows zip's too), sums.
      expect(r.stdout).toContain('MATCH conformance-results.json');
      expect(r.stdout).toContain(`MATCH SBOM-${WINDOWS}.spdx.json`);
      expect(r.stdout).toContain('MATCH SHA256SUMS.txt (its signature verifies against the rebuilt file)');
      expect(r.stdout).toMatch(new RegExp(`^NOT REBUILT ${WINDOWS.replace(/\./g, '\\.')}: built for another platform`, 'm'));
      // The plugins, rebuilt with a throwaway key: identical in every entry but their signature, and the release's went on.
      expect(text).toContain('reproduce: the plugins are signed with a throwaway key, and compared in every entry but SIGNATURE.ed25519');
      for (const p of PLUGINS) expect(r.stdout).toContain(`MATCH ${p}, but for its SIGNATURE.ed25519 (rebuilt with a throwaway key; every other entry is byte-identical, and the release's zip went on into the rebuild)`);
      expect(r.stdout).toContain(`reproduction PASSED: ${sums.length} of ${sums.length} rebuilt files byte-identical (2 plugin zips but for SIGNATURE.ed25519; 1 not rebuilt here); ${out}`);
      const statement = JSON.parse(await readFile(out, 'utf8')) as Reproduction;
      expect(statement.predicate.verificationResult).toBe('PASSED');
      expect(statement.predicate.rebuild.imported).toBe(true);
      expect(statement.predicate.rebuild.notRebuilt).toEqual([WINDOWS]);
      expect(statement.predicate.artifacts.find((a) => a.name === WINDOWS)?.verdict).toBe('NOT_REBUILT');
      expect(statement.predicate.artifacts.find((a) => a.name === STUDIO)?.verdict).toBe('MATCH');
      expect(statement.predicate.artifacts.find((a) => a.name === PLUGINS[0])?.verdict).toBe('MATCH_BUT_PLUGIN_SIGNATURE');
      expect(git(imported.ws, 'worktree', 'list', '--porcelain').split('\n').filter((l) => l.startsWith('worktree ')).length).toBe(1);
    });

    it('names an imported installer that the commit does not build, though it works and the release verifies', async () => {
      // Another build's installer: the same files, zipped with other timestamps (it still passes conformance).
      const other = join(root!, 'other-studio.zip');
      rezip(join(release, STUDIO), other, [2001, 2, 3, 4, 5, 6]);
      const swapped = await importedRelease('swapped', other);
      const out = join(root!, 'swapped.intoto.json');
      const r = await reproduceIn(swapped.ws, swapped.release, out);
      expect(r.code, r.output).toBe(1);
      expect(r.stdout).toMatch(new RegExp(`^FAILED REPRODUCE_MISMATCH: ${STUDIO.replace(/\./g, '\\.')}: sha256 ${sha256(await readFile(other))} in the release, ${sha256(await readFile(join(release, STUDIO)))} rebuilt(;|$)`, 'm'));
      // SHA256SUMS.txt, which lists it, differs too, and its signature then fails against the rebuilt sums.
      expect(r.stdout).toMatch(/^FAILED REPRODUCE_MISMATCH: SHA256SUMS\.txt: .*; its signature does not verify against the rebuilt file/m);
      for (const p of PLUGINS) expect(r.stdout).toContain(`MATCH ${p}`);
      expect(r.stdout).toMatch(/^reproduction FAILED: /m);
      const statement = JSON.parse(await readFile(out, 'utf8')) as Reproduction;
      expect(statement.predicate.verificationResult).toBe('FAILED');
      expect(statement.predicate.artifacts.find((a) => a.name === STUDIO)?.verdict).toBe('MISMATCH');
    });
  });
});
