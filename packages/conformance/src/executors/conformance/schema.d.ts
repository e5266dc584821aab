/** Options of the conformance executor. */
export interface ConformanceExecutorOptions {
  /** Stage records (`<project>/<stage>`) holding the Studio installer and plugins under test. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
}
