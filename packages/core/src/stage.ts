/**
 * The stage contract. Stage logic is a plain async function of a
 * StageContext; an Nx executor is a thin adapter that builds the context from
 * its ExecutorContext, runs the function and maps the outcome to `{ success }`.
 * The CLI and tools/release_local.sh build the same context without Nx.
 */
import { recordTiming } from './timings';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describeError } from './errors';
import { loadConfig, type ResolvedConfig } from './config';
import { consoleLogger, type Logger } from './log';
import { invalidateEvidence, stageRecordPath } from './manifest';
import { artifactClockPaths, type PlanVariant, type StageDescriptor } from './plan';
import { ReleaseRecords } from './records';
import { resolveSourceDateEpoch, type SourceDateEpoch } from './sde';

/**
 * Set to `1` by tools/release_local.sh: the release is made of artifacts
 * imported from elsewhere, so the stages follow the plan's import variant.
 * Read here, once, into {@link StageContext.variant}.
 */
export const IMPORT_ENV = 'HELIX_RELEASE_IMPORT';

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
  /** Which variant of the plan this run follows. */
  variant: PlanVariant;
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
  /** For an artifact's own clock: the paths whose last commit is its SOURCE_DATE_EPOCH (default: HEAD's time). */
  clockPaths?: (config: ResolvedConfig) => readonly string[];
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
      sde ??= resolveSourceDateEpoch(env, workspaceRoot, args.clockPaths?.(config));
      return sde;
    },
    variant: env[IMPORT_ENV] === '1' ? 'import' : 'build',
    env,
    logger: args.logger ?? consoleLogger(`${args.project}:${args.stage}`),
  };
}

/** The plan's part of a release-level stage's options: the records it reads, per plan variant. */
export interface PlanOptions {
  /** Records (`<project>/<stage>`) of the build plan. */
  records?: readonly string[];
  /** Records of the import plan (tools/release_local.sh); default: `records`. */
  importRecords?: readonly string[];
}

/**
 * What every stage does before its own work, from its descriptor: drop its
 * previous record (a failed run must not look like a finished one), remove
 * the evidence its run makes stale, and read the records its plan variant
 * hands it.
 */
export async function prepareStage(ctx: StageContext, descriptor: Pick<StageDescriptor, 'name' | 'evidence'>, options: PlanOptions): Promise<ReleaseRecords> {
  await rm(stageRecordPath(ctx.workspaceRoot, ctx.project, ctx.stage), { force: true });
  if (descriptor.evidence) await invalidateEvidence(ctx.releaseDir, descriptor.evidence);
  const refs = ctx.variant === 'import' ? (options.importRecords ?? options.records) : options.records;
  return ReleaseRecords.read(ctx.workspaceRoot, refs ?? [], `${ctx.project}:${ctx.stage}`);
}

/**
 * The adapter every executor uses: builds the context, prepares the stage
 * from its descriptor ({@link prepareStage}), runs `fn` with the records the
 * plan hands it, prints a failure as `CODE: file: message` and returns
 * `{ success }`.
 */
export async function runStageExecutor(
  descriptor: Pick<StageDescriptor, 'name' | 'evidence'> & Partial<Pick<StageDescriptor, 'scope' | 'package' | 'clockFiles'>> & {
    /** False for a task that must leave no timing behind (`clean` empties dist/work). Default true. */
    timed?: boolean;
  },
  options: PlanOptions,
  nx: ExecutorContextLike,
  fn: (ctx: StageContext, records: ReleaseRecords) => Promise<unknown>,
): Promise<{ success: boolean }> {
  const stage = descriptor.name;
  const project = nx.projectName ?? 'release';
  const task = `${project}:${nx.targetName ?? stage}`;
  const logger = consoleLogger(task);
  const started = Date.now();
  const timed = async (success: boolean) => {
    if (descriptor.timed !== false) await recordTiming(nx.root, { task, started, ms: Date.now() - started, success });
    return { success };
  };
  try {
    const projectRoot = nx.projectsConfigurations?.projects[project]?.root ?? '.';
    // A per-project stage's artifact has its own clock: the last commit that changed its inputs.
    const perProject = descriptor.scope !== undefined && descriptor.scope !== 'release' && descriptor.package !== undefined;
    const clockPaths = perProject ? (config: ResolvedConfig) => artifactClockPaths({ package: descriptor.package!, clockFiles: descriptor.clockFiles }, { workspaceRoot: nx.root, config, project: { root: projectRoot } }) : undefined;
    const ctx = await createStageContext({ stage, project, workspaceRoot: nx.root, projectRoot, logger, clockPaths });
    await fn(ctx, await prepareStage(ctx, descriptor, options));
    return await timed(true);
  } catch (err) {
    logger.error(describeError(err));
    if (process.env['HELIX_DEBUG'] && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return await timed(false);
  }
}

/**
 * Environment variables a custom stage's executor receives from the release
 * (besides TMPDIR, TMP and TEMP, which name its own temporary folder).
 */
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
