/**
 * A bad lock state fails `npx nx run release:all` at helix-studio:lock, with
 * the file and line in the message, and nothing that depends on the lock is
 * written: no Studio zip, no SBOM, no SHA256SUMS.txt. The plugin zips, which
 * do not depend on the lock, are still produced (here from the cache).
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles, platformTag } from '@helix-release/core';
import { cachedTasks, cloneWorkspace, git, nx, plain, ranTasks, removeTemp, run, tempRoot, testEnv } from './workspace';

const REQUIREMENTS = 'workspace-fixtures/studio/requirements.txt';
const PYPROJECT = 'workspace-fixtures/studio/pyproject.toml';
const PLUGIN_ZIPS = ['plugins/hello-1.0.0.zip', 'plugins/wordcount-2.1.0.zip'];
/** What does not depend on the Studio's lock: the other app's installer and the plugins (from the cache). */
const GREETER = `helix-greeter-0.1.0-${platformTag()}.zip`;
/** What does not depend on the Studio's lock: the other app's installer, the plugin zips, and their SBOMs. */
const UNAFFECTED = [GREETER, ...PLUGIN_ZIPS, ...[GREETER, ...PLUGIN_ZIPS].flatMap((zip) => [`SBOM-${zip.split('/').pop()}.spdx.json`, `SBOM-${zip.split('/').pop()}.cdx.json`])].sort();
const baseWs = inject('baseWorkspace');
let root: string | undefined;
let ws: string;

beforeAll(async () => {
  root = await tempRoot('lock-errors');
  ws = await cloneWorkspace(baseWs, join(root, 'ws'));
});
afterAll(async () => removeTemp(root));

/** 1-based number of the first line of `rel` matching `re`. */
async function lineOf(rel: string, re: RegExp): Promise<number> {
  const i = (await readFile(join(ws, rel), 'utf8')).split('\n').findIndex((l) => re.test(l));
  expect(i, `${re} in ${rel}`).toBeGreaterThanOrEqual(0);
  return i + 1;
}

async function edit(rel: string, change: (text: string) => string): Promise<void> {
  const before = await readFile(join(ws, rel), 'utf8');
  const after = change(before);
  expect(after, `edit of ${rel}`).not.toBe(before);
  await writeFile(join(ws, rel), after);
}

const cases: { name: string; code: string; file: string; make: () => Promise<number> }[] = [
  {
    name: 'an unpinned requirement',
    code: 'LOCK_UNPINNED',
    file: REQUIREMENTS,
    make: async () => {
      await edit(REQUIREMENTS, (t) => t.replace(/^cffi==2\.1\.1 /m, 'cffi>=2 '));
      return lineOf(REQUIREMENTS, /^cffi>=2 /);
    },
  },
  {
    name: 'a requirement without hashes',
    code: 'LOCK_UNHASHED',
    file: REQUIREMENTS,
    make: async () => {
      // pycparser's line loses its continuation and its --hash lines.
      await edit(REQUIREMENTS, (t) => t.replace(/^(pycparser==[^\n]*?) \\\n(?: {4}--hash=[^\n]*\n)+/m, '$1\n'));
      return lineOf(REQUIREMENTS, /^pycparser==/);
    },
  },
  {
    name: 'a URL requirement',
    code: 'LOCK_URL_REQUIREMENT',
    file: REQUIREMENTS,
    make: async () => {
      await edit(REQUIREMENTS, (t) => `${t}foo @ https://example.invalid/foo.whl\n`);
      return lineOf(REQUIREMENTS, /^foo @ /);
    },
  },
  {
    name: 'a uv.lock that is stale with pyproject.toml',
    code: 'LOCK_STALE',
    file: PYPROJECT,
    make: async () => {
      await edit(PYPROJECT, (t) => t.replace('"cryptography==50.0.2"', '"cryptography==50.0.3"'));
      return lineOf(PYPROJECT, /"cryptography==50\.0\.3"/);
    },
  },
];

describe('bad lock states', () => {
  it.each(cases)('$name fails the release at helix-studio:lock and writes nothing that depends on the lock', async ({ code, file, make }) => {
    const line = await make();
    try {
      await rm(join(ws, 'dist'), { recursive: true, force: true });
      const r = await nx(ws, ['run', 'release:all']);
      // Nx exits 130 (not 1): the tasks after the failed lock never get a
      // result, and Nx 22 takes such a run for an interrupted one.
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toContain(`[helix-studio:lock] error: ${code}: ${file}:${line}: `);
      expect(plain(r.output)).toMatch(/Failed tasks:\s*\n- helix-studio:lock\n/);
      // Nx runs what does not depend on the lock (the other app and the plugin
      // zips with their SBOMs and the other app's conformance run, all from the
      // cache, as is the toolchain) and nothing that does.
      const unaffected = ['helix-greeter:lock', 'helix-greeter:package', 'helix-greeter:app-conformance', 'helix-greeter:artifact-sbom', 'plugin-hello:plugin-zip', 'plugin-hello:artifact-sbom', 'plugin-wordcount:plugin-zip', 'plugin-wordcount:artifact-sbom', 'release:toolchain'];
      expect([...ranTasks(r.output)].sort()).toEqual([...unaffected, 'helix-studio:lock', 'release:preflight'].sort());
      expect(cachedTasks(r.output).sort()).toEqual(unaffected.sort());
      // The release folder was emptied (dist/ deleted) before the run: all it
      // holds now is what does not depend on the lock, identical to the base build's.
      expect(await listFiles(join(ws, 'dist/release'))).toEqual(UNAFFECTED);
      for (const zip of UNAFFECTED) {
        expect((await readFile(join(ws, 'dist/release', zip))).equals(await readFile(join(baseWs, 'dist/release', zip))), zip).toBe(true);
      }
      // No lock report for a later stage to trust.
      expect(existsSync(join(ws, 'dist/manifest/helix-studio/lock.json'))).toBe(false);
    } finally {
      // A failed case must not leave its edit to the next one.
      git(ws, 'checkout', '--', file);
    }
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });
});

describe('a tag that is not the release version', () => {
  it('stops the run at release:preflight, naming both, before any stage touches dist/release', async () => {
    const before = await listFiles(join(ws, 'dist/release')).catch(() => [] as string[]);
    git(ws, 'tag', 'v9.9.9');
    try {
      const r = await nx(ws, ['run', 'release:all']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toContain('[release:preflight] error: RELEASE_TAG_MISMATCH: release.config.ts: HEAD is tagged v9.9.9, but the release version is 1.4.0');
      expect(ranTasks(r.output)).toEqual(['release:preflight']);
      expect(await listFiles(join(ws, 'dist/release')).catch(() => [] as string[])).toEqual(before);
    } finally {
      git(ws, 'tag', '-d', 'v9.9.9');
    }
  });
});

describe('a release config that finds no app', () => {
  it.each([
    ['apps.root with a typo', "root: 'workspace-fixtures/studo'", /apps\.root: "workspace-fixtures\/studo" is not a folder of the workspace/],
    ['apps.root naming a folder without an app', "root: 'workspace-fixtures/plugins'", /apps\.root: no app below "workspace-fixtures\/plugins"/],
  ])('%s fails before any stage runs, naming the key, and leaves dist/release untouched', async (_what, root, message) => {
    const before = await listFiles(join(ws, 'dist/release')).catch(() => [] as string[]);
    const config = await readFile(join(ws, 'release.config.ts'), 'utf8');
    expect(config).toContain("root: 'workspace-fixtures',");
    await writeFile(join(ws, 'release.config.ts'), config.replace("root: 'workspace-fixtures',", `${root},`));
    try {
      const r = await nx(ws, ['run', 'release:all']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toMatch(message);
      // The preflight refuses it: inference goes on without apps, so that `nx g …:app` works.
      expect(ranTasks(r.output)).toEqual(['release:preflight']);
      expect(await listFiles(join(ws, 'dist/release')).catch(() => [] as string[])).toEqual(before);
    } finally {
      await writeFile(join(ws, 'release.config.ts'), config);
    }
  });
});

describe('an app source that does not compile', () => {
  // PyInstaller only warns about such a module and leaves it out: the built
  // app then failed its smoke test with a ModuleNotFoundError.
  it('fails the package stage before any build, naming the file, line and column; no installer is left', async () => {
    const cli = 'workspace-fixtures/greeter/src/helix_greeter/cli.py';
    const line = (await readFile(join(ws, cli), 'utf8')).split('\n').length;
    await edit(cli, (t) => `${t.replace(/\n$/, '')}\ndef broken(:\n`);
    try {
      const r = await nx(ws, ['run', 'helix-greeter:package']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toMatch(new RegExp(`\\[helix-greeter:package\\] error: APP_SOURCE_INVALID: ${cli.replace(/[.]/g, '\\.')}:${line}:\\d+: .+; the app's source does not compile`));
      expect(plain(r.output)).not.toContain('PyInstaller 6');
      expect(plain(r.output)).not.toContain('ModuleNotFoundError');
      expect(existsSync(join(ws, 'dist/release', GREETER))).toBe(false);
      expect(existsSync(join(ws, 'dist/manifest/helix-greeter/package.json'))).toBe(false);
    } finally {
      git(ws, 'checkout', '--', cli);
    }
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });
});

describe('a build environment that would leak into the installer', () => {
  const zip = join('dist/release', GREETER);
  it('builds without LD_PRELOAD, saying so: the installer is byte-identical to the base build\'s', async () => {
    // A library the loader would map into every tool, PyInstaller's dependency scan included.
    const preload = '/usr/lib/x86_64-linux-gnu/libgpg-error.so.0';
    expect(existsSync(preload), preload).toBe(true);
    const r = await run('npx', ['nx', 'run', 'helix-greeter:package', '--skip-nx-cache'], { cwd: ws, env: testEnv({ LD_PRELOAD: preload }) });
    expect(r.code, r.output).toBe(0);
    expect(plain(r.output)).toContain('building without LD_PRELOAD: what they load would be bundled into the installer');
    expect((await readFile(join(ws, zip))).equals(await readFile(join(baseWs, zip)))).toBe(true);
  });

  it('fails the package stage with PACKAGE_FOREIGN_FILE, naming the spec and the file, when the spec takes a file from elsewhere; no installer is left', async () => {
    const spec = 'workspace-fixtures/greeter/helix-greeter.spec';
    await edit(spec, (t) => t.replace(/^datas = \[\]$/m, 'datas = [("/etc/os-release", "leaked")]'));
    try {
      const r = await nx(ws, ['run', 'helix-greeter:package', '--skip-nx-cache']);
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toMatch(/\[helix-greeter:package\] error: PACKAGE_FOREIGN_FILE: \S*workspace-fixtures\/greeter\/helix-greeter\.spec: the bundle would ship a file from outside the build environment, the workspace, .*leaked\/os-release \(from \/(usr\/lib|etc)\/os-release\)/);
      expect(existsSync(join(ws, zip))).toBe(false);
      expect(existsSync(join(ws, 'dist/manifest/helix-greeter/package.json'))).toBe(false);
    } finally {
      git(ws, 'checkout', '--', spec);
    }
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });

  it('fails the package stage with PACKAGE_UNLOCKED when the app imports a package only the toolchain installed (setuptools), naming it and its lock; no installer is left', async () => {
    // The greeter locks nothing; setuptools is in the build venv for PyInstaller.
    const cli = 'workspace-fixtures/greeter/src/helix_greeter/cli.py';
    await edit(cli, (t) => t.replace('import argparse\n', 'import argparse\n\nimport setuptools  # noqa: F401\n'));
    try {
      const r = await nx(ws, ['run', 'helix-greeter:package', '--skip-nx-cache']);
      expect(r.code, r.output).not.toBe(0);
      const text = plain(r.output);
      expect(text).toMatch(/\[helix-greeter:package\] error: PACKAGE_UNLOCKED: workspace-fixtures\/greeter\/requirements\.txt: the bundle takes (a package|packages) from the build environment \(the toolchain installs (it|them) for PyInstaller\) that workspace-fixtures\/greeter\/requirements\.txt does not lock: /);
      expect(text).toMatch(/setuptools \d+\.\d+\.\d+ \(\d+ entries, e\.g\. [^)]*\)/);
      expect(text).toMatch(/add [^;]*setuptools==\d+\.\d+\.\d+[^;]* with (its|their) --hash lines to workspace-fixtures\/greeter\/requirements\.txt/);
      expect(existsSync(join(ws, zip))).toBe(false);
      expect(existsSync(join(ws, 'dist/manifest/helix-greeter/package.json'))).toBe(false);
    } finally {
      git(ws, 'checkout', '--', cli);
    }
    expect(git(ws, 'status', '--porcelain')).toBe('');
  });
});

describe('a version bump', () => {
  it('needs no clean-up: the preflight removes the earlier installer and its SBOM, saying so; a stray is still refused', async () => {
    const greeter = 'workspace-fixtures/greeter';
    const old = `helix-greeter-0.1.0-${platformTag()}.zip`;
    const bumped = `helix-greeter-0.2.0-${platformTag()}.zip`;
    // The base release (built into this clone's dist/ by an earlier case, or restored here) holds the old version.
    expect((await nx(ws, ['run', 'release:all'])).code).toBe(0);
    expect(existsSync(join(ws, 'dist/release', old))).toBe(true);
    // The bump, as the app's README says: the version in pyproject.toml and __init__.py, the
    // version case, then re-lock with the toolchain's uv.
    await edit(`${greeter}/pyproject.toml`, (t) => t.replace('version = "0.1.0"', 'version = "0.2.0"'));
    await edit(`${greeter}/src/helix_greeter/__init__.py`, (t) => t.replace('"0.1.0"', '"0.2.0"'));
    await edit('workspace-fixtures/greeter-conformance/cases/helix-greeter-01-version/expect-stdout', (t) => t.replace('0\\.1\\.0', '0\\.2\\.0'));
    const uv = join(ws, '.helix/toolchain/venv/bin/uv');
    execFileSync(uv, ['lock', '--offline', '--no-progress', '--directory', join(ws, greeter)], { stdio: 'pipe' });
    git(ws, 'commit', '-qam', 'helix-greeter 0.2.0');

    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    expect(plain(r.output)).toContain(`[release:preflight] removed ${old}: an earlier version of an artifact this release builds anew`);
    expect(plain(r.output)).toContain(`[release:preflight] removed SBOM-${old}.spdx.json:`);
    const files = await listFiles(join(ws, 'dist/release'));
    expect(files).toContain(bumped);
    expect(files.filter((f) => f.includes('helix-greeter-0.1.0'))).toEqual([]);
    const meta = await readFile(join(ws, 'dist/release/BUILD_META.txt'), 'utf8');
    expect(meta).toMatch(/^version: 1\.4\.0$/m);
    expect(meta).toContain(`version ${bumped}: 0.2.0`);
    const sums = await run('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: join(ws, 'dist/release') });
    expect(sums.code, sums.output).toBe(0);

    // A file no stage makes is not taken for an earlier version.
    await writeFile(join(ws, 'dist/release', 'helix-greeter-notes.zip'), 'mine');
    const stray = await nx(ws, ['run', 'release:all']);
    expect(stray.code).not.toBe(0);
    expect(plain(stray.output)).toContain('helix-greeter-notes.zip');
    expect(existsSync(join(ws, 'dist/release', 'helix-greeter-notes.zip'))).toBe(true);
    await rm(join(ws, 'dist/release', 'helix-greeter-notes.zip'));
  });
});
