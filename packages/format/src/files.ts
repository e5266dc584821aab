/**
 * The release's published file names. They are contracts (see the source
 * document and docs/release-format.md): stages write them, verifiers read
 * them, and nothing else spells them.
 */

/** The release's evidence files, by role. */
export const RELEASE_FILES = {
  sums: 'SHA256SUMS.txt',
  meta: 'BUILD_META.txt',
  provenance: 'release-provenance.intoto.json',
  publicKey: 'release-signing-public-key.asc',
  /** The signing (sub)key as SubjectPublicKeyInfo PEM: the key of the DSSE envelopes, for tools that read no OpenPGP (cosign, securesystemslib). */
  publicKeyPem: 'release-signing-public-key.pem',
  fingerprint: 'release-signing-key-fingerprint.txt',
  conformanceResults: 'conformance-results.json',
  conformanceLog: 'conformance.log',
} as const;

/** Suffix of a detached OpenPGP signature. */
export const SIGNATURE_SUFFIX = '.asc';

/**
 * Suffix of a DSSE envelope (`<file>.dsse.json`, see dsse.ts): written by the
 * sign stage after SHA256SUMS.txt exists, so, like a `.asc`, never in the sums.
 */
export const DSSE_SUFFIX = '.dsse.json';

/** The verification kit the release ships, under these paths. */
export const KIT_TOOLS = ['tools/conformance.sh', 'tools/release_verify_lib.py', 'tools/verify_release_signatures.py', 'tools/verify_release_provenance.py'] as const;

/**
 * The plugin trust store the release was checked against, shipped so that the
 * plugin check can be completed from the release folder alone. It is listed
 * in SHA256SUMS.txt; pin it as you pin the key: compare its sha256 with the
 * one the project publishes.
 */
export const TRUST_STORE_FILE = 'trust-store.json';

/** Where the conformance pack goes in the release. */
export const PACK_DIR = 'conformance-pack';

/** Where plugin zips go in the release. */
export const PLUGINS_DIR = 'plugins';

/** The formats every SBOM of the release is published in: SPDX 2.3 JSON and CycloneDX 1.6 JSON. */
export type SbomFormat = 'spdx' | 'cyclonedx';

/** Every SBOM format, in the order the release lists them. */
export const SBOM_FORMATS: readonly SbomFormat[] = ['spdx', 'cyclonedx'];

/** The file name ending of each SBOM format. */
export const SBOM_SUFFIXES: Readonly<Record<SbomFormat, string>> = { spdx: '.spdx.json', cyclonedx: '.cdx.json' };

/**
 * The provenance subject annotation that names an artifact's SBOM of each
 * format (`helix.sbom` for SPDX, as releases before CycloneDX had it).
 */
export const SBOM_ANNOTATIONS: Readonly<Record<SbomFormat, string>> = { spdx: 'helix.sbom', cyclonedx: 'helix.cyclonedx' };

const SBOM_FILE = /^SBOM-.*\.(spdx|cdx)\.json$/;

/** The SBOM file name of an artifact: `SBOM-<artifact file name>.spdx.json` (or `.cdx.json` for CycloneDX). */
export function sbomName(artifactPath: string, format: SbomFormat = 'spdx'): string {
  return `SBOM-${artifactPath.split('/').pop()}${SBOM_SUFFIXES[format]}`;
}

/** Both SBOM file names of an artifact, SPDX first. */
export function sbomNames(artifactPath: string): string[] {
  return SBOM_FORMATS.map((f) => sbomName(artifactPath, f));
}

/** The format of an SBOM file name (`SBOM-….spdx.json`, `SBOM-….cdx.json`), undefined for any other name. */
export function sbomFormatOf(path: string): SbomFormat | undefined {
  const m = SBOM_FILE.exec(path);
  return m ? (m[1] === 'cdx' ? 'cyclonedx' : 'spdx') : undefined;
}

/** True for an SBOM file name (`SBOM-….spdx.json` or `SBOM-….cdx.json`). */
export function isSbomFile(path: string): boolean {
  return SBOM_FILE.test(path);
}

/** True for a plugin zip of the release (`plugins/<name>-<version>.zip`). */
export function isPluginFile(path: string): boolean {
  return /^plugins\/.+\.zip$/.test(path);
}

/** True for a detached signature (not the public key export). */
export function isSignatureFile(path: string): boolean {
  return path.endsWith(SIGNATURE_SUFFIX) && path !== RELEASE_FILES.publicKey;
}

/**
 * True for the files SHA256SUMS.txt does not list: itself, BUILD_META.txt and
 * the provenance statement (each signed on its own and each listing the sums'
 * subjects), the public key exports and fingerprint file (the trust anchor),
 * detached signatures and DSSE envelopes.
 */
export function isEvidenceFile(path: string): boolean {
  return (
    path === RELEASE_FILES.sums ||
    path === RELEASE_FILES.meta ||
    path === RELEASE_FILES.provenance ||
    path === RELEASE_FILES.publicKey ||
    path === RELEASE_FILES.fingerprint ||
    path === RELEASE_FILES.publicKeyPem ||
    path.endsWith(SIGNATURE_SUFFIX) ||
    path.endsWith(DSSE_SUFFIX)
  );
}

/**
 * The evidence a stage's change makes stale, by the stage's place in the
 * order: a stage that changes artifacts makes everything stale; checksums and
 * build-meta (which run side by side) leave each other's file alone;
 * provenance makes only the signatures stale.
 */
export type EvidenceLevel = 'artifacts' | 'checksums' | 'build-meta' | 'provenance';

/** True when `path` (a top-level release file) is stale once a stage of `level` has run. */
export function isStaleEvidence(path: string, level: EvidenceLevel): boolean {
  if (path.endsWith(SIGNATURE_SUFFIX) || path.endsWith(DSSE_SUFFIX) || path === RELEASE_FILES.fingerprint || path === RELEASE_FILES.publicKeyPem) return true;
  if (path === RELEASE_FILES.provenance) return level !== 'provenance';
  if (path === RELEASE_FILES.sums || path === RELEASE_FILES.meta) return level === 'artifacts';
  return false;
}
