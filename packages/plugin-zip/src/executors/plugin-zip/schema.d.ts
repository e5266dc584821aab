/** The plugin-zip executor takes its settings from release.config.ts (`plugins`). */
export interface PluginZipExecutorOptions {
  /** Digest of the config settings this target reads (cache key only). */
  configDigest?: string;
}
