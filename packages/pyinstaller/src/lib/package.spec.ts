import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOADER_VARIABLES, appSources, checkAppSources, checkSmokeOutput, clearedLoaderVariables, findBundle, foreignEntries } from './package';

const SPEC = '/ws/apps/studio/studio.spec';
const PYPROJECT = '/ws/apps/studio/pyproject.toml';
const META = { name: 'helix-studio', version: '1.4.0' };

describe('findBundle', () => {
  let dist: string;
  beforeEach(async () => {
    dist = await mkdtemp(join(tmpdir(), 'helix-pyi-dist-'));
  });
  afterEach(async () => {
    await rm(dist, { recursive: true, force: true });
  });

  /** What PyInstaller left in the dist folder: folder names end in `/`. */
  async function layout(entries: readonly string[]): Promise<void> {
    for (const e of entries) {
      if (e.endsWith('/')) {
        await mkdir(join(dist, e), { recursive: true });
        await writeFile(join(dist, e, e.slice(0, -1)), '#!/bin/sh\n', { mode: 0o755 });
      } else {
        await writeFile(join(dist, e), 'ELF onefile', { mode: 0o755 });
      }
    }
  }

  it.each<[string, string[], RegExp]>([
    ['no bundle at all', [], /^expected one onedir bundle in .*, found none; the spec must COLLECT exactly one app \(onedir, not onefile\)$/],
    ['two bundles', ['helix-studio/', 'helper/'], /^expected one onedir bundle in .*, found (helix-studio, helper|helper, helix-studio); the spec must COLLECT exactly one app/],
    ['a onedir bundle beside a onefile executable', ['helix-studio/', 'helix-studio-onefile'], /found .*helix-studio-onefile.*; the spec must COLLECT exactly one app/],
    ['a onefile executable only', ['helix-studio'], /^the spec built a onefile executable; helix-release ships onedir bundles \(use COLLECT\)$/],
  ])('throws PYINSTALLER_OUTPUT naming the spec for %s', async (_what, entries, message) => {
    await layout(entries);
    const err = await findBundle(dist, SPEC).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PYINSTALLER_OUTPUT', file: SPEC, message: expect.stringMatching(message) });
    if (entries.length !== 1) expect((err as Error).message).toContain(dist);
  });

  it('returns the name and folder of the one onedir bundle', async () => {
    await layout(['helix-studio/']);
    expect(await findBundle(dist, SPEC)).toEqual({ name: 'helix-studio', dir: join(dist, 'helix-studio') });
  });
});

describe('checkSmokeOutput', () => {
  it.each<[string, string, string]>([
    ['another version', 'helix-studio 1.3.9\n', '"helix-studio 1.3.9"'],
    ['another name', 'studio 1.4.0\n', '"studio 1.4.0"'],
    ['nothing', '', '""'],
    ['a traceback', 'Traceback (most recent call last):\n  File "main.py"\nImportError: no module named helix\n', '"Traceback (most recent call last):'],
    ['the version twice', 'helix-studio 1.4.0\nhelix-studio 1.4.0\n', '"helix-studio 1.4.0\\nhelix-studio 1.4.0"'],
  ])('throws PYINSTALLER_SMOKE naming pyproject.toml when --version prints %s', (_what, stdout, printed) => {
    let err: unknown;
    try {
      checkSmokeOutput(stdout, META, 'helix-studio', PYPROJECT);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'PYINSTALLER_SMOKE', file: PYPROJECT });
    const message = (err as Error).message;
    expect(message).toContain(`the built helix-studio --version printed ${printed}`);
    expect(message).toContain('expected "helix-studio 1.4.0"; keep the app\'s version in step with pyproject.toml');
  });

  it.each([['helix-studio 1.4.0'], ['helix-studio 1.4.0\n'], ['  helix-studio 1.4.0\r\n']])('accepts %j', (stdout) => {
    expect(() => checkSmokeOutput(stdout, META, 'helix-studio', PYPROJECT)).not.toThrow();
  });
});

describe('the app sources check (real python3)', () => {
  let app: string;
  beforeEach(async () => {
    app = await mkdtemp(join(tmpdir(), 'helix-pyi-app-'));
    for (const [rel, text] of Object.entries({
      'src/helix_app/__init__.py': '__version__ = "1.0"\n',
      'src/helix_app/cli.py': 'def main():\n    return 0\n',
      'packaging/entry.py': 'from helix_app.cli import main\n',
      'tests/test_broken.py': 'def oops(:\n',
      '.venv/pyvenv.cfg': 'home = /usr\n',
      '.venv/lib/x.py': 'def oops(:\n',
      'venv2/pyvenv.cfg': 'home = /usr\n',
      'venv2/lib/y.py': 'def oops(:\n',
      'src/helix_app/__pycache__/z.py': 'def oops(:\n',
      'README.md': 'not python\n',
    })) {
      await mkdir(join(app, rel, '..'), { recursive: true });
      await writeFile(join(app, rel), text);
    }
  });
  afterEach(async () => {
    await rm(app, { recursive: true, force: true });
  });

  it('lists the sources PyInstaller bundles, not tests, environments or caches', async () => {
    expect((await appSources(app)).map((f) => f.slice(app.length + 1))).toEqual(['packaging/entry.py', 'src/helix_app/__init__.py', 'src/helix_app/cli.py']);
  });

  it('passes sources that compile and writes no compiled file', async () => {
    await checkAppSources('python3', app, await appSources(app), {});
    const { readdir } = await import('node:fs/promises');
    const all = (await readdir(app, { recursive: true })).map(String);
    expect(all.filter((f) => f.endsWith('.pyc'))).toEqual([]);
  });

  it('names the file, line and column of a syntax error (APP_SOURCE_INVALID)', async () => {
    await writeFile(join(app, 'src/helix_app/cli.py'), 'import os\ndef main(:\n    return 0\n');
    const err = await checkAppSources('python3', app, await appSources(app), {}).catch((e: unknown) => e as Error & { code?: string; file?: string });
    expect(err).toBeInstanceOf(Error);
    expect(err!.code).toBe('APP_SOURCE_INVALID');
    expect(err!.file).toMatch(/^src\/helix_app\/cli\.py:2:\d+$/);
    expect(err!.message).toMatch(/^.+; the app's source does not compile/);
  });

  it('names a source file with a NUL byte', async () => {
    await writeFile(join(app, 'src/helix_app/__init__.py'), 'x = 1\0\n');
    const err = await checkAppSources('python3', app, await appSources(app), {}).catch((e: unknown) => e as Error & { code?: string; file?: string });
    expect(err!.code).toBe('APP_SOURCE_INVALID');
    expect(err!.file).toMatch(/^src\/helix_app\/__init__\.py/);
  });
});

describe('what a build may bundle', () => {
  it('clears the loader variables that are set, and unsets all of them', () => {
    const { cleared, unset } = clearedLoaderVariables({ LD_PRELOAD: '/usr/lib/faketime/libfaketime.so.1', PYTHONPATH: '', HOME: '/root' });
    expect(cleared).toEqual(['LD_PRELOAD']);
    expect(Object.keys(unset)).toEqual([...LOADER_VARIABLES]);
    expect(Object.values(unset).every((v) => v === undefined)).toBe(true);
  });

  it('finds entries collected from outside the allowed folders, by path component', () => {
    const allowed = ['/ws/dist/work/app', '/ws/app', '/opt/python3.11', '/usr/lib', '/lib'];
    const entries: [string, string][] = [
      ['libssl.so.3', '/lib/x86_64-linux-gnu/libssl.so.3'],
      ['base_library.zip', '/ws/dist/work/app/pyi-build/app/base_library.zip'],
      ['lib-dynload/_ssl.so', '/opt/python3.11/lib/python3.11/lib-dynload/_ssl.so'],
      ['libfaketime.so.1', '/home/me/faketime/libfaketime.so.1'],
      ['evil.so', '/opt/python3.11-evil/lib/evil.so'],
      ['up.so', '/ws/app/../elsewhere/up.so'],
      ['relative', 'not/absolute'],
    ];
    expect(foreignEntries(entries, allowed).map(([d]) => d)).toEqual(['libfaketime.so.1', 'evil.so', 'up.so']);
  });
});
