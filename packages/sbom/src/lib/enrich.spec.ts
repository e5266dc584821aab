import { describe, expect, it } from 'vitest';
import { bundledSbomPackages, debPurl, isSharedLibrary, verificationCode } from './enrich';
import { FILES, LIBCRYPTO, TOP, enriched, hex } from '../../testdata/fake-bundle';
import { parseDpkgSearch } from './contents';
import type { SpdxDocument } from './normalise';

const pkgByName = (doc: SpdxDocument, name: string) => doc.packages!.find((p) => p.name === name);
const purlOf = (p: { externalRefs?: { referenceType: string; referenceLocator: string }[] } | undefined) => p?.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
const containsOf = (doc: SpdxDocument, id: string) => doc.relationships!.filter((r) => r.spdxElementId === id && r.relationshipType === 'CONTAINS').map((r) => r.relatedSpdxElement);
const fileId = (doc: SpdxDocument, name: string) => doc.files!.find((f) => f.fileName === `${TOP}/${name}`)?.SPDXID;

describe('enrichSpdx', () => {
  it('makes the root package the product, with supplier, purl and the zip sha256; creators are helix-release and the organisation', () => {
    const doc = enriched();
    const root = doc.packages!.find((p) => p.SPDXID === 'SPDXRef-DocumentRoot-File-app')!;
    expect(root).toMatchObject({ name: 'app', versionInfo: '1.0.0', supplier: 'Organization: Example Org', packageFileName: 'app-1.0.0-linux-x86_64.zip', primaryPackagePurpose: 'APPLICATION' });
    expect(root.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: 'cd'.repeat(32) }]);
    expect(purlOf(root)).toBe('pkg:generic/app@1.0.0');
    expect(doc.creationInfo.creators).toEqual(['Tool: syft-1.57.1', expect.stringMatching(/^Tool: helix-release-\d/), 'Organization: Example Org']);
  });

  it('gives every package a supplier and a locked wheel its wheel sha256', () => {
    const doc = enriched();
    for (const p of doc.packages!) expect(p['supplier'], p.name).toMatch(/^(Organization|Person): \S/);
    expect(pkgByName(doc, 'cryptography')!['supplier']).toBe('Person: PyCA');
    expect(pkgByName(doc, 'six')!['supplier']).toBe('Organization: PyPI project six');
    expect(pkgByName(doc, 'cryptography')!.checksums).toEqual([{ algorithm: 'SHA256', checksumValue: 'ef'.repeat(32) }]);
    expect(pkgByName(doc, 'six')!.checksums).toBeUndefined();
  });

  it('drops the all-zero SHA1 entries and what names them, and lists every zip file with SHA1 and SHA256', () => {
    const doc = enriched();
    expect(doc.files!.some((f) => f.checksums?.some((c) => c.checksumValue === '0'.repeat(40)))).toBe(false);
    const ids = new Set(doc.files!.map((f) => f.SPDXID));
    for (const r of doc.relationships!) if (r.relatedSpdxElement.startsWith('SPDXRef-File')) expect(ids.has(r.relatedSpdxElement)).toBe(true);
    for (const f of FILES) {
      const entry = doc.files!.find((e) => e.fileName === f.name);
      expect(entry?.checksums, f.name).toEqual([{ algorithm: 'SHA1', checksumValue: f.sha1 }, { algorithm: 'SHA256', checksumValue: f.sha256 }]);
    }
  });

  it('adds the Python runtime, the bootloader and the OS package of a host library; an unknown library stays a file with a NOASSERTION origin', () => {
    const doc = enriched();
    const root = 'SPDXRef-DocumentRoot-File-app';
    const python = pkgByName(doc, 'python')!;
    expect(python).toMatchObject({ versionInfo: '3.11.2', checksums: [{ algorithm: 'SHA256', checksumValue: hex('sha256', 'libpython') }] });
    expect(purlOf(python)).toBe('pkg:generic/python@3.11.2');
    expect(containsOf(doc, python.SPDXID).sort()).toEqual([fileId(doc, '_internal/libpython3.11.so.1.0'), fileId(doc, '_internal/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so'), fileId(doc, '_internal/base_library.zip')].sort());
    const boot = pkgByName(doc, 'pyinstaller-bootloader')!;
    expect(purlOf(boot)).toBe('pkg:pypi/pyinstaller@6.22.3');
    expect(containsOf(doc, boot.SPDXID)).toEqual([fileId(doc, 'app')]);
    const ssl = pkgByName(doc, 'libssl3')!;
    expect(purlOf(ssl)).toBe('pkg:deb/debian/libssl3@3.0.19-1~deb12u2?arch=amd64');
    expect(ssl['supplier']).toBe('Organization: Debian OpenSSL Team (ssl@example.invalid)');
    expect(containsOf(doc, ssl.SPDXID)).toEqual([fileId(doc, '_internal/libcrypto.so.3')]);
    for (const p of [python, boot, ssl]) expect(containsOf(doc, root)).toContain(p.SPDXID);
    const mystery = doc.files!.find((f) => f.fileName.endsWith('libmystery.so.2'))!;
    expect(mystery['comment']).toMatch(/origin: NOASSERTION/);
    // What no package claims belongs to the root.
    expect(containsOf(doc, root)).toEqual(expect.arrayContaining([mystery.SPDXID, fileId(doc, '_internal/helix_app/data.json')]));
  });

  it('gives a wheel the files its RECORD lists (its vendored native code too) and merges the components of its bundled SBOM', () => {
    const doc = enriched();
    const crypto = pkgByName(doc, 'cryptography')!;
    const held = containsOf(doc, crypto.SPDXID);
    expect(held).toContain(fileId(doc, '_internal/cryptography/hazmat/bindings/_rust.abi3.so'));
    expect(held).toContain(fileId(doc, '_internal/cryptography-50.0.2.dist-info/sboms/rust.cdx.json'));
    const openssl = doc.packages!.find((p) => purlOf(p) === 'pkg:generic/openssl@4.0.3')!;
    expect(openssl).toMatchObject({ versionInfo: '4.0.3', supplier: 'Organization: The cryptography developers (dev@example.invalid)', checksums: [{ algorithm: 'SHA256', checksumValue: 'ab'.repeat(32) }] });
    expect(held).toContain(openssl.SPDXID);
    expect(pkgByName(doc, 'pem')!['supplier']).toBe('Person: Jonathan Creekmore (j@example.invalid)');
    expect(held).toContain(pkgByName(doc, 'cryptography-rust')!.SPDXID);
  });

  it('marks packages that contain files as analysed, with their verification code', () => {
    const doc = enriched();
    const ssl = pkgByName(doc, 'libssl3')!;
    expect(ssl['filesAnalyzed']).toBe(true);
    expect(ssl['packageVerificationCode']).toEqual({ packageVerificationCodeValue: verificationCode([hex('sha1', 'libcrypto')]) });
    expect(verificationCode(['b', 'a'])).toBe(hex('sha1', 'ab'));
    expect(pkgByName(doc, 'six')!['filesAnalyzed']).toBeUndefined();
  });

  it('gives the same document for the same inputs, and without OS origins lists host libraries as files', () => {
    expect(JSON.stringify(enriched())).toBe(JSON.stringify(enriched()));
    const doc = enriched(new Map());
    expect(pkgByName(doc, 'libssl3')).toBeUndefined();
    expect(doc.files!.find((f) => f.fileName.endsWith('libcrypto.so.3'))!['comment']).toMatch(/origin: NOASSERTION/);
  });
});

describe('helpers', () => {
  it.each([
    ['libcrypto.so.3', true],
    ['_rust.abi3.so', true],
    ['libpython3.11.so.1.0', true],
    ['x/libfoo.so', true],
    ['solver.py', false],
    ['lib.sod', false],
  ])('isSharedLibrary(%s) = %s', (name, want) => expect(isSharedLibrary(name)).toBe(want));

  it('parses dpkg -S output in path order, skipping diversions', () => {
    const out = 'libssl3:amd64: /usr/lib/x86_64-linux-gnu/libcrypto.so.3\ndiversion by x from: /a\nlibz1, zlib1g:amd64: /lib/libz.so.1\n';
    expect(parseDpkgSearch(out)).toEqual([
      { pkg: 'libz1', path: '/lib/libz.so.1' },
      { pkg: 'zlib1g:amd64', path: '/lib/libz.so.1' },
      { pkg: 'libssl3:amd64', path: '/usr/lib/x86_64-linux-gnu/libcrypto.so.3' },
    ]);
  });

  it('writes deb purls with the version percent-encoded', () => {
    expect(debPurl({ ...LIBCRYPTO, name: 'zlib1g', version: '1:1.2.13.dfsg-1' })).toBe('pkg:deb/debian/zlib1g@1%3A1.2.13.dfsg-1?arch=amd64');
  });

  it('reads SPDX bundled SBOMs too, and ignores what is not JSON', () => {
    const spdx = JSON.stringify({ spdxVersion: 'SPDX-2.3', packages: [{ name: 'zstd', SPDXID: 'x', versionInfo: '1.5', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:generic/zstd@1.5' }] }] });
    const got = bundledSbomPackages(spdx, { id: 'SPDXRef-owner', supplier: 'Organization: Owner', source: 's.spdx.json' });
    expect(got.map((p) => [p.name, p.versionInfo, p['supplier'], purlOf(p)])).toEqual([['zstd', '1.5', 'Organization: Owner', 'pkg:generic/zstd@1.5']]);
    expect(bundledSbomPackages('not json', { id: 'a', supplier: 'b', source: 'c' })).toEqual([]);
  });
});
