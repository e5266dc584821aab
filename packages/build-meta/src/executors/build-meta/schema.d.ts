/** Options of the build-meta executor. */
export interface BuildMetaExecutorOptions {
  /** Stage records (`<project>/<stage>`) whose files BUILD_META.txt lists. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
}
