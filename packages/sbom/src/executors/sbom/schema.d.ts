/** Options of the sbom executor. */
export interface SbomExecutorOptions {
  /** Stage records (`<project>/<stage>`) whose artifacts get SBOMs. */
  records: string[];
}
