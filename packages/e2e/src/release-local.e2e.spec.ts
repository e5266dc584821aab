/**
 * `tools/release_local.sh <artifact>...`: a release of files built elsewhere.
 * Arbitrary files get SBOMs, sums, BUILD_META, provenance (marked imported)
 * and signatures; bad artifact names or paths fail before the release folder
 * is touched; and the Linux Studio zip plus the two plugin zips of a local
 * build, imported again, make a release that verifies against the trust store.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { cloneWorkspace, plain, ranTasks, removeTemp, repoRoot, run, tempRoot, testEnv, type RunResult } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const baseWs = inject('baseWorkspace');
let root: string | undefined;
let ws: string;
let release: string;
let artifacts: string;

const sha256 = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

/** Runs the workspace's tools/release_local.sh from `cwd` with the test environment. */
function releaseLocal(workspace: string, args: string[], cwd: string): Promise<RunResult> {
  return run(join(workspace, 'tools/release_local.sh'), args, { cwd, env: testEnv() });
}

/** path → size:mtime:sha256 of every file below `dir`. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listFiles(dir)) {
    const info = await stat(join(dir, f));
    out[f] = `${info.size}:${info.mtimeMs}:${await sha256(join(dir, f))}`;
  }
  return out;
}

beforeAll(async () => {
  root = await tempRoot('release-local');
  ws = await cloneWorkspace(baseWs, join(root, 'ws'));
  release = join(ws, 'dist/release');
  artifacts = join(root, 'artifacts');
  await mkdir(artifacts);
  await writeFile(join(artifacts, 'tool-a.bin'), randomBytes(64 * 1024));
  // A real gzipped tar of random bytes: syft opens a .tar.gz as an archive and
  // fails on one that is not (the third case below).
  await writeFile(join(artifacts, 'notes.txt'), randomBytes(32 * 1024));
  execFileSync('tar', ['-czf', 'notes.tar.gz', 'notes.txt'], { cwd: artifacts });
});
afterAll(async () => removeTemp(root));

describe('release_local.sh with artifact files', () => {
  it('makes a signed release of exactly those files and their evidence', async () => {
    // Relative paths, from the folder that holds them: the script resolves them before it changes folder.
    const r = await releaseLocal(ws, ['tool-a.bin', 'notes.tar.gz'], artifacts);
    expect(r.code, r.output).toBe(0);
    expect(plain(r.output)).toContain('imported tool-a.bin (custom, sha256 ');
    // No installer for this machine: conformance ships the kit but no results.
    expect(plain(r.output)).toContain('NO CONFORMANCE RUN');

    // The merged pack: the release's, and the greeter's own with an app file per case.
    const greeterCases = (await listFiles(join(ws, 'workspace-fixtures/greeter-conformance'))).map((f) => `conformance-pack/${f}`);
    const pack = [
      ...(await listFiles(join(ws, 'workspace-fixtures/conformance'))).map((f) => `conformance-pack/${f}`),
      ...greeterCases,
      ...[...new Set(greeterCases.map((f) => f.split('/').slice(0, 3).join('/')))].map((c) => `${c}/app`),
    ];
    const signed = (f: string) => [f, `${f}.asc`];
    const attested = (f: string) => [...signed(f), `${f}.dsse.json`];
    const expected = [
      ...signed('tool-a.bin'),
      ...signed('notes.tar.gz'),
      ...attested('SBOM-tool-a.bin.spdx.json'),
      ...attested('SBOM-tool-a.bin.cdx.json'),
      ...attested('SBOM-notes.tar.gz.spdx.json'),
      ...attested('SBOM-notes.tar.gz.cdx.json'),
      ...signed('SHA256SUMS.txt'),
      ...signed('BUILD_META.txt'),
      ...attested('release-provenance.intoto.json'),
      // The example custom stage runs in the local plan too (it lists no distribution here).
      ...signed('THIRD_PARTY_LICENSES.txt'),
      'release-signing-public-key.asc',
      'release-signing-public-key.pem',
      'release-signing-key-fingerprint.txt',
      'tools/conformance.sh',
      'tools/release_verify_lib.py',
      'tools/verify_release_signatures.py',
      'tools/verify_release_provenance.py',
      // The plugin trust store the release was checked against.
      'trust-store.json',
      ...pack,
    ];
    expect(await listFiles(release)).toEqual([...expected].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    for (const f of ['tool-a.bin', 'notes.tar.gz']) expect(await sha256(join(release, f)), f).toBe(await sha256(join(artifacts, f)));
    expect((await readFile(join(release, 'release-signing-key-fingerprint.txt'), 'utf8')).trim()).toBe(DEV_FINGERPRINT);

    const sums = await run('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: release });
    expect(sums.code, sums.output).toBe(0);
    expect(sums.stdout).toMatch(/^tool-a\.bin: OK$/m);
    expect(sums.stdout).toMatch(/^notes\.tar\.gz: OK$/m);

    const meta = await readFile(join(release, 'BUILD_META.txt'), 'utf8');
    expect(meta).toContain(`\nsha256 tool-a.bin: ${await sha256(join(artifacts, 'tool-a.bin'))}\n`);
    expect(meta).toContain(`\nsha256 notes.tar.gz: ${await sha256(join(artifacts, 'notes.tar.gz'))}\n`);

    const provenance = JSON.parse(await readFile(join(release, 'release-provenance.intoto.json'), 'utf8')) as {
      subject: { name: string; annotations?: Record<string, string> }[];
      predicate: { buildDefinition: { internalParameters: { imported?: boolean } } };
    };
    expect(provenance.predicate.buildDefinition.internalParameters.imported).toBe(true);
    expect(provenance.subject.find((s) => s.name === 'tool-a.bin')?.annotations).toEqual({ 'helix.kind': 'custom', 'helix.sbom': 'SBOM-tool-a.bin.spdx.json', 'helix.cyclonedx': 'SBOM-tool-a.bin.cdx.json' });
  });

  it('rejects a missing path, a newline or a backslash in a name, naming the file, before touching the release folder', async () => {
    const withNewline = join(artifacts, 'bad\nname.bin');
    const withBackslash = join(artifacts, 'back\\slash.bin');
    await writeFile(withNewline, 'x');
    await writeFile(withBackslash, 'x');
    const folders = ['dist/release', 'dist/manifest'];
    const snapshotAll = async () => Object.fromEntries(await Promise.all(folders.map(async (f) => [f, await snapshot(join(ws, f))] as const)));
    const before = await snapshotAll();
    expect(Object.keys(before['dist/release']!)).toContain('tool-a.bin');
    const cases: [string, string, RegExp][] = [
      [join(artifacts, 'missing.bin'), join(artifacts, 'missing.bin'), /IMPORT_MISSING: .*: no such artifact/],
      [withNewline, JSON.stringify(withNewline), /IMPORT_BAD_NAME: .*: an artifact name may not contain a path separator or a line break/],
      [withBackslash, JSON.stringify(withBackslash), /IMPORT_BAD_NAME: .*: an artifact name may not contain a path separator or a line break/],
    ];
    for (const [file, shown, message] of cases) {
      const r = await releaseLocal(ws, [join(artifacts, 'tool-a.bin'), file], artifacts);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output), shown).toContain(`: ${shown}: `);
      expect(plain(r.output)).toMatch(message);
      expect(plain(r.output)).not.toContain('release_local.sh: running');
      expect(await snapshotAll(), shown).toEqual(before);
    }
  });

  it('fails at the SBOM stage with syft\'s reason when a .tar.gz is not one', async () => {
    await writeFile(join(artifacts, 'broken.tar.gz'), randomBytes(4096));
    const r = await releaseLocal(ws, ['tool-a.bin', 'broken.tar.gz'], artifacts);
    expect(r.code, r.output).not.toBe(0);
    expect(plain(r.output)).toMatch(/\[release:sbom\] error: TOOL_FAILED: .*broken\.tar\.gz/);
    expect(plain(r.output)).toContain('gzip: invalid header');
    expect(plain(r.output)).not.toContain('release_local.sh: running checksums');
  });

  it('re-releases the Linux Studio zip and plugin zips of a local build into a release that verifies against the trust store', async () => {
    // A fresh clone whose dist/release holds the local build: the artifacts
    // are imported from the very folder the import empties.
    const ws2 = await cloneWorkspace(baseWs, join(root!, 'ws2'));
    const files = ['helix-studio-1.4.0-linux-x86_64.zip', 'plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip'];
    const r = await releaseLocal(ws2, files.map((f) => `dist/release/${f}`), ws2);
    expect(r.code, r.output).toBe(0);
    expect(plain(r.output)).toMatch(/conformance PASSED/);
    const release2 = join(ws2, 'dist/release');
    for (const f of files) expect(await sha256(join(release2, f)), f).toBe(await sha256(join(baseWs, 'dist/release', f)));
    const v = await run(
      process.execPath,
      [join(ws2, 'packages/cli/bin/helix-release.cjs'), 'verify', release2, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--trust-store', join(ws2, 'workspace-fixtures/trust-store/trust-store.json')],
      { cwd: ws2 },
    );
    expect(v.code, v.output).toBe(0);
    // The sample's DEVELOPMENT key, accepted explicitly: the one warning.
    expect(v.stdout).toMatch(/^WARN KEY_DEVELOPMENT: release-signing-public-key\.asc: /m);
    expect(v.stdout).toMatch(/^verification PASSED with 1 accepted warning\(s\)$/m);
    expect(v.stdout).not.toMatch(/^FAILED/m);
    expect(v.stdout).toMatch(/^PASSED conformance: /m);
    expect(v.stdout).toMatch(/^PASSED plugin: plugins\/hello-1\.0\.0\.zip/m);
    expect(v.stdout).toMatch(/^PASSED plugin: plugins\/wordcount-2\.1\.0\.zip/m);
    const provenance = JSON.parse(await readFile(join(release2, 'release-provenance.intoto.json'), 'utf8')) as {
      predicate: { buildDefinition: { internalParameters: { imported?: boolean } } };
    };
    expect(provenance.predicate.buildDefinition.internalParameters.imported).toBe(true);
  });

  // The publish job's two steps: the build tools run where no signing secret is, and the step
  // that holds the key runs the sign stage alone, which starts no tool a secret could leak to.
  it('builds with --no-sign (refusing a key in its environment) and signs with --sign-only, which runs the sign stage alone and starts no tool', async () => {
    const key = await readFile(join(repoRoot, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8');
    const passphrase = (await readFile(join(repoRoot, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8')).trim();
    const withKey = await run(join(ws, 'tools/release_local.sh'), ['--no-sign', 'tool-a.bin'], { cwd: artifacts, env: testEnv({ GPG_PASSPHRASE: passphrase }) });
    expect(withKey.code, withKey.output).toBe(2);
    expect(withKey.stderr).toContain('release_local.sh: --no-sign runs the build tools, which could read GPG_PASSPHRASE from this process\'s environment; unset it here and pass it to --sign-only alone');

    const built = await releaseLocal(ws, ['--no-sign', 'tool-a.bin', 'notes.tar.gz'], artifacts);
    expect(built.code, built.output).toBe(0);
    expect(plain(built.output)).toContain('release_local.sh: not signing (--no-sign); run tools/release_local.sh --sign-only with the key');
    expect(ranTasks(built.output)).not.toContain('release:sign');
    expect((await readdir(release)).filter((f) => f.endsWith('.asc'))).toEqual([]);

    // Every tool a stage could start, as a fake that leaves a mark: signing must start none of them.
    const fakes = join(root!, 'fake-tools');
    await mkdir(fakes, { recursive: true });
    for (const tool of ['python3', 'python', 'syft', 'gpg', 'uv', 'pyinstaller', 'sha256sum']) {
      await writeFile(join(fakes, tool), `#!/bin/sh\necho "$0 $*" >> ${join(root!, 'started.log')}\nexit 1\n`);
      await chmod(join(fakes, tool), 0o755);
    }
    const signed = await run(join(ws, 'tools/release_local.sh'), ['--sign-only'], {
      cwd: ws,
      env: testEnv({ GPG_PRIVATE_KEY: key, GPG_PASSPHRASE: passphrase, GPG_PUBLIC_KEY_FINGERPRINT: DEV_FINGERPRINT, PATH: `${fakes}:${process.env['PATH']}` }),
    });
    expect(signed.code, signed.output).toBe(0);
    expect(ranTasks(signed.output)).toEqual(['release:sign']);
    expect(await readFile(join(root!, 'started.log'), 'utf8').catch(() => '')).toBe('');
    expect((await readdir(release)).filter((f) => f.endsWith('.asc'))).toEqual(expect.arrayContaining(['SHA256SUMS.txt.asc', 'BUILD_META.txt.asc', 'release-provenance.intoto.json.asc', 'tool-a.bin.asc', 'release-signing-public-key.asc']));
    // Every signature verifies; what fails is only what any release of files with no installer lacks (no conformance run).
    const v = await run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key'], { cwd: ws });
    expect(v.stdout).toMatch(/^PASSED signature: SHA256SUMS\.txt\.asc$/m);
    expect(v.stdout).toMatch(/^PASSED signature: release-provenance\.intoto\.json\.asc$/m);
    expect(v.stdout.split('\n').filter((l) => l.startsWith('FAILED')).map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'FAILED SIGNATURE_MISSING: conformance-results.json.asc',
      'FAILED CONFORMANCE_MISSING: conformance-results.json',
    ]);
  });
});

/**
 * The spy: a tool a stage starts (here `git`, which the preflight, the
 * provenance and Nx's hash inputs run), reading through /proc the environment
 * of every process of the run it is part of — the descendants of the
 * outermost ancestor holding the canary the test gave the run — as any child
 * of the same user can. Appends one JSON line: the processes it read, its
 * ancestors holding the canary (proof that it can read its parents), and the
 * processes holding a signing secret.
 */
const SPY = String.raw`
const fs = require('node:fs');
const read = (f) => { try { return fs.readFileSync(f, 'latin1'); } catch { return undefined; } };
const names = (pid) => (read('/proc/' + pid + '/environ') ?? '').split('\0').map((v) => v.split('=')[0]);
const pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
const parent = new Map(pids.map((p) => [p, Number(/^PPid:\s+(\d+)/m.exec(read('/proc/' + p + '/status') ?? '')?.[1] ?? 0)]));
const ancestors = [];
for (let p = parent.get(process.pid); p && p > 1; p = parent.get(p)) ancestors.push(p);
const withCanary = ancestors.filter((p) => names(p).includes('HELIX_E2E_CANARY'));
const root = withCanary.at(-1);
const inRun = (q) => { for (let x = q; x && x > 1; x = parent.get(x)) if (x === root) return true; return false; };
const SECRETS = ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE', 'HELIX_PLUGIN_SIGNING_KEY'];
let scanned = 0; const secrets = [];
for (const q of root ? pids.filter(inRun) : []) {
  if (read('/proc/' + q + '/environ') === undefined) continue;
  scanned++;
  for (const n of names(q)) if (SECRETS.includes(n)) secrets.push(q + ':' + n);
}
fs.appendFileSync(process.env.HELIX_E2E_SPY_LOG, JSON.stringify({ argv: process.argv.slice(2).join(' '), scanned, canaryInAncestors: withCanary.length, secrets }) + '\n');
`;

interface SpyLine {
  argv: string;
  scanned: number;
  canaryInAncestors: number;
  secrets: string[];
}

describe('the secrets, given to the steps of the tag workflow that hold them', () => {
  // The build job's steps and the publish job's, in order, on one machine: a
  // tool started by any stage finds no secret in any process of its run; the
  // steps that hold a secret (plugin-zip with the plugin key, --sign-only with
  // the release key) start no build tool.
  it('are out of reach of every tool a stage starts: a spy reading /proc finds its parents\' canary and no secret', async () => {
    const ws3 = await cloneWorkspace(baseWs, join(root!, 'ws3'));
    const release3 = join(ws3, 'dist/release');
    const key = await readFile(join(repoRoot, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.asc'), 'utf8');
    const passphrase = (await readFile(join(repoRoot, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-release-signing-key.passphrase'), 'utf8')).trim();
    const pluginKey = await readFile(join(repoRoot, 'workspace-fixtures/keys/DEVELOPMENT-ONLY-plugin-signing-key.pem'), 'utf8');
    const fakes = join(root!, 'fake-tools-3');
    const started = join(root!, 'started-3.log');
    await mkdir(fakes, { recursive: true });
    for (const tool of ['python3', 'python', 'syft', 'gpg', 'uv', 'pyinstaller', 'sha256sum', 'openssl']) {
      await writeFile(join(fakes, tool), `#!/bin/sh\necho "$0 $*" >> ${started}\nexit 1\n`);
      await chmod(join(fakes, tool), 0o755);
    }
    // git, as the spy and then the real git.
    const spyTools = join(root!, 'spy-tools');
    const spy = join(root!, 'spy.cjs');
    const spyLog = join(root!, 'spy.log');
    await mkdir(spyTools, { recursive: true });
    await writeFile(spy, SPY);
    const realGit = execFileSync('sh', ['-c', 'command -v git'], { encoding: 'utf8' }).trim();
    await writeFile(join(spyTools, 'git'), `#!/bin/sh\n"${process.execPath}" "${spy}" "$@" || exit 99\nexec "${realGit}" "$@"\n`);
    await chmod(join(spyTools, 'git'), 0o755);
    const spied = { HELIX_E2E_CANARY: 'visible-to-children', HELIX_E2E_SPY_LOG: spyLog, PATH: `${spyTools}:${process.env['PATH']}` };
    const spyLines = async (): Promise<SpyLine[]> => {
      const lines = (await readFile(spyLog, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as SpyLine);
      await rm(spyLog, { force: true });
      return lines;
    };
    const expectNoSecret = (lines: SpyLine[], what: string) => {
      // The spy ran, inside the run, and read its parents' environment (the canary in npx, Nx, ...)...
      expect(lines.length, what).toBeGreaterThan(0);
      expect(Math.max(...lines.map((l) => l.canaryInAncestors)), what).toBeGreaterThanOrEqual(2);
      for (const l of lines) expect(l.scanned, what).toBeGreaterThanOrEqual(l.canaryInAncestors);
      // ...and found no secret in any process of it.
      expect(lines.flatMap((l) => l.secrets), what).toEqual([]);
    };

    // build job: the installer with no secret; then plugin-zip alone with the plugin key, starting no build tool.
    const built = await run('npx', ['nx', 'run-many', '-t', 'lock,package'], { cwd: ws3, env: testEnv(spied) });
    expect(built.code, built.output).toBe(0);
    expectNoSecret(await spyLines(), 'lock,package');
    // The earlier layout, one build step holding the plugin key: the spy reads it from its parents.
    const leaky = await run('npx', ['nx', 'run-many', '-t', 'lock,package,plugin-zip'], { cwd: ws3, env: testEnv({ ...spied, HELIX_PLUGIN_SIGNING_KEY: pluginKey }) });
    expect(leaky.code, leaky.output).toBe(0);
    expect((await spyLines()).flatMap((l) => l.secrets)).toContainEqual(expect.stringMatching(/^\d+:HELIX_PLUGIN_SIGNING_KEY$/));
    const plugins = await run('npx', ['nx', 'run-many', '-t', 'plugin-zip', '--exclude-task-dependencies', '--skip-nx-cache'], {
      cwd: ws3,
      env: testEnv({ HELIX_PLUGIN_SIGNING_KEY: pluginKey, PATH: `${fakes}:${process.env['PATH']}` }),
    });
    expect(plugins.code, plugins.output).toBe(0);
    expect(ranTasks(plugins.output).sort()).toEqual(['plugin-hello:plugin-zip', 'plugin-wordcount:plugin-zip']);
    expect(await readFile(started, 'utf8').catch(() => '')).toBe('');

    // publish job: the release of those artifacts with no secret, then the sign stage alone with the key.
    const files = ['helix-studio-1.4.0-linux-x86_64.zip', 'plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip'];
    const noSign = await run(join(ws3, 'tools/release_local.sh'), ['--no-sign', ...files.map((f) => `dist/release/${f}`)], { cwd: ws3, env: testEnv(spied) });
    expect(noSign.code, noSign.output).toBe(0);
    const publishLines = await spyLines();
    expectNoSecret(publishLines, 'release_local.sh --no-sign');
    // Started by the stages themselves too, not only by Nx (the provenance reads the commit).
    expect(Math.max(...publishLines.map((l) => l.canaryInAncestors))).toBeGreaterThanOrEqual(4);

    const signed = await run(join(ws3, 'tools/release_local.sh'), ['--sign-only'], {
      cwd: ws3,
      env: testEnv({ GPG_PRIVATE_KEY: key, GPG_PASSPHRASE: passphrase, GPG_PUBLIC_KEY_FINGERPRINT: DEV_FINGERPRINT, PATH: `${fakes}:${process.env['PATH']}` }),
    });
    expect(signed.code, signed.output).toBe(0);
    expect(await readFile(started, 'utf8').catch(() => '')).toBe('');
    const v = await run(
      process.execPath,
      [join(ws3, 'packages/cli/bin/helix-release.cjs'), 'verify', release3, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--trust-store', join(ws3, 'workspace-fixtures/trust-store/trust-store.json')],
      { cwd: ws3 },
    );
    expect(v.code, v.output).toBe(0);
    expect(v.stdout).toMatch(/^PASSED plugin: plugins\/hello-1\.0\.0\.zip/m);
  });
});
