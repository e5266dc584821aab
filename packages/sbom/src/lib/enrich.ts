/**
 * What syft does not say about a PyInstaller bundle, added to its SPDX
 * document so that the SBOM describes what the artifact ships (issue 14):
 *
 * - the described root package is the product (app or plugin): name,
 *   version, supplier, `pkg:generic/<name>@<version>` and the zip's sha256;
 * - the Python runtime (libpython and lib-dynload), the PyInstaller
 *   bootloader (the executable), each locked wheel with its wheel sha256 and
 *   the files its RECORD lists, each native library by its origin (a wheel's
 *   RECORD, else the OS package that owns a byte-identical host file), and
 *   the components the wheels declare in their own SBOMs (PEP 770,
 *   `*.dist-info/sboms/*.json`), each with the relationships that say which
 *   holds which;
 * - every file of the zip stays listed as a file with its digests; entries
 *   with syft's all-zero SHA1 (directories, and the archive itself, which
 *   the root package describes) are dropped: an SPDX 2.3 file must carry a
 *   real SHA1 and a directory has none.
 *
 * Everything here is a pure function of the zip's bytes, the build record
 * and the OS origins looked up beforehand (deb.ts), so a rebuild gives the
 * same document.
 */
import { createHash } from 'node:crypto';
import type { InstalledWheel } from '@helix-release/core';
import type { SpdxDocument, SpdxPackage } from './normalise';

/** One file of the artifact's zip. */
export interface ZipContentFile {
  /** Entry name, `/`-separated, as the zip holds it. */
  name: string;
  sha256: string;
  sha1: string;
  /** Whether the Unix mode has an executable bit. */
  executable: boolean;
  /** The entry's bytes (read only for RECORDs and bundled SBOMs). */
  read(): Buffer;
}

/** The OS package that owns a byte-identical copy of a bundled library on the build host. */
export interface OsOrigin {
  /** Package name, e.g. `libssl3`. */
  name: string;
  version: string;
  arch: string;
  /** The distribution, for the purl namespace (`debian`, `ubuntu`). */
  distro: string;
  /** `Maintainer` of the package, when dpkg knows it. */
  maintainer?: string;
  /** The host file found identical. */
  hostPath: string;
}

/** What the build of an installer recorded (the package stage's record). */
export interface BuildFacts {
  python?: string;
  pyinstaller?: string;
  executable?: string;
  wheels?: readonly InstalledWheel[];
}

/** Everything enrichSpdx needs besides syft's document. */
export interface EnrichInput {
  artifact: { path: string; kind: string; sha256: string; name?: string; version?: string };
  /** The organisation that releases the artifact (SPDX `Organization:` value). */
  organization: string;
  /** The zip's files, when the artifact is a zip. */
  files?: readonly ZipContentFile[];
  build?: BuildFacts;
  /** OS origin of bundled native libraries, by the library's sha256. */
  osOrigins?: ReadonlyMap<string, OsOrigin>;
}

type SpdxFile = NonNullable<SpdxDocument['files']>[number];

const ZERO_SHA1 = '0'.repeat(40);
const NOASSERTION = 'NOASSERTION';

/** A native shared library's file name (`libz.so.1`, `_rust.abi3.so`). */
export const isSharedLibrary = (name: string): boolean => /\.so(\.[0-9A-Za-z_.-]*)?$/.test(name.split('/').pop() ?? '');

/** The PEP 503 normalised name of a Python project. */
const pep503 = (name: string) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** An SPDX id of letters, digits, `.` and `-`, unique by `key`. */
function spdxId(kind: string, label: string, key: string): string {
  const safe = label.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '') || 'x';
  return `SPDXRef-Package-${kind}-${safe}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

/** An SPDX package with the fields NTIA and spdx-tools ask for. */
function newPackage(p: { id: string; name: string; version?: string; supplier: string; purl?: string; sha256?: string; license?: string; comment?: string; purpose?: string }): SpdxPackage {
  return {
    SPDXID: p.id,
    name: p.name,
    versionInfo: p.version ?? NOASSERTION,
    supplier: p.supplier,
    downloadLocation: NOASSERTION,
    filesAnalyzed: false,
    licenseConcluded: NOASSERTION,
    licenseDeclared: p.license ?? NOASSERTION,
    copyrightText: NOASSERTION,
    ...(p.purpose ? { primaryPackagePurpose: p.purpose } : {}),
    ...(p.purl ? { externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: p.purl }] } : {}),
    ...(p.sha256 ? { checksums: [{ algorithm: 'SHA256', checksumValue: p.sha256 }] } : {}),
    ...(p.comment ? { comment: p.comment } : {}),
  };
}

/** `Organization: <name>` (or `Person:`) as SPDX writes a supplier, with characters spdx-tools accepts. */
export function supplierOf(kind: 'Organization' | 'Person', name: string, email?: string): string {
  const clean = name.replace(/[()\n\r]+/g, ' ').replace(/\s+/g, ' ').trim();
  return `${kind}: ${clean}${email ? ` (${email.trim()})` : ''}`;
}

/** The supplier of a maintainer string `Name <mail>` (dpkg's `Maintainer`, a CycloneDX `author`). */
function supplierOfContact(contact: string, kind: 'Organization' | 'Person'): string {
  const m = /^([^<]*)<([^>]+)>\s*$/.exec(contact);
  return m ? supplierOf(kind, m[1]!.trim() || m[2]!, m[2]) : supplierOf(kind, contact);
}

/** `pkg:deb/<distro>/<name>@<version>?arch=<arch>`. */
export function debPurl(o: OsOrigin): string {
  return `pkg:deb/${o.distro}/${encodeURIComponent(o.name)}@${encodeURIComponent(o.version)}?arch=${encodeURIComponent(o.arch)}`;
}

const PURPOSES: Record<string, string> = { installer: 'APPLICATION', plugin: 'LIBRARY' };

/** A CycloneDX component (the fields we read). */
interface CdxComponent {
  name?: string;
  version?: string;
  purl?: string;
  group?: string;
  author?: string;
  supplier?: { name?: string };
  publisher?: string;
  hashes?: { alg?: string; content?: string }[];
  components?: CdxComponent[];
}

const CDX_ALG: Record<string, string> = { 'SHA-1': 'SHA1', 'SHA-256': 'SHA256', 'SHA-384': 'SHA384', 'SHA-512': 'SHA512', MD5: 'MD5', 'SHA3-256': 'SHA3-256', 'SHA3-512': 'SHA3-512', 'BLAKE2b-256': 'BLAKE2b-256' };

/** The components a wheel's bundled SBOM (CycloneDX or SPDX JSON) declares, as SPDX packages. */
export function bundledSbomPackages(text: string, owner: { id: string; supplier: string; source: string }): SpdxPackage[] {
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return [];
  }
  const out: SpdxPackage[] = [];
  const comment = `declared by the bundled SBOM ${owner.source}`;
  if (doc['bomFormat'] === 'CycloneDX') {
    const metadata = (doc['metadata'] ?? {}) as { component?: CdxComponent; authors?: { name?: string; email?: string }[] };
    const author = metadata.authors?.find((a) => a.name);
    const fallback = author ? supplierOf('Organization', author.name!, author.email) : owner.supplier;
    const walk = (c: CdxComponent) => {
      if (c.name) {
        const name = c.group ? `${c.group}/${c.name}` : c.name;
        const supplier = c.supplier?.name ? supplierOf('Organization', c.supplier.name) : c.publisher ? supplierOf('Organization', c.publisher) : c.author ? supplierOfContact(c.author, 'Person') : fallback;
        const pkg = newPackage({ id: spdxId('bundled', name, `${owner.id}\u0000${c.purl ?? `${name}@${c.version ?? ''}`}`), name, version: c.version, supplier, purl: c.purl, comment });
        const checksums = (c.hashes ?? []).filter((h) => h.alg && CDX_ALG[h.alg] && /^[0-9a-fA-F]+$/.test(h.content ?? '')).map((h) => ({ algorithm: CDX_ALG[h.alg!]!, checksumValue: h.content!.toLowerCase() }));
        if (checksums.length) pkg.checksums = checksums;
        out.push(pkg);
      }
      for (const sub of c.components ?? []) walk(sub);
    };
    if (metadata.component) walk(metadata.component);
    for (const c of (doc['components'] ?? []) as CdxComponent[]) walk(c);
  } else if (typeof doc['spdxVersion'] === 'string') {
    for (const p of (doc['packages'] ?? []) as SpdxPackage[]) {
      if (!p.name) continue;
      const purl = p.externalRefs?.find((r) => r.referenceType === 'purl')?.referenceLocator;
      const supplier = typeof p['supplier'] === 'string' && p['supplier'] !== NOASSERTION ? (p['supplier'] as string) : owner.supplier;
      const pkg = newPackage({ id: spdxId('bundled', p.name, `${owner.id}\u0000${purl ?? `${p.name}@${p.versionInfo ?? ''}`}`), name: p.name, version: p.versionInfo, supplier, purl, comment });
      if (p.checksums?.length) pkg.checksums = p.checksums.map((c) => ({ algorithm: c.algorithm, checksumValue: c.checksumValue }));
      out.push(pkg);
    }
  }
  return out;
}

/** The files a wheel's `RECORD` lists, as paths relative to the folder holding its dist-info. */
function recordPaths(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => (line.startsWith('"') ? (/^"((?:[^"]|"")*)"/.exec(line)?.[1] ?? '').replace(/""/g, '"') : line.split(',')[0]!))
    .filter((p) => p && !p.startsWith('/') && !p.split('/').includes('..'));
}

/**
 * Adds to a (normalised) syft document what the artifact ships, in place;
 * call normaliseSpdx afterwards to sort it.
 */
export function enrichSpdx(doc: SpdxDocument, input: EnrichInput): SpdxDocument {
  const org = supplierOf('Organization', input.organization);
  const packages = (doc.packages ??= []);
  const relationships = (doc.relationships ??= []);

  // The all-zero SHA1 syft gives directories (and the scanned archive): not a digest. Dropped with what names them.
  const dropped = new Set((doc.files ?? []).filter((f) => f.checksums?.some((c) => c.algorithm === 'SHA1' && c.checksumValue === ZERO_SHA1)).map((f) => f.SPDXID));
  doc.files = (doc.files ?? []).filter((f) => !dropped.has(f.SPDXID));
  doc.relationships = relationships.filter((r) => !dropped.has(r.spdxElementId) && !dropped.has(r.relatedSpdxElement));
  const rels = doc.relationships;
  const addRel = (a: string, type: string, b: string) => {
    if (!rels.some((r) => r.spdxElementId === a && r.relationshipType === type && r.relatedSpdxElement === b)) rels.push({ spdxElementId: a, relationshipType: type, relatedSpdxElement: b });
  };

  // The root: the product itself.
  const rootId = rels.find((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES' && packages.some((p) => p.SPDXID === r.relatedSpdxElement))?.relatedSpdxElement;
  let root = packages.find((p) => p.SPDXID === rootId);
  if (!root) {
    root = newPackage({ id: 'SPDXRef-DocumentRoot', name: input.artifact.path, supplier: org });
    packages.push(root);
    addRel('SPDXRef-DOCUMENT', 'DESCRIBES', root.SPDXID);
  }
  const fileName = input.artifact.path.split('/').pop()!;
  const productName = input.artifact.name ?? fileName;
  const version = input.artifact.version ?? root.versionInfo ?? NOASSERTION;
  Object.assign(root, {
    name: productName,
    versionInfo: version,
    supplier: org,
    packageFileName: fileName,
    checksums: [{ algorithm: 'SHA256', checksumValue: input.artifact.sha256 }],
    primaryPackagePurpose: PURPOSES[input.artifact.kind] ?? (root['primaryPackagePurpose'] as string | undefined) ?? 'FILE',
  });
  const purl = `pkg:generic/${encodeURIComponent(productName)}@${encodeURIComponent(version)}`;
  root.externalRefs = [...(root.externalRefs ?? []).filter((r) => r.referenceType !== 'purl'), { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }];

  // Every zip file has a file entry with SHA1 and SHA256 (syft's, or ours when syft left one out).
  const fileIds = new Map<string, string>();
  for (const f of doc.files) fileIds.set(f.fileName.replace(/^\/+/, '').replace(/^\.\//, ''), f.SPDXID);
  const files = input.files ?? [];
  for (const f of files) {
    if (fileIds.has(f.name)) continue;
    const id = `SPDXRef-File-helix-${createHash('sha256').update(f.name).digest('hex').slice(0, 16)}`;
    doc.files.push({ fileName: f.name, SPDXID: id, checksums: [{ algorithm: 'SHA1', checksumValue: f.sha1 }, { algorithm: 'SHA256', checksumValue: f.sha256 }], licenseConcluded: NOASSERTION, copyrightText: NOASSERTION } as SpdxFile);
    fileIds.set(f.name, id);
    addRel(root.SPDXID, 'CONTAINS', id);
  }
  const byName = new Map(files.map((f) => [f.name, f]));
  const claimed = new Set<string>();
  const contains = (pkg: string, file: string) => {
    const id = fileIds.get(file);
    if (id) addRel(pkg, 'CONTAINS', id);
    claimed.add(file);
  };

  // Every package carries a supplier; a PyPI package's is its originator (its METADATA author).
  for (const p of packages) {
    if (p === root) continue;
    const supplier = p['supplier'];
    if (typeof supplier === 'string' && supplier !== NOASSERTION) continue;
    const originator = p['originator'];
    const pypi = p.externalRefs?.some((r) => r.referenceType === 'purl' && r.referenceLocator.startsWith('pkg:pypi/'));
    p['supplier'] = typeof originator === 'string' && originator !== NOASSERTION ? originator : pypi ? supplierOf('Organization', `PyPI project ${p.name}`) : org;
  }

  // Locked wheels: their wheel sha256, the files of their RECORD, the SBOMs they bundle.
  const wheels = new Map((input.build?.wheels ?? []).map((w) => [`${pep503(w.name)}@${w.version}`, w]));
  const distInfos = files.filter((f) => /(^|\/)[^/]+\.dist-info\/RECORD$/.test(f.name));
  for (const p of packages) {
    const m = p.externalRefs?.map((r) => /^pkg:pypi\/([^@?#]+)@([^?#]+)/.exec(r.referenceLocator)).find(Boolean);
    if (!m) continue;
    const name = pep503(decodeURIComponent(m[1]!));
    const ver = decodeURIComponent(m[2]!);
    const wheel = wheels.get(`${name}@${ver}`);
    if (wheel && !(p.checksums ?? []).some((c) => c.algorithm === 'SHA256')) {
      p.checksums = [...(p.checksums ?? []), { algorithm: 'SHA256', checksumValue: wheel.sha256 }];
      if (!p['packageFileName']) p['packageFileName'] = wheel.file;
    }
    const record = distInfos.find((f) => {
      const dir = /([^/]+)-([^-/]+)\.dist-info\/RECORD$/.exec(f.name);
      return dir && pep503(dir[1]!) === name && dir[2] === ver;
    });
    if (!record) continue;
    const base = record.name.replace(/[^/]+\.dist-info\/RECORD$/, '');
    for (const rp of recordPaths(record.read().toString('utf8'))) if (byName.has(base + rp)) contains(p.SPDXID, base + rp);
    const distInfo = record.name.replace(/RECORD$/, '');
    for (const sbom of files.filter((f) => f.name.startsWith(`${distInfo}sboms/`) && f.name.endsWith('.json')).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      for (const bundled of bundledSbomPackages(sbom.read().toString('utf8'), { id: p.SPDXID, supplier: p['supplier'] as string, source: sbom.name })) {
        if (packages.some((q) => q.SPDXID === bundled.SPDXID)) continue;
        packages.push(bundled);
        addRel(p.SPDXID, 'CONTAINS', bundled.SPDXID);
      }
    }
  }

  // The Python runtime: libpython, the standard library's extension modules and the frozen base library.
  const libpython = files.find((f) => /(^|\/)libpython3[0-9.]*\.so[0-9.]*$/.test(f.name));
  if (libpython) {
    const version = input.build?.python ?? /libpython(3\.[0-9]+)/.exec(libpython.name)![1]!;
    const origin = input.osOrigins?.get(libpython.sha256);
    const id = spdxId('python', 'python', `python@${version}`);
    packages.push(newPackage({
      id,
      name: 'python',
      version,
      supplier: supplierOf('Organization', 'Python Software Foundation'),
      purl: `pkg:generic/python@${encodeURIComponent(version)}`,
      sha256: libpython.sha256,
      license: 'PSF-2.0',
      purpose: 'LIBRARY',
      comment: `The CPython runtime the bundle was built with: ${libpython.name.split('/').pop()}${origin ? ` (identical to ${origin.hostPath} of ${origin.distro} package ${origin.name} ${origin.version} ${origin.arch})` : ''}, the standard library's extension modules and base_library.zip.`,
    }));
    addRel(root.SPDXID, 'CONTAINS', id);
    for (const f of files) {
      if (f === libpython || /(^|\/)python3\.[0-9]+\/lib-dynload\//.test(f.name) || /(^|\/)base_library\.zip$/.test(f.name)) contains(id, f.name);
    }
  }

  // The PyInstaller bootloader: the executable at the top of the bundle.
  const pyinstaller = input.build?.pyinstaller;
  const executable = input.build?.executable ?? (libpython ? files.find((f) => f.executable && f.name.split('/').length === 2)?.name : undefined);
  if (pyinstaller && executable && byName.has(executable)) {
    const id = spdxId('pyinstaller', 'pyinstaller-bootloader', `pyinstaller@${pyinstaller}`);
    packages.push(newPackage({
      id,
      name: 'pyinstaller-bootloader',
      version: pyinstaller,
      supplier: supplierOf('Organization', 'PyInstaller Development Team'),
      purl: `pkg:pypi/pyinstaller@${encodeURIComponent(pyinstaller)}`,
      license: 'GPL-2.0-or-later WITH Bootloader-exception',
      purpose: 'APPLICATION',
      comment: `The bootloader of PyInstaller ${pyinstaller}: ${executable} (with the bundle's archive appended).`,
    }));
    addRel(root.SPDXID, 'CONTAINS', id);
    contains(id, executable);
  }

  // Native libraries no wheel or runtime claims: the OS package that owns an identical host file, else a file of unknown origin.
  const osPackages = new Map<string, string>();
  for (const f of files) {
    if (claimed.has(f.name) || !isSharedLibrary(f.name)) continue;
    const origin = input.osOrigins?.get(f.sha256);
    if (origin) {
      const key = `${origin.distro}/${origin.name}@${origin.version}?${origin.arch}`;
      let id = osPackages.get(key);
      if (!id) {
        id = spdxId('deb', origin.name, key);
        osPackages.set(key, id);
        packages.push(newPackage({
          id,
          name: origin.name,
          version: origin.version,
          supplier: origin.maintainer ? supplierOfContact(origin.maintainer, 'Organization') : supplierOf('Organization', origin.distro),
          purl: debPurl(origin),
          purpose: 'LIBRARY',
          comment: `${origin.distro} package of the build host, owner of a byte-identical copy of the bundled library`,
        }));
        addRel(root.SPDXID, 'CONTAINS', id);
      }
      contains(id, f.name);
    } else {
      const entry = doc.files.find((e) => e.SPDXID === fileIds.get(f.name)) as SpdxFile | undefined;
      if (entry) entry.comment = 'native shared library; origin: NOASSERTION (no wheel lists it and no OS package owns an identical file on the build host)';
    }
  }
  // The files no package claims belong to the product itself.
  for (const f of files) if (!claimed.has(f.name)) contains(root.SPDXID, f.name);

  // A package that CONTAINS files must say its files were analysed (SPDX 2.3 §7.8), with their verification code (§7.9).
  const sha1ById = new Map<string, string>();
  for (const f of doc.files) {
    const sha1 = f.checksums?.find((c) => c.algorithm === 'SHA1')?.checksumValue;
    if (sha1) sha1ById.set(f.SPDXID, sha1.toLowerCase());
  }
  const fileIdSet = new Set(doc.files.map((f) => f.SPDXID));
  for (const p of packages) {
    const sha1s = rels.filter((r) => r.spdxElementId === p.SPDXID && r.relationshipType === 'CONTAINS' && fileIdSet.has(r.relatedSpdxElement)).map((r) => sha1ById.get(r.relatedSpdxElement) ?? '');
    if (!sha1s.length) continue;
    p['filesAnalyzed'] = true;
    p['packageVerificationCode'] = { packageVerificationCodeValue: verificationCode(sha1s) };
  }
  return doc;
}

/** The SPDX package verification code of files with these SHA1s: the SHA1 of their sorted concatenation. */
export function verificationCode(sha1s: readonly string[]): string {
  return createHash('sha1').update([...sha1s].sort().join('')).digest('hex');
}
