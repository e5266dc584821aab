/** Options of the provenance executor. */
export interface ProvenanceExecutorOptions {
  /** Stage records (`<project>/<stage>`) of the release so far. */
  records: string[];
  /** The stage targets of the release, in order. */
  targets: string[];
}
