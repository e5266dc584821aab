import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { bundledSbomPackages, debPurl, enrichSpdx, isSharedLibrary, verificationCode, type OsOrigin, type ZipContentFile } from './enrich';
import { parseDpkgSearch } from './contents';
import { normaliseSpdx, type SpdxDocument } from './normalise';

const hex = (algo: string, s: string) => createHash(algo).update(s).digest('hex');
const TOP = 'app-1.0.0-linux-x86_64';

/** A zip file of the fake bundle, its content the given text. */
function file(name: string, text = name, executable = false): ZipContentFile {
  return { name: `${TOP}/${name}`, sha256: hex('sha256', text), sha1: hex('sha1', text), executable, read: () => Buffer.from(text) };
}

const CDX = JSON.stringify({
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  metadata: { authors: [{ name: 'The cryptography developers', email: 'dev@example.invalid' }], component: { name: 'cryptography-rust', version: '0.50.2', purl: 'pkg:cargo/cryptography-rust@0.50.2' } },
  components: [
    { name: 'openssl', version: '4.0.3', purl: 'pkg:generic/openssl@4.0.3', hashes: [{ alg: 'SHA-256', content: 'AB'.repeat(32) }] },
    { name: 'pem', version: '4.0.0', author: 'Jonathan Creekmore <j@example.invalid>', purl: 'pkg:cargo/pem@4.0.0' },
  ],
});

const FILES = [
  file('app', 'bootloader+archive', true),
  file('_internal/libpython3.11.so.1.0', 'libpython'),
  file('_internal/python3.11/lib-dynload/_json.cpython-311-x86_64-linux-gnu.so', 'json'),
  file('_internal/base_library.zip', 'stdlib'),
  file('_internal/libcrypto.so.3', 'libcrypto'),
  file('_internal/libmystery.so.2', 'mystery'),
  file('_internal/cryptography/hazmat/bindings/_rust.abi3.so', 'rust'),
  file('_internal/cryptography-50.0.2.dist-info/METADATA', 'meta'),
  file('_internal/cryptography-50.0.2.dist-info/RECORD', 'cryptography/hazmat/bindings/_rust.abi3.so,sha256=x,4\ncryptography-50.0.2.dist-info/METADATA,sha256=y,4\ncryptography-50.0.2.dist-info/sboms/rust.cdx.json,,\ncryptography-50.0.2.dist-info/RECORD,,\n../../bin/x,,\n'),
  file('_internal/cryptography-50.0.2.dist-info/sboms/rust.cdx.json', CDX),
  file('_internal/helix_app/data.json', 'data'),
];

const LIBCRYPTO: OsOrigin = { name: 'libssl3', version: '3.0.19-1~deb12u2', arch: 'amd64', distro: 'debian', maintainer: 'Debian OpenSSL Team <ssl@example.invalid>', hostPath: '/usr/lib/x86_64-linux-gnu/libcrypto.so.3' };

/** syft's document of the fake bundle: a root file package, one pypi package, directories with the all-zero SHA1. */
function syftDoc(): SpdxDocument {
  const zero = [{ algorithm: 'SHA1', checksumValue: '0'.repeat(40) }];
  return {
    spdxVersion: 'SPDX-2.3',
    name: 'app.zip',
    documentNamespace: 'https://anchore.com/x',
    creationInfo: { created: '2031-01-01T00:00:00Z', creators: ['Organization: Anchore, Inc', 'Tool: syft-1.57.1'] },
    packages: [
      { name: 'app-1.0.0-linux-x86_64.zip', SPDXID: 'SPDXRef-DocumentRoot-File-app', versionInfo: '1.0.0', supplier: 'NOASSERTION', filesAnalyzed: false },
      { name: 'cryptography', SPDXID: 'SPDXRef-Package-python-cryptography', versionInfo: '50.0.2', supplier: 'NOASSERTION', originator: 'Person: PyCA', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:pypi/cryptography@50.0.2' }] },
      { name: 'six', SPDXID: 'SPDXRef-Package-python-six', versionInfo: '1.0', externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: 'pkg:pypi/six@1.0' }] },
    ],
    files: [
      { fileName: TOP, SPDXID: 'SPDXRef-File-dir', checksums: zero },
      { fileName: 'app-1.0.0-linux-x86_64.zip', SPDXID: 'SPDXRef-File-zip', checksums: zero },
      // syft leaves out base_library.zip here: enrichSpdx lists it itself.
      ...FILES.filter((f) => !f.name.endsWith('base_library.zip')).map((f, i) => ({ fileName: f.name, SPDXID: `SPDXRef-File-${i}`, checksums: [{ algorithm: 'SHA1', checksumValue: f.sha1 }, { algorithm: 'SHA256', checksumValue: f.sha256 }] })),
    ],
    relationships: [
      { spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: 'SPDXRef-DocumentRoot-File-app' },
      { spdxElementId: 'SPDXRef-File-zip', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-File-dir' },
      { spdxElementId: 'SPDXRef-DocumentRoot-File-app', relationshipType: 'CONTAINS', relatedSpdxElement: 'SPDXRef-Package-python-cryptography' },
    ],
  };
}

function enriched(origins: Map<string, OsOrigin> = new Map([[hex('sha256', 'libcrypto'), LIBCRYPTO]])): SpdxDocument {
  const args = { artifactPath: 'app-1.0.0-linux-x86_64.zip', sha256: 'cd'.repeat(32), sourceDateEpoch: 1_700_000_000, organization: 'Example Org' };
  const doc = normaliseSpdx(syftDoc(), args);
  enrichSpdx(doc, {
    artifact: { path: args.artifactPath, kind: 'installer', sha256: args.sha256, name: 'app', version: '1.0.0' },
    organization: 'Example Org',
    files: FILES,
    build: { python: '3.11.2', pyinstaller: '6.22.3', executable: `${TOP}/app`, wheels: [{ name: 'cryptography', version: '50.0.2', file: 'cryptography-50.0.2-cp311-abi3-manylinux_2_28_x86_64.whl', sha256: 'ef'.repeat(32) }] },
    osOrigins: origins,
  });
  return normaliseSpdx(doc, args);
}

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
