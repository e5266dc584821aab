/**
 * The release's plugins in the released Studio: the PyInstaller-built Studio
 * from the base release's zip, unpacked, with the release's plugin zips in a
 * plugins folder, run headless with OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=1.
 * Both plugins load as signed by the development plugin key and run; a
 * tampered copy of `hello` (one entry changed, re-zipped with correct CRCs so
 * that only the signed manifest catches it) is refused and never imported;
 * a path-traversal zip writes nothing outside. `helix-release verify-plugin`
 * gives the same verdicts as the Studio.
 */
import { cp, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles } from '@helix-release/core';
import { removeTemp, repoRoot, run, snapshot, tempRoot, type RunResult } from './workspace';

const TRUST_STORE = join(repoRoot, 'workspace-fixtures/trust-store/trust-store.json');
const HELIX_RELEASE = join(repoRoot, 'packages/cli/bin/helix-release.cjs');
const HOSTILE_ZIP = join(repoRoot, 'workspace-fixtures/plugin-trust-cases/zips/path-traversal.zip');
const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const KEY_NAME = 'helix-dev-plugins';

const base = inject('baseWorkspace');
const release = join(base, 'dist/release');
let root: string;
let studio: string;
let pluginZips: string[];

/** Runs the unpacked Studio; its temporary files go to `tmp` (under `root` unless given). */
function studioRun(args: string[], options: { requireSigned?: string; tmp?: string; cwd?: string } = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { PATH: SYSTEM_PATH, HOME: root, TMPDIR: options.tmp ?? join(root, 'tmp'), LANG: 'C.UTF-8', OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED: options.requireSigned ?? '1' };
  return run(studio, args, { cwd: options.cwd ?? root, env });
}

interface PluginVerdict {
  status: string;
  check: string;
  code?: string;
  file: string;
  reason?: string;
}

async function verifyPlugin(zips: string[]): Promise<{ code: number; results: PluginVerdict[]; output: string }> {
  const r = await run(process.execPath, [HELIX_RELEASE, 'verify-plugin', ...zips, '--trust-store', TRUST_STORE, '--json'], { cwd: root });
  return { code: r.code, results: JSON.parse(r.stdout || '[]') as PluginVerdict[], output: r.output };
}

/**
 * Copies the plugin zip `src` to `dest` with the entry `entry` replaced by
 * `content`, every other entry (SIGNATURE.ed25519 included) and every header
 * field kept, through Python's zipfile, which writes correct CRCs and sizes.
 */
async function tamperZip(src: string, dest: string, entry: string, content: string): Promise<void> {
  const script = [
    'import sys, zipfile',
    'src, dest, entry, content_file = sys.argv[1:5]',
    'content = open(content_file, "rb").read()',
    'with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w") as zout:',
    '    assert entry in zin.namelist(), entry',
    '    for info in zin.infolist():',
    '        zout.writestr(info, content if info.filename == entry else zin.read(info))',
    'with zipfile.ZipFile(dest) as z:',
    '    assert z.testzip() is None',
    '    assert z.read(entry) == content',
  ].join('\n');
  const contentFile = `${dest}.content`;
  await writeFile(contentFile, content);
  const r = await run('python3', ['-c', script, src, dest, entry, contentFile], { cwd: root, env: { PATH: SYSTEM_PATH } });
  expect(r.code, r.output).toBe(0);
}

beforeAll(async () => {
  root = await tempRoot('plugins');
  await mkdir(join(root, 'tmp'));
  const zips = (await readdir(release)).filter((f) => /^helix-studio-.*\.zip$/.test(f));
  expect(zips).toHaveLength(1);
  const install = join(root, 'install');
  await mkdir(install);
  const unzip = await run('unzip', ['-q', join(release, zips[0]!)], { cwd: install, env: { PATH: SYSTEM_PATH } });
  expect(unzip.code, unzip.output).toBe(0);
  studio = join(install, zips[0]!.replace(/\.zip$/, ''), 'helix-studio');
  expect((await stat(studio)).mode & 0o111).not.toBe(0);
  pluginZips = (await readdir(join(release, 'plugins'))).filter((f) => f.endsWith('.zip')).sort();
  expect(pluginZips).toEqual(['hello-1.0.0.zip', 'wordcount-2.1.0.zip']);
});

afterAll(async () => {
  await removeTemp(root);
});

describe('the sample plugins in the packaged Studio', () => {
  let plugins: string;

  beforeAll(async () => {
    plugins = join(root, 'site', 'plugins');
    await mkdir(plugins, { recursive: true });
    for (const zip of pluginZips) await cp(join(release, 'plugins', zip), join(plugins, zip));
  });

  it('is the PyInstaller build, requiring signed plugins, trusting the development plugin key', async () => {
    const r = await studioRun(['--headless', 'info']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toMatch(/^build: pyinstaller$/m);
    expect(r.stdout).toMatch(/^require-signed: yes$/m);
    expect(r.stdout).toMatch(new RegExp(`^trusted-keys: ${KEY_NAME}$`, 'm'));
  });

  it('lists both plugins as loaded and signed by helix-dev-plugins', async () => {
    const r = await studioRun(['--plugins-dir', plugins, '--headless', 'plugins']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual([`loaded hello 1.0.0 signed by ${KEY_NAME}`, `loaded wordcount 2.1.0 signed by ${KEY_NAME}`]);
    expect(r.stdout).not.toMatch(/^refused /m);
    expect(r.stderr).not.toMatch(/warning|refused/);
  });

  it('runs hello: Hello, Ada!', async () => {
    const r = await studioRun(['--plugins-dir', plugins, '--headless', 'run', 'hello', 'Ada']);
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toBe('Hello, Ada!\n');
  });

  it('helix-release verify-plugin passes both', async () => {
    const v = await verifyPlugin(pluginZips.map((z) => join(plugins, z)));
    expect(v.code, v.output).toBe(0);
    expect(v.results.map((r) => [basename(r.file), r.status])).toEqual(pluginZips.map((z) => [z, 'PASSED']));
  });
});

describe('a tampered hello plugin', () => {
  let tamperedDir: string;
  let tamperedZip: string;
  let marker: string;

  beforeAll(async () => {
    tamperedDir = join(root, 'tampered', 'plugins');
    await mkdir(tamperedDir, { recursive: true });
    marker = join(root, 'tampered', 'markers', 'imported.txt');
    await mkdir(join(root, 'tampered', 'markers'));
    const original = join(release, 'plugins', 'hello-1.0.0.zip');
    const meta = await run('python3', ['-c', 'import json,sys,zipfile; print(json.loads(zipfile.ZipFile(sys.argv[1]).read("plugin.json"))["entry"])', original], { cwd: root, env: { PATH: SYSTEM_PATH } });
    expect(meta.code, meta.output).toBe(0);
    const module = `${meta.stdout.trim().split(':')[0]!.replace(/\./g, '/')}.py`;
    expect(module).toBe('hello_plugin.py');
    // Importing this module leaves a marker file: the proof that it was (or was not) imported.
    const hostile = [
      '"""hello, tampered after signing."""',
      'import pathlib',
      `pathlib.Path(${JSON.stringify(marker)}).write_text("the tampered hello plugin was imported\\n")`,
      '',
      '',
      'def run(args):',
      '    return "tampered"',
      '',
    ].join('\n');
    tamperedZip = join(tamperedDir, 'hello-1.0.0.zip');
    await tamperZip(original, tamperedZip, module, hostile);
    await cp(join(release, 'plugins', 'wordcount-2.1.0.zip'), join(tamperedDir, 'wordcount-2.1.0.zip'));
  });

  it('is refused with PLUGIN_DIGEST_MISMATCH and never imported', async () => {
    const list = await studioRun(['--plugins-dir', tamperedDir, '--headless', 'plugins']);
    expect(list.code, list.output).toBe(0);
    expect(list.stdout).toMatch(/^refused hello-1\.0\.0\.zip PLUGIN_DIGEST_MISMATCH$/m);
    expect(list.stdout).not.toMatch(/^loaded hello /m);
    expect(list.stdout).toMatch(new RegExp(`^loaded wordcount 2\\.1\\.0 signed by ${KEY_NAME}$`, 'm'));
    expect(list.stderr).toMatch(/refused plugin hello-1\.0\.0\.zip: PLUGIN_DIGEST_MISMATCH: hello_plugin\.py/);

    const runIt = await studioRun(['--plugins-dir', tamperedDir, '--headless', 'run', 'hello', 'Ada']);
    expect(runIt.code, runIt.output).toBe(3);
    expect(runIt.stderr).toMatch(/no plugin named 'hello' is loaded/);
    expect(runIt.stdout).not.toMatch(/tampered|Hello/);

    await expect(stat(marker), 'the tampered module was imported').rejects.toThrow();
  });

  it('would have left the marker had it been imported (OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=0 loads it, with a warning)', async () => {
    const r = await studioRun(['--plugins-dir', tamperedDir, '--headless', 'run', 'hello', 'Ada'], { requireSigned: '0' });
    expect(r.code, r.output).toBe(0);
    expect(r.stdout).toBe('tampered\n');
    expect(r.stderr).toMatch(/warning: loading plugin hello-1\.0\.0\.zip anyway: PLUGIN_DIGEST_MISMATCH/);
    expect(await readFile(marker, 'utf8')).toBe('the tampered hello plugin was imported\n');
  });

  it('helix-release verify-plugin fails it with PLUGIN_DIGEST_MISMATCH', async () => {
    const v = await verifyPlugin([tamperedZip]);
    expect(v.code, v.output).toBe(1);
    expect(v.results).toHaveLength(1);
    expect(v.results[0]).toMatchObject({ status: 'FAILED', code: 'PLUGIN_DIGEST_MISMATCH', file: tamperedZip });
    expect(v.results[0]!.reason).toContain('hello_plugin.py');
  });
});

describe('a path-traversal plugin zip', () => {
  it('is refused with PLUGIN_UNSAFE_PATH and writes nothing outside the plugins folder', async () => {
    const site = join(root, 'hostile');
    const plugins = join(site, 'plugins');
    // The Studio's scratch folder and working folder are inside the watched tree too.
    const tmp = join(site, 'tmp');
    const cwd = join(site, 'work');
    for (const d of [plugins, tmp, cwd]) await mkdir(d, { recursive: true });
    await cp(HOSTILE_ZIP, join(plugins, 'path-traversal.zip'));
    for (const zip of pluginZips) await cp(join(release, 'plugins', zip), join(plugins, zip));
    const before = await snapshot(site);

    for (const requireSigned of ['1', '0']) {
      const r = await studioRun(['--plugins-dir', plugins, '--headless', 'plugins'], { requireSigned, tmp, cwd });
      expect(r.code, r.output).toBe(0);
      expect(r.stdout).toMatch(/^refused path-traversal\.zip PLUGIN_UNSAFE_PATH$/m);
      expect(r.stdout).not.toMatch(/^loaded tiny /m);
      expect(r.stdout).toMatch(new RegExp(`^loaded hello 1\\.0\\.0 signed by ${KEY_NAME}$`, 'm'));
      expect(await snapshot(site), `the Studio wrote into ${site} (REQUIRE_SIGNED=${requireSigned})`).toEqual(before);
      expect(await readdir(tmp)).toEqual([]);
    }
    expect((await listFiles(root)).filter((f) => basename(f) === 'evil.py')).toEqual([]);

    const v = await verifyPlugin([join(plugins, 'path-traversal.zip')]);
    expect(v.code, v.output).toBe(1);
    expect(v.results[0]).toMatchObject({ status: 'FAILED', code: 'PLUGIN_UNSAFE_PATH' });
  });
});
