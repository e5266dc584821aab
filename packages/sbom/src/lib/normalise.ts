/**
 * syft's SPDX JSON is not reproducible as it comes: `creationInfo.created` is
 * the wall clock and `documentNamespace` holds a random UUID. This makes it
 * so: the time is SOURCE_DATE_EPOCH, the namespace a UUIDv5 of the artifact's
 * sha256, every array in a stable order and every object's keys sorted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { epochToIso } from '@helix-release/core';
import { uuidV5 } from '@helix-release/format';
import { SbomError } from './errors';

/** The parts of an SPDX 2.3 document we touch. */
export interface SpdxDocument {
  spdxVersion: string;
  name: string;
  documentNamespace: string;
  creationInfo: { created: string; creators: string[]; licenseListVersion?: string };
  packages?: SpdxPackage[];
  files?: { fileName: string; SPDXID: string; checksums?: { algorithm: string; checksumValue: string }[]; [key: string]: unknown }[];
  relationships?: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
  [key: string]: unknown;
}

/** An SPDX package (the fields we read). */
export interface SpdxPackage {
  name: string;
  SPDXID: string;
  versionInfo?: string;
  externalRefs?: { referenceCategory: string; referenceType: string; referenceLocator: string }[];
  checksums?: { algorithm: string; checksumValue: string }[];
  [key: string]: unknown;
}

/** Base of every documentNamespace we write. */
export const NAMESPACE_BASE = 'https://spdx.helix-release.invalid/sbom';

/** This package's version: the helix-release that writes the SBOMs. */
export const HELIX_VERSION = (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;

/** The tool line added to creationInfo.creators. */
export const HELIX_CREATOR = `Tool: helix-release-${HELIX_VERSION}`;

/** syft's own organisation line, which says nothing about who made this SBOM. */
const SYFT_ORGANIZATION = /^Organization: Anchore\b/;

const by = <T>(key: (x: T) => string) => (a: T, b: T) => {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** Normalises a syft SPDX document in place and returns it. */
export function normaliseSpdx(doc: SpdxDocument, args: { artifactPath: string; sha256: string; sourceDateEpoch: number; organization?: string }): SpdxDocument {
  if (doc.spdxVersion !== 'SPDX-2.3' || !doc.creationInfo) {
    throw new SbomError('SBOM_SYFT_OUTPUT', `syft wrote ${doc.spdxVersion ?? 'no spdxVersion'}, expected SPDX-2.3`, { file: args.artifactPath });
  }
  doc.creationInfo.created = epochToIso(args.sourceDateEpoch);
  const ours = args.organization ? `Organization: ${args.organization.replace(/[()\n\r]+/g, ' ').replace(/\s+/g, ' ').trim()}` : undefined;
  const creators = doc.creationInfo.creators.filter((c) => !/^Tool: helix-release-/.test(c) && !SYFT_ORGANIZATION.test(c) && c !== ours);
  doc.creationInfo.creators = [...creators, HELIX_CREATOR, ...(ours ? [ours] : [])];
  doc.documentNamespace = `${NAMESPACE_BASE}/${encodeURIComponent(args.artifactPath)}-${uuidV5(`sha256:${args.sha256}`)}`;
  doc.packages = [...(doc.packages ?? [])].sort(by((p) => p.SPDXID));
  for (const pkg of doc.packages) {
    if (pkg.externalRefs) pkg.externalRefs = [...pkg.externalRefs].sort(by((r) => `${r.referenceCategory} ${r.referenceType} ${r.referenceLocator}`));
    if (pkg.checksums) pkg.checksums = [...pkg.checksums].sort(by((c) => c.algorithm));
  }
  doc.files = [...(doc.files ?? [])].sort(by((f) => `${f.fileName}\u0000${f.SPDXID}`));
  for (const file of doc.files) if (file.checksums) file.checksums = [...file.checksums].sort(by((c) => c.algorithm));
  doc.relationships = [...(doc.relationships ?? [])].sort(by((r) => `${r.spdxElementId} ${r.relationshipType} ${r.relatedSpdxElement}`));
  return doc;
}

/** `pkg:pypi/<name>@<version>` purls in the document, as normalised name → versions. */
export function pypiPackages(doc: SpdxDocument): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const pkg of doc.packages ?? []) {
    for (const ref of pkg.externalRefs ?? []) {
      const m = /^pkg:pypi\/([^@?#]+)@([^?#]+)/.exec(ref.referenceLocator);
      if (ref.referenceType !== 'purl' || !m) continue;
      const name = decodeURIComponent(m[1]!).toLowerCase().replace(/[-_.]+/g, '-');
      out.set(name, (out.get(name) ?? new Set()).add(decodeURIComponent(m[2]!)));
    }
  }
  return out;
}
