/** The plugin-zip executor takes its settings from release.config.ts (`plugins`). */
export type PluginZipExecutorOptions = Record<string, never>;
