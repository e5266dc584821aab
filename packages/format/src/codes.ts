/**
 * The verdict codes the release verifiers report, one per way a published
 * release can fail a check of docs/release-format.md. The TypeScript verifier
 * and the Python tools report the same codes for the same fault.
 */
export const VERDICT_CODES = [
  // keys and signatures
  'UNSIGNED',
  'KEY_MISSING',
  'KEY_NOT_PINNED',
  'KEY_MISMATCH',
  'KEY_REVOKED',
  'KEY_DEVELOPMENT',
  'SIGNATURE_MISSING',
  'SIGNATURE_BAD',
  // DSSE envelopes and the PEM key export
  'DSSE_MISSING',
  'DSSE_INVALID',
  'DSSE_BAD_SIGNATURE',
  'DSSE_MISMATCH',
  // the folder holds regular files only
  'FILE_NOT_REGULAR',
  // sums and coverage
  'SUMS_MISSING',
  'SUMS_MALFORMED',
  'SUMS_MISSING_FILE',
  'SUMS_MISMATCH',
  'SUMS_UNLISTED',
  // provenance
  'PROVENANCE_MISSING',
  'PROVENANCE_MALFORMED',
  'PROVENANCE_SUBJECTS',
  'PROVENANCE_COMMIT',
  'PROVENANCE_TAG',
  'PROVENANCE_BYPRODUCT',
  // BUILD_META.txt
  'META_MISSING',
  'META_MALFORMED',
  'META_MISMATCH',
  // the build's tree
  'BUILD_DIRTY',
  // versions: BUILD_META.txt, the provenance, file names and plugin.json agree
  'VERSION_MISMATCH',
  // SBOMs
  'SBOM_MISSING',
  'SBOM_UNBOUND',
  'SBOM_ORPHAN',
  // conformance
  'CONFORMANCE_MISSING',
  'CONFORMANCE_FAILED',
  'CONFORMANCE_STALE',
] as const;

/** A verdict code of a release check. */
export type VerdictCode = (typeof VERDICT_CODES)[number];

/** The checks of a release, in the order of the verified install flow. */
export const RELEASE_CHECKS = ['key', 'signature', 'dsse', 'files', 'sums', 'coverage', 'provenance', 'provenance-commit', 'provenance-tag', 'provenance-byproduct', 'build-meta', 'build-clean', 'versions', 'sbom', 'conformance', 'plugin'] as const;

/** The name of a release check. */
export type ReleaseCheckName = (typeof RELEASE_CHECKS)[number];

/** Codes a plugin check ends with; PLUGIN_OK is the only pass. */
export type PluginCode =
  | 'PLUGIN_OK'
  | 'PLUGIN_UNSIGNED'
  | 'PLUGIN_UNTRUSTED_KEY'
  | 'PLUGIN_BAD_SIGNATURE'
  | 'PLUGIN_DIGEST_MISMATCH'
  | 'PLUGIN_MISSING_ENTRY'
  | 'PLUGIN_NOT_IN_MANIFEST'
  | 'PLUGIN_UNSAFE_PATH'
  | 'PLUGIN_SYMLINK'
  | 'PLUGIN_DUPLICATE_ENTRY'
  | 'PLUGIN_ZIP_BOMB'
  | 'PLUGIN_MALFORMED'
  | 'PLUGIN_BAD_METADATA';

/**
 * A development key says so in its user ID: every key whose user ID holds
 * "DEVELOPMENT ONLY" (the committed one does; label your own the same way) is
 * refused by the verifiers unless the user accepts it explicitly.
 */
export const DEVELOPMENT_KEY_LABEL = /DEVELOPMENT ONLY/i;
