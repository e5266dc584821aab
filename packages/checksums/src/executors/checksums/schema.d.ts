/** Options of the checksums executor. */
export interface ChecksumsExecutorOptions {
  /** Stage records (`<project>/<stage>`) whose files SHA256SUMS.txt lists. */
  records: string[];
}
