/** Options of the sign executor. */
export interface SignExecutorOptions {
  /** Stage records (`<project>/<stage>`) of the release; their evidence files are signed. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
}
