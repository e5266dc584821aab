/** Options of the artifact-sbom executor. */
export interface ArtifactSbomExecutorOptions {
  /** Stage records (`<project>/<stage>`) of this project: its build and its lock. */
  records: string[];
  /** sha256 of the release.config.ts settings the stage reads (Nx hashes options). */
  configDigest?: string;
}
