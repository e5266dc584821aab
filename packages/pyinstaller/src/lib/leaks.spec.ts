import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST_OWNERS, leakMessage, leakedDistributions } from './leaks';

describe('what the build environment may not add to a bundle', () => {
  let site: string;
  beforeAll(async () => {
    // A site-packages with the app's cffi and the toolchain's setuptools and PyInstaller.
    site = await mkdtemp(join(tmpdir(), 'helix-leaks-'));
    const dist = async (name: string, version: string, files: string[]) => {
      const info = join(site, `${name.replace(/-/g, '_')}-${version}.dist-info`);
      await mkdir(info, { recursive: true });
      await writeFile(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\n\nbody\nName: not-this\n`);
      const rel = `${name.replace(/-/g, '_')}-${version}.dist-info`;
      await writeFile(join(info, 'RECORD'), [...files, `${rel}/METADATA`, `${rel}/RECORD`].map((f) => `${f},,`).join('\n') + '\n');
      for (const f of files) {
        await mkdir(join(site, f, '..'), { recursive: true });
        await writeFile(join(site, f), '');
      }
    };
    await dist('cffi', '2.1.1', ['cffi/__init__.py', '_cffi_backend.cpython-311-x86_64-linux-gnu.so']);
    await dist('setuptools', '84.2.1', ['setuptools/__init__.py', 'pkg_resources/__init__.py', 'setuptools/_vendor/importlib_metadata/__init__.py']);
    await dist('PyInstaller', '6.22.3', ['PyInstaller/loader/pyimod02_importers.py']);
  });
  afterAll(async () => rm(site, { recursive: true, force: true }));

  const owners = () => JSON.parse(execFileSync('python3', ['-c', DIST_OWNERS, site], { encoding: 'utf8' })) as Record<string, [string, string]>;

  it('reads which distribution owns each file from the RECORDs, with the name and version of METADATA', () => {
    const o = owners();
    expect(o[join(site, 'pkg_resources/__init__.py')]).toEqual(['setuptools', '84.2.1']);
    expect(o[join(site, 'cffi/__init__.py')]).toEqual(['cffi', '2.1.1']);
    expect(o[join(site, 'PyInstaller/loader/pyimod02_importers.py')]).toEqual(['PyInstaller', '6.22.3']);
  });

  it('names a package the bundle takes that the lock does not hold, and allows the locked ones and the bundler\'s own', () => {
    const entries: [string, string][] = [
      ['cffi', join(site, 'cffi/__init__.py')],
      ['pkg_resources', join(site, 'pkg_resources/__init__.py')],
      ['setuptools', join(site, 'setuptools/__init__.py')],
      ['importlib_metadata', join(site, 'setuptools/_vendor/importlib_metadata/__init__.py')],
      ['pyimod02_importers', join(site, 'PyInstaller/loader/pyimod02_importers.py')],
      ['json', '/usr/lib/python3.11/json/__init__.py'],
    ];
    expect(leakedDistributions(entries, owners(), ['cffi'])).toEqual([{ name: 'setuptools', version: '84.2.1', entries: ['importlib_metadata', 'pkg_resources', 'setuptools'] }]);
    // Locked (in any spelling of the name), it is no leak.
    expect(leakedDistributions(entries, owners(), ['CFFI', 'SetupTools'])).toEqual([]);
    // Without the lock's cffi, cffi leaks too.
    expect(leakedDistributions(entries, owners(), []).map((l) => l.name)).toEqual(['cffi', 'setuptools']);
  });

  it('says which lock to add it to, with the pin and how to leave it out instead', () => {
    const message = leakMessage([{ name: 'setuptools', version: '84.2.1', entries: ['importlib_metadata', 'pkg_resources', 'setuptools'] }], 'workspace-fixtures/studio/requirements.txt');
    expect(message).toContain('setuptools 84.2.1 (3 entries, e.g. importlib_metadata, pkg_resources, setuptools)');
    expect(message).toContain('add setuptools==84.2.1 with its --hash lines to workspace-fixtures/studio/requirements.txt');
    expect(message).toContain("Analysis(excludes=[...])");
  });
});
