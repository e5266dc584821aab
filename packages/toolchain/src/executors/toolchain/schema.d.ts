/** Options of the toolchain executor. */
export interface ToolchainExecutorOptions {
  /** Also install the test-only Python tools. */
  dev?: boolean;
}
