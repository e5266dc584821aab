/** Options of the lock executor. */
export interface LockExecutorOptions {
  /** The main requirements file, relative to the project root. Default `requirements.txt`. */
  requirements?: string;
}
