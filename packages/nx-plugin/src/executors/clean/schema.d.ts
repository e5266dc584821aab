/** The clean executor takes no options. */
export type CleanExecutorOptions = Record<string, never>;
