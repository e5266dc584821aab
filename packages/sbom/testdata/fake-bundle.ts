/**
 * A fake PyInstaller bundle for the sbom stage's unit tests: its zip files,
 * the SPDX document syft would write of it, and that document enriched and
 * normalised as the stage does (enrich.spec.ts, cyclonedx.spec.ts).
 */
import { createHash } from 'node:crypto';
import { enrichSpdx, type OsOrigin, type ZipContentFile } from '../src/lib/enrich';
import { normaliseSpdx, type SpdxDocument } from '../src/lib/normalise';

/** The hex digest of `s`. */
export const hex = (algo: string, s: string) => createHash(algo).update(s).digest('hex');
/** The bundle's top folder. */
export const TOP = 'app-1.0.0-linux-x86_64';

/** A zip file of the fake bundle, its content the given text. */
export function file(name: string, text = name, executable = false): ZipContentFile {
  return { name: `${TOP}/${name}`, sha256: hex('sha256', text), sha1: hex('sha1', text), executable, read: () => Buffer.from(text) };
}

/** The CycloneDX SBOM the fake cryptography wheel bundles. */
export const CDX = JSON.stringify({
  bomFormat: 'CycloneDX',
  specVersion: '1.5',
  metadata: { authors: [{ name: 'The cryptography developers', email: 'dev@example.invalid' }], component: { name: 'cryptography-rust', version: '0.50.2', purl: 'pkg:cargo/cryptography-rust@0.50.2' } },
  components: [
    { name: 'openssl', version: '4.0.3', purl: 'pkg:generic/openssl@4.0.3', hashes: [{ alg: 'SHA-256', content: 'AB'.repeat(32) }] },
    { name: 'pem', version: '4.0.0', author: 'Jonathan Creekmore <j@example.invalid>', purl: 'pkg:cargo/pem@4.0.0' },
  ],
});

/** The files of the fake bundle's zip. */
export const FILES = [
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

/** The OS origin of the bundled libcrypto. */
export const LIBCRYPTO: OsOrigin = { name: 'libssl3', version: '3.0.19-1~deb12u2', arch: 'amd64', distro: 'debian', maintainer: 'Debian OpenSSL Team <ssl@example.invalid>', hostPath: '/usr/lib/x86_64-linux-gnu/libcrypto.so.3' };

/** syft's document of the fake bundle: a root file package, one pypi package, directories with the all-zero SHA1. */
export function syftDoc(): SpdxDocument {
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

/** syft's document enriched and normalised as the sbom stage does it. */
export function enriched(origins: Map<string, OsOrigin> = new Map([[hex('sha256', 'libcrypto'), LIBCRYPTO]])): SpdxDocument {
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
