import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSmokeOutput, findBundle } from './package';

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
