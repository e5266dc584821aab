/** Options of the sbom executor. */
export interface SbomExecutorOptions {
  /** Stage records (`<project>/<stage>`) whose artifacts get SBOMs. */
  records: string[];
  /** The same for the import variant of the plan (tools/release_local.sh). */
  importRecords?: string[];
}
