/** Options of the package executor. */
export interface PackageExecutorOptions {
  /** The PyInstaller spec file, relative to the project root. */
  spec: string;
  /** The locked requirements installed into the build environment. Default `requirements.txt`. */
  requirements?: string;
  /** Digest of the config settings this target reads (cache key only). */
  configDigest?: string;
}
