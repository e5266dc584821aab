/** Options of the provenance executor. */
export interface ProvenanceExecutorOptions {
  /** Stage records (`<project>/<stage>`) of the release so far. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
  /** The stage targets of the release, in order. */
  targets: string[];
  /** The stage targets of the import variant of the plan. */
  importTargets?: string[];
}
