/**
 * The CycloneDX 1.6 JSON SBOM of an artifact, derived from its enriched and
 * normalised SPDX document (enrichSpdx, normaliseSpdx) and from nothing else,
 * so that the two SBOMs of an artifact cannot disagree:
 *
 * - the SPDX root package (what the document DESCRIBES) is
 *   `metadata.component`; every other package is a component with the same
 *   name, version, supplier, purl (and first CPE), hashes, declared licence
 *   and comment (as `description`), its `bom-ref` the package's SPDXID;
 * - a file a package CONTAINS is an `evidence.occurrences` location of that
 *   package; a file only the root contains (the product's own files and any
 *   of unknown origin) is a `file` component with its hashes, so every file
 *   of the zip is accounted for as in the SPDX document;
 * - CONTAINS and DEPENDS_ON between packages (and syft's DEPENDENCY_OF,
 *   turned round) are `dependencies`, one entry per component, listed even
 *   when empty: an empty `dependsOn` says "none", not "unknown";
 * - `metadata.timestamp` is the SPDX `created` (SOURCE_DATE_EPOCH),
 *   `metadata.tools` the SPDX `Tool:` creators (helix-release, syft),
 *   `metadata.manufacturer` and `supplier` the `Organization:` creator;
 * - `serialNumber` is a UUIDv5 of the sha256 of the rest of the BOM (as
 *   stableJson writes it): the same content gets the same serial number, other
 *   content another one.
 */
import { createHash } from 'node:crypto';
import { stableJson } from '@helix-release/core';
import { uuidV5 } from '@helix-release/format';
import { SbomError } from './errors';
import type { SpdxDocument, SpdxPackage } from './normalise';

/** The CycloneDX spec version written. */
export const CYCLONEDX_SPEC_VERSION = '1.6';

/** `$schema` of the BOMs written (the schema JsonStrictValidator(SchemaVersion.V1_6) checks them against). */
export const CYCLONEDX_SCHEMA = 'http://cyclonedx.org/schema/bom-1.6.schema.json';

/** A CycloneDX organizational entity (supplier, manufacturer). */
export interface CdxOrganization {
  name: string;
  contact?: { email: string }[];
}

/** A CycloneDX hash. */
export interface CdxHash {
  alg: string;
  content: string;
}

/** A CycloneDX component, as written here. */
export interface CdxComponentOut {
  'bom-ref': string;
  type: string;
  name: string;
  version?: string;
  supplier?: CdxOrganization;
  purl?: string;
  cpe?: string;
  hashes?: CdxHash[];
  licenses?: { expression: string }[];
  description?: string;
  evidence?: { occurrences: { location: string }[] };
}

/** A CycloneDX 1.6 BOM, as written here. */
export interface CycloneDxBom {
  $schema: string;
  bomFormat: 'CycloneDX';
  specVersion: string;
  serialNumber: string;
  version: number;
  metadata: {
    timestamp: string;
    lifecycles: { phase: string }[];
    tools: { components: { type: 'application'; name: string; version?: string }[] };
    manufacturer?: CdxOrganization;
    supplier?: CdxOrganization;
    component: CdxComponentOut;
  };
  components: CdxComponentOut[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const NOASSERTION = 'NOASSERTION';

/** SPDX checksum algorithm → CycloneDX hash alg (the ones both define). */
const HASH_ALG: Record<string, string> = {
  MD5: 'MD5',
  SHA1: 'SHA-1',
  SHA256: 'SHA-256',
  SHA384: 'SHA-384',
  SHA512: 'SHA-512',
  'SHA3-256': 'SHA3-256',
  'SHA3-384': 'SHA3-384',
  'SHA3-512': 'SHA3-512',
  'BLAKE2b-256': 'BLAKE2b-256',
  'BLAKE2b-384': 'BLAKE2b-384',
  'BLAKE2b-512': 'BLAKE2b-512',
  BLAKE3: 'BLAKE3',
};

/** SPDX primaryPackagePurpose → CycloneDX component type. */
const COMPONENT_TYPE: Record<string, string> = {
  APPLICATION: 'application',
  FRAMEWORK: 'framework',
  LIBRARY: 'library',
  CONTAINER: 'container',
  'OPERATING-SYSTEM': 'operating-system',
  DEVICE: 'device',
  FIRMWARE: 'firmware',
  FILE: 'file',
};

/** Lengths of the hex digests CycloneDX's hash-content pattern admits. */
const HEX_DIGEST = /^(?:[0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$/;
const EMAIL = /^[^\s@()<>,;]+@[^\s@()<>,;]+\.[^\s@()<>,;]+$/;

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** The supplier of an SPDX `Organization: Name (mail)` / `Person: …` value; undefined for NOASSERTION. */
export function cdxSupplier(value: unknown): CdxOrganization | undefined {
  if (typeof value !== 'string' || value === NOASSERTION) return undefined;
  const body = value.replace(/^(Organization|Person|Tool):\s*/, '').trim();
  if (!body) return undefined;
  const m = /^(.*?)\s*\(([^()]*)\)$/.exec(body);
  if (m && m[1] && EMAIL.test(m[2]!.trim())) return { name: m[1], contact: [{ email: m[2]!.trim() }] };
  return { name: body };
}

/** The CycloneDX hashes of SPDX checksums, sorted by algorithm; digests CycloneDX cannot hold are left out. */
function cdxHashes(checksums: SpdxPackage['checksums']): CdxHash[] | undefined {
  const out = (checksums ?? [])
    .filter((c) => HASH_ALG[c.algorithm] && HEX_DIGEST.test(c.checksumValue.toLowerCase()))
    .map((c) => ({ alg: HASH_ALG[c.algorithm]!, content: c.checksumValue.toLowerCase() }))
    .sort(byKey((h) => h.alg));
  return out.length ? out : undefined;
}

const known = (v: unknown): v is string => typeof v === 'string' && v !== '' && v !== NOASSERTION && v !== 'NONE';

/** The component of one SPDX package, its files as occurrences. */
function componentOf(p: SpdxPackage, locations: readonly string[]): CdxComponentOut {
  const refs = p.externalRefs ?? [];
  const purl = refs.find((r) => r.referenceType === 'purl')?.referenceLocator;
  const cpe = refs.find((r) => r.referenceType === 'cpe23Type')?.referenceLocator;
  const purpose = p['primaryPackagePurpose'];
  const c: CdxComponentOut = { 'bom-ref': p.SPDXID, type: (typeof purpose === 'string' && COMPONENT_TYPE[purpose]) || 'library', name: p.name };
  if (known(p.versionInfo)) c.version = p.versionInfo;
  const supplier = cdxSupplier(p['supplier']);
  if (supplier) c.supplier = supplier;
  if (purl) c.purl = purl;
  if (cpe) c.cpe = cpe;
  const hashes = cdxHashes(p.checksums);
  if (hashes) c.hashes = hashes;
  if (known(p['licenseDeclared'])) c.licenses = [{ expression: p['licenseDeclared'] }];
  if (known(p['comment'])) c.description = p['comment'];
  if (locations.length) c.evidence = { occurrences: [...locations].sort().map((location) => ({ location })) };
  return c;
}

/** `Tool: name-version` creators as tool components (`syft-v1.2.3` → syft, v1.2.3). */
function toolsOf(creators: readonly string[]): { type: 'application'; name: string; version?: string }[] {
  return creators
    .filter((c) => c.startsWith('Tool: '))
    .map((c) => {
      const tool = c.slice('Tool: '.length).trim();
      const m = /^(.+?)-(v?[0-9][^\s-]*)$/.exec(tool);
      return m ? { type: 'application' as const, name: m[1]!, version: m[2]! } : { type: 'application' as const, name: tool };
    })
    .sort(byKey((t) => `${t.name}\u0000${t.version ?? ''}`));
}

/**
 * The CycloneDX 1.6 BOM of an enriched, normalised SPDX document. Throws
 * SBOM_SYFT_OUTPUT (naming `file`) when the document describes no package.
 */
export function cyclonedxFromSpdx(doc: SpdxDocument, file: string): CycloneDxBom {
  const packages = doc.packages ?? [];
  const files = doc.files ?? [];
  const relationships = doc.relationships ?? [];
  const rootId = relationships.find((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES')?.relatedSpdxElement;
  const root = packages.find((p) => p.SPDXID === rootId);
  if (!root) throw new SbomError('SBOM_SYFT_OUTPUT', 'the SPDX document describes no package, so no CycloneDX metadata.component can be written', { file });

  const packageIds = new Set(packages.map((p) => p.SPDXID));
  const fileById = new Map(files.map((f) => [f.SPDXID, f]));
  const fileName = (id: string) => fileById.get(id)!.fileName.replace(/^\/+/, '');

  // Which package holds each file, and which packages each package depends on or contains.
  const locations = new Map<string, string[]>();
  const dependsOn = new Map<string, Set<string>>(packages.map((p) => [p.SPDXID, new Set<string>()]));
  const rootFiles = new Set<string>();
  const ownedFiles = new Set<string>();
  for (const r of relationships) {
    const from = r.spdxElementId;
    const to = r.relatedSpdxElement;
    if (r.relationshipType === 'CONTAINS' && packageIds.has(from) && fileById.has(to)) {
      if (from === root.SPDXID) rootFiles.add(to);
      else {
        ownedFiles.add(to);
        locations.set(from, [...(locations.get(from) ?? []), fileName(to)]);
      }
    } else if ((r.relationshipType === 'CONTAINS' || r.relationshipType === 'DEPENDS_ON') && packageIds.has(from) && packageIds.has(to) && from !== to) {
      dependsOn.get(from)!.add(to);
    } else if (r.relationshipType === 'DEPENDENCY_OF' && packageIds.has(from) && packageIds.has(to) && from !== to) {
      dependsOn.get(to)!.add(from);
    }
  }
  // A file no package lists (not the case for an enriched document, but for any other) is the product's.
  for (const f of files) if (!ownedFiles.has(f.SPDXID)) rootFiles.add(f.SPDXID);

  const components: CdxComponentOut[] = packages.filter((p) => p !== root).map((p) => componentOf(p, locations.get(p.SPDXID) ?? []));
  for (const id of rootFiles) {
    if (ownedFiles.has(id)) continue;
    const f = fileById.get(id)!;
    const c: CdxComponentOut = { 'bom-ref': f.SPDXID, type: 'file', name: fileName(id) };
    const hashes = cdxHashes(f.checksums);
    if (hashes) c.hashes = hashes;
    if (known(f['comment'])) c.description = f['comment'];
    components.push(c);
  }
  components.sort(byKey((c) => c['bom-ref']));

  const organization = cdxSupplier(doc.creationInfo.creators.find((c) => c.startsWith('Organization: ')) ?? root['supplier']);
  const bom: Omit<CycloneDxBom, 'serialNumber'> & { serialNumber?: string } = {
    $schema: CYCLONEDX_SCHEMA,
    bomFormat: 'CycloneDX',
    specVersion: CYCLONEDX_SPEC_VERSION,
    version: 1,
    metadata: {
      timestamp: doc.creationInfo.created,
      lifecycles: [{ phase: 'build' }],
      tools: { components: toolsOf(doc.creationInfo.creators) },
      ...(organization ? { manufacturer: organization, supplier: organization } : {}),
      component: componentOf(root, []),
    },
    components,
    dependencies: [...dependsOn.entries()].map(([ref, deps]) => ({ ref, dependsOn: [...deps].sort() })).sort(byKey((d) => d.ref)),
  };
  const digest = createHash('sha256').update(stableJson(bom)).digest('hex');
  return { ...bom, serialNumber: `urn:uuid:${uuidV5(`cyclonedx:sha256:${digest}`)}` };
}
