/**
 * The stage contract. Stage logic is a plain async function of a
 * StageContext; an Nx executor is a thin adapter that builds the context from
 * its ExecutorContext, runs the function and maps the outcome to `{ success }`.
 * The CLI and tools/release_local.sh build the same context without Nx.
 */
import { join, resolve } from 'node:path';
import { describeError } from './errors';
import { loadConfig, type ResolvedConfig } from './config';
import { consoleLogger, type Logger } from './log';
import { resolveSourceDateEpoch, type SourceDateEpoch } from './sde';

/** Everything a stage function may depend on. Nothing else: no globals, no wall clock. */
export interface StageContext {
  /** Stage (target) name, e.g. `sbom`. */
  stage: string;
  /** Nx project the stage runs for. */
  project: string;
  /** Absolute workspace root. */
  workspaceRoot: string;
  /** Absolute root folder of the project (the workspace root for `release`). */
  projectRoot: string;
  config: ResolvedConfig;
  /** Absolute release folder (`dist/release` by default). */
  releaseDir: string;
  /** Absolute scratch folder of this project and stage, outside the release folder. */
  workDir: string;
  sourceDateEpoch: SourceDateEpoch;
  env: NodeJS.ProcessEnv;
  logger: Logger;
}

/** The part of Nx's ExecutorContext an adapter needs (kept structural so core does not depend on Nx). */
export interface ExecutorContextLike {
  root: string;
  projectName?: string;
  targetName?: string;
  projectsConfigurations?: { projects: Record<string, { root: string }> };
}

/** Builds a StageContext: loads the config and resolves SOURCE_DATE_EPOCH. */
export async function createStageContext(args: {
  stage: string;
  project: string;
  workspaceRoot: string;
  /** Project root relative to the workspace root; default `.`. */
  projectRoot?: string;
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  config?: ResolvedConfig;
}): Promise<StageContext> {
  const workspaceRoot = resolve(args.workspaceRoot);
  const env = args.env ?? process.env;
  const config = args.config ?? (await loadConfig(workspaceRoot));
  let sde: SourceDateEpoch | undefined;
  return {
    stage: args.stage,
    project: args.project,
    workspaceRoot,
    projectRoot: join(workspaceRoot, args.projectRoot ?? '.'),
    config,
    releaseDir: join(workspaceRoot, config.releaseDir),
    workDir: join(workspaceRoot, 'dist', 'work', args.project, args.stage),
    // Resolved on first use, so that stages which write no timestamp (the
    // toolchain) also run outside a git checkout.
    get sourceDateEpoch() {
      sde ??= resolveSourceDateEpoch(env, workspaceRoot);
      return sde;
    },
    env,
    logger: args.logger ?? consoleLogger(`${args.project}:${args.stage}`),
  };
}

/**
 * The adapter every executor uses: builds the context, runs `fn`, prints a
 * failure as `CODE: file: message` and returns `{ success }`.
 */
export async function runStageExecutor(
  stage: string,
  nx: ExecutorContextLike,
  fn: (ctx: StageContext) => Promise<unknown>,
): Promise<{ success: boolean }> {
  const project = nx.projectName ?? 'release';
  const logger = consoleLogger(`${project}:${nx.targetName ?? stage}`);
  try {
    const projectRoot = nx.projectsConfigurations?.projects[project]?.root ?? '.';
    const ctx = await createStageContext({ stage, project, workspaceRoot: nx.root, projectRoot, logger });
    await fn(ctx);
    return { success: true };
  } catch (err) {
    logger.error(describeError(err));
    if (process.env['HELIX_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return { success: false };
  }
}

/** Environment variables a custom stage's executor receives from the release. */
export const CUSTOM_STAGE_ENV = {
  /** Absolute path of the release folder. */
  releaseDir: 'HELIX_RELEASE_DIR',
  /** Absolute path of a JSON file: `{ "artifacts": ReleaseArtifact[], "records": StageRecord[] }`. */
  inputs: 'HELIX_RELEASE_INPUTS',
  /** The stage's name. */
  stage: 'HELIX_RELEASE_STAGE',
  /** SOURCE_DATE_EPOCH as resolved for this release. */
  sourceDateEpoch: 'SOURCE_DATE_EPOCH',
} as const;
