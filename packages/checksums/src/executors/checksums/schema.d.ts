/** Options of the checksums executor. */
export interface ChecksumsExecutorOptions {
  /** Stage records (`<project>/<stage>`) whose files SHA256SUMS.txt lists. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
}
