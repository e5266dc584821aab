import { describe, it, expect } from 'vitest';
import type { LockedPackage } from '@helix-release/core';
import { crossCheckLock } from './cross-check';
import type { SpdxDocument, SpdxPackage } from './normalise';

const SBOM_FILE = '/ws/dist/release/SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json';
const TARGET = { platform: 'linux-x86_64', python: '3.11.7', sbomFile: SBOM_FILE, lockFile: 'apps/studio/requirements.txt' };

const locked = (name: string, version: string, marker = ''): LockedPackage => ({ name, version, marker, hashes: [] });
const LOCK = [locked('cffi', '2.1.1'), locked('cryptography', '50.0.2'), locked('pywin32', '306', "sys_platform == 'win32'")];

/** A syft-like package; `purl` defaults to `pkg:pypi/<name>@<version>`. */
function pkg(name: string, version: string, purl = `pkg:pypi/${name}@${version}`, referenceType = 'purl'): SpdxPackage {
  return {
    name,
    SPDXID: `SPDXRef-Package-python-${name}-${version}`,
    versionInfo: version,
    externalRefs: [
      { referenceCategory: 'SECURITY', referenceType: 'cpe23Type', referenceLocator: `cpe:2.3:a:python-${name}:${name}:${version}:*:*:*:*:*:*:*` },
      { referenceCategory: 'PACKAGE-MANAGER', referenceType, referenceLocator: purl },
    ],
  };
}
const doc = (...packages: SpdxPackage[]): SpdxDocument => ({
  spdxVersion: 'SPDX-2.3',
  name: 'helix-studio-1.4.0-linux-x86_64.zip',
  documentNamespace: 'https://anchore.com/syft/file/x',
  creationInfo: { created: '2025-01-01T00:00:00Z', creators: ['Tool: syft-1.57.1'] },
  packages,
});

describe('crossCheckLock', () => {
  it.each<[string, SpdxDocument, 'SBOM_LOCK_MISSING' | 'SBOM_LOCK_VERSION', string]>([
    ['a locked package is not in the SBOM', doc(pkg('cffi', '2.1.1')), 'SBOM_LOCK_MISSING', 'locked package cryptography==50.0.2 (apps/studio/requirements.txt) is not in the SBOM; the bundle lacks it or its *.dist-info'],
    ['the SBOM is empty', doc(), 'SBOM_LOCK_MISSING', 'locked package cffi==2.1.1 (apps/studio/requirements.txt) is not in the SBOM'],
    ['it is listed with a non-pypi purl only', doc(pkg('cffi', '2.1.1'), pkg('cryptography', '50.0.2', 'pkg:generic/cryptography@50.0.2')), 'SBOM_LOCK_MISSING', 'locked package cryptography==50.0.2 (apps/studio/requirements.txt) is not in the SBOM'],
    ['its purl is not marked as a purl', doc(pkg('cffi', '2.1.1'), pkg('cryptography', '50.0.2', 'pkg:pypi/cryptography@50.0.2', 'other')), 'SBOM_LOCK_MISSING', 'locked package cryptography==50.0.2'],
    ['a locked package is at another version', doc(pkg('cffi', '2.1.0'), pkg('cryptography', '50.0.2')), 'SBOM_LOCK_VERSION', 'locked package cffi==2.1.1 appears in the SBOM as 2.1.0; the bundle was not built from the locked set'],
    ['a locked package is at two other versions', doc(pkg('cffi', '2.1.1'), pkg('cryptography', '49.0.0'), pkg('cryptography', '48.0.1')), 'SBOM_LOCK_VERSION', 'locked package cryptography==50.0.2 appears in the SBOM as 49.0.0, 48.0.1'],
  ])('throws %s as %s naming the SBOM file', (_what, sbom, code, message) => {
    let err: unknown;
    try {
      crossCheckLock(sbom, LOCK, TARGET);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code, file: SBOM_FILE });
    expect((err as Error).message).toContain(message);
  });

  it('passes when every applicable locked package is there at its version, matching names as PyPI normalises them', () => {
    const lock = [...LOCK, locked('typing-extensions', '4.15.0')];
    const sbom = doc(pkg('CFFI', '2.1.1'), pkg('cryptography', '50.0.2'), pkg('Typing_Extensions', '4.15.0'), pkg('pip', '25.3'));
    expect(crossCheckLock(sbom, lock, TARGET)).toEqual({
      checked: ['cffi==2.1.1', 'cryptography==50.0.2', 'typing-extensions==4.15.0'],
      notApplicable: ['pywin32==306'],
      unlocked: ['pip'],
    });
    // The same lock on Windows needs pywin32.
    expect(() => crossCheckLock(sbom, lock, { ...TARGET, platform: 'windows-x86_64' })).toThrow(expect.objectContaining({ code: 'SBOM_LOCK_MISSING', message: expect.stringContaining('pywin32==306') }));
  });
});
