import type { CustomStageOptions } from '../../lib/custom-stage';

/** Options of the custom-stage executor (set by the nx-plugin from release.config.ts). */
export type CustomStageExecutorOptions = CustomStageOptions;
