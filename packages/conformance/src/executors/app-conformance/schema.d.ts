/** Options of the app-conformance executor. */
export interface AppConformanceExecutorOptions {
  /** Stage records (`<project>/<stage>`): this app's build and every plugin's. */
  records: string[];
  /** sha256 of the release.config.ts settings the stage reads (Nx hashes options). */
  configDigest?: string;
}
