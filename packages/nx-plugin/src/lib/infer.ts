/**
 * Target inference: turns the files of the workspace and release.config.ts
 * into Nx projects and targets.
 *
 * - a folder below `apps.root` with a PyInstaller `*.spec` → a project with
 *   `lock` and `package`;
 * - a folder below `plugins.root` with a `plugin.json` → a project with
 *   `plugin-zip`;
 * - the workspace root → project `release` with `toolchain`, every
 *   release-level stage of the plan, `all` and `clean`.
 *
 * Every stage target is made from the stage's descriptor (lib/stages.ts lists
 * them in order); nothing here knows a stage by name.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  RELEASE_PROJECT,
  ReleaseError,
  artifactClockPaths,
  configDigest,
  installerArtifactName,
  platformTag,
  readAppMetadata,
  releasePlan,
  type PlanProject,
  type ResolvedConfig,
  type StageDescriptor,
  type TargetParams,
} from '@helix-release/core';
import { BUILT_IN_STAGES } from './stages';

/** A project configuration as Nx takes it from createNodes (the subset we use). */
export interface InferredProject {
  name: string;
  root: string;
  projectType?: 'application' | 'library';
  tags?: string[];
  implicitDependencies?: string[];
  targets: Record<string, InferredTarget>;
  metadata?: Record<string, unknown>;
}

/** A target configuration (the subset we use). */
export interface InferredTarget {
  executor: string;
  options?: Record<string, unknown>;
  cache?: boolean;
  inputs?: (string | Record<string, unknown>)[];
  outputs?: string[];
  dependsOn?: (string | { target: string; projects?: string[] | string; dependencies?: boolean })[];
  metadata?: { description?: string; technologies?: string[] };
}

/** An inferred app (PyInstaller project). */
export interface AppInfo {
  project: string;
  root: string;
  spec: string;
  version: string;
  artifact: string;
}

/** An inferred plugin. */
export interface PluginInfo {
  project: string;
  root: string;
  name: string;
  version: string;
  artifact: string;
}

/**
 * Nx inputs covering a stage package's own sources (`packages/<dir>`) and
 * core's and the format's, and (unless the target carries a `configDigest` of
 * just the settings it reads) the whole release config.
 */
export function executorInputs(stagePackage: string, wholeConfig = true): string[] {
  return [
    `{workspaceRoot}/packages/${stagePackage}/src/**/*.ts`,
    `!{workspaceRoot}/packages/${stagePackage}/src/**/*.spec.ts`,
    `{workspaceRoot}/packages/${stagePackage}/src/**/*.json`,
    `{workspaceRoot}/packages/${stagePackage}/package.json`,
    'coreSources',
    'formatSources',
    ...(wholeConfig ? ['releaseConfig'] : []),
  ];
}

/** Re-exported for the target options' tests: the digest of the settings a per-project target reads. */
export { configDigest };

function under(root: string, file: string): boolean {
  const r = posix.normalize(root).replace(/\/$/, '');
  // `.` is the whole workspace.
  return r === '.' || file.startsWith(`${r}/`);
}

/** CONFIG_INVALID naming `key` unless `root` is a folder of the workspace. */
function requireFolder(workspaceRoot: string, config: ResolvedConfig, key: string, root: string, holds: string): void {
  let folder = false;
  try {
    folder = statSync(join(workspaceRoot, root)).isDirectory();
  } catch {
    folder = false;
  }
  if (!folder) {
    throw new ReleaseError('CONFIG_INVALID', `${key}: ${JSON.stringify(root)} is not a folder of the workspace; point it at the folder that holds ${holds}`, { file: config.file });
  }
}

function readPluginMeta(workspaceRoot: string, file: string): { name: string; version: string } {
  let meta: { name?: unknown; version?: unknown };
  try {
    meta = JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8')) as typeof meta;
  } catch (cause) {
    throw new ReleaseError('CONFIG_INVALID', `not valid JSON: ${(cause as Error).message}`, { file, cause });
  }
  const ok = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v);
  if (!ok(meta.name) || !ok(meta.version)) {
    throw new ReleaseError('CONFIG_INVALID', 'plugin.json needs "name" and "version" made of letters, digits, . _ -', { file });
  }
  return { name: meta.name, version: meta.version };
}

/** Finds the apps and plugins among `files` (workspace-relative paths). */
export function discover(workspaceRoot: string, config: ResolvedConfig, files: readonly string[]): { apps: AppInfo[]; plugins: PluginInfo[] } {
  requireFolder(workspaceRoot, config, 'apps.root', config.apps.root, 'your app folders (each with a PyInstaller *.spec)');
  if (config.plugins) requireFolder(workspaceRoot, config, 'plugins.root', config.plugins.root, 'your plugin folders (each with a plugin.json)');
  const platform = platformTag();
  const apps: AppInfo[] = [];
  const plugins: PluginInfo[] = [];
  const specsByRoot = new Map<string, string[]>();
  for (const file of files) {
    if (file.endsWith('.spec') && under(config.apps.root, file)) {
      const root = dirname(file);
      specsByRoot.set(root, [...(specsByRoot.get(root) ?? []), file]);
    }
  }
  for (const [root, specs] of [...specsByRoot].sort()) {
    if (specs.length > 1) {
      throw new ReleaseError('CONFIG_INVALID', `more than one PyInstaller spec in one folder (${specs.join(', ')}); keep one per app`, { file: root });
    }
    const spec = specs[0]!;
    const meta = readAppMetadata(workspaceRoot, root);
    apps.push({ project: meta.name, root, spec: basename(spec), version: meta.version, artifact: installerArtifactName(meta, platform) });
  }
  if (config.plugins) {
    for (const file of [...files].sort()) {
      if (basename(file) === 'plugin.json' && under(config.plugins.root, file)) {
        const meta = readPluginMeta(workspaceRoot, file);
        plugins.push({ project: `plugin-${meta.name}`, root: dirname(file), name: meta.name, version: meta.version, artifact: `plugins/${meta.name}-${meta.version}.zip` });
      }
    }
  }
  if (apps.length === 0) {
    // A release of no app would be summed, described and signed, and ship nothing.
    throw new ReleaseError(
      'CONFIG_INVALID',
      `apps.root: no app below ${JSON.stringify(config.apps.root)}: an app is a folder holding a PyInstaller *.spec and a pyproject.toml; fix the path, or add the spec (see docs/configuration.md)`,
      { file: config.file },
    );
  }
  const seen = new Map<string, string>();
  for (const p of [...apps, ...plugins]) {
    const other = seen.get(p.project);
    if (other) throw new ReleaseError('CONFIG_INVALID', `project name ${p.project} is used by both ${other} and ${p.root}; rename one`, { file: p.root });
    seen.set(p.project, p.root);
  }
  return { apps, plugins };
}

/** The Nx target of one descriptor, for one project (per-project stages) or for `release`. */
function stageTarget(stage: StageDescriptor, params: TargetParams, extra: { options?: Record<string, unknown>; dependsOn?: InferredTarget['dependsOn'] }): InferredTarget {
  const project = params.project?.name ?? RELEASE_PROJECT;
  const upstream = stage.scope === 'release' ? [{ dependentTasksOutputFiles: '**/*', transitive: true }] : [];
  const target: InferredTarget = {
    executor: stage.executor,
    options: { ...(stage.options?.(params) ?? {}), ...extra.options },
    cache: stage.cache,
    dependsOn: extra.dependsOn,
    metadata: { description: stage.description(params), ...(stage.scope === 'release' ? {} : { technologies: stage.scope === 'app' ? ['python'] : undefined }) },
  };
  if (stage.cache) {
    // A per-project stage's clock is its artifact's own (the last commit that changed its inputs), not HEAD's.
    const clock = params.project
      ? [{ env: 'SOURCE_DATE_EPOCH' }, { runtime: ['node tools/nx/resolved-source-date-epoch.cjs', ...artifactClockPaths(stage, { config: params.config, project: params.project }).map((p) => JSON.stringify(p))].join(' ') }]
      : ['sourceDateEpoch'];
    const inputs = stage.inputs(params).flatMap((input) => (input === 'sourceDateEpoch' ? clock : [input]));
    target.inputs = [...inputs, ...executorInputs(stage.packageDir, stage.readsWholeConfig), ...upstream];
    target.outputs = [...stage.writes(params).map((file) => `{workspaceRoot}/${params.config.releaseDir}/${file}`), manifestOutput(project, stage.name)];
  }
  if (!target.dependsOn?.length) delete target.dependsOn;
  if (!target.metadata?.technologies) delete target.metadata!.technologies;
  return target;
}

function manifestOutput(project: string, stage: string): string {
  return `{workspaceRoot}/dist/manifest/${project}/${stage}.json`;
}

/** All projects with their targets, from the built-in stage descriptors (the plan) and the config. */
export function inferProjects(workspaceRoot: string, config: ResolvedConfig, files: readonly string[], stages: readonly StageDescriptor[] = BUILT_IN_STAGES): InferredProject[] {
  const { apps, plugins } = discover(workspaceRoot, config, files);
  const toolchain = { target: 'toolchain', projects: [RELEASE_PROJECT] };
  // Every task waits for the preflight: through the toolchain, or directly.
  const preflight = { target: 'preflight', projects: [RELEASE_PROJECT] };
  const names = { apps: apps.map((a) => a.project), plugins: plugins.map((p) => p.project) };
  const plans = { build: releasePlan(stages, config, names), import: releasePlan(stages, config, names, 'import') };
  const perProject = (scope: 'app' | 'plugin', project: PlanProject): Record<string, InferredTarget> => {
    const targets: Record<string, InferredTarget> = {};
    for (const stage of stages.filter((s) => s.scope === scope)) {
      targets[stage.name] = stageTarget(stage, { config, project }, { dependsOn: [...stage.after, ...(stage.toolchain ? [toolchain] : stage.after.length ? [] : [preflight])] });
    }
    return targets;
  };
  const projects: InferredProject[] = [];
  for (const app of apps) {
    projects.push({
      name: app.project,
      root: app.root,
      projectType: 'application',
      tags: ['helix:app'],
      metadata: { helix: { kind: 'app', version: app.version, artifact: app.artifact } },
      targets: perProject('app', { name: app.project, root: app.root, artifact: app.artifact, spec: app.spec }),
    });
  }
  for (const plugin of plugins) {
    projects.push({
      name: plugin.project,
      root: plugin.root,
      projectType: 'library',
      tags: ['helix:plugin'],
      metadata: { helix: { kind: 'plugin', version: plugin.version, artifact: plugin.artifact } },
      targets: perProject('plugin', { name: plugin.project, root: plugin.root, artifact: plugin.artifact }),
    });
  }

  const plan = plans.build;
  const records = (name: string) => ({ records: plan.records[name], importRecords: plans.import.records[name] });
  const targets: Record<string, InferredTarget> = {
    preflight: {
      executor: '@helix-release/nx-plugin:preflight',
      cache: false,
      metadata: { description: 'Before any stage: the release has one version, and a tag at HEAD names it.' },
    },
    toolchain: {
      executor: '@helix-release/toolchain:toolchain',
      cache: false,
      dependsOn: ['preflight'],
      metadata: { description: 'Provision PyInstaller, uv and syft from tools/toolchain (idempotent).' },
    },
  };
  const builtIn = new Map(stages.map((s) => [s.name, s]));
  // Custom stages first, then the built-in ones: `nx show project release` lists the team's own stages on top.
  const releaseTargets = [...config.stages.map((s) => s.name), ...plan.releaseTargets.filter((name) => builtIn.has(name))];
  for (const name of releaseTargets) {
    const stage = builtIn.get(name);
    if (stage) {
      targets[name] = stageTarget(stage, { config, plans }, { options: records(name), dependsOn: plan.dependsOn[name] });
      continue;
    }
    const custom = config.stages.find((s) => s.name === name)!;
    targets[name] = {
      executor: '@helix-release/nx-plugin:custom-stage',
      options: {
        stage: custom.name,
        executor: custom.executor,
        options: custom.options,
        outputs: custom.outputs,
        ...records(name),
        siblingOutputs: config.stages.filter((s) => s.name !== custom.name).flatMap((s) => s.outputs.map((o) => o.path)),
      },
      cache: true,
      inputs: [...custom.inputs, ...executorInputs('nx-plugin'), ...executorSourcesOf(workspaceRoot, custom.executor), 'sourceDateEpoch', { dependentTasksOutputFiles: '**/*', transitive: true }],
      outputs: [...custom.outputs.map((o) => `{workspaceRoot}/${config.releaseDir}/${o.path}`), manifestOutput(RELEASE_PROJECT, custom.name)],
      dependsOn: plan.dependsOn[name],
      metadata: { description: `Custom stage ${custom.name} (${custom.executor}), after ${custom.after}.` },
    };
  }
  const last = plan.releaseTargets[plan.releaseTargets.length - 1]!;
  // The last target of every run prints what the run left (never cached, so it always does).
  targets['all'] = {
    executor: '@helix-release/nx-plugin:summary',
    options: { records: [...plan.records[last]!, `${RELEASE_PROJECT}/${last}`], importRecords: [...plans.import.records[last]!, `${RELEASE_PROJECT}/${last}`] },
    cache: false,
    dependsOn: [last],
    metadata: { description: 'The whole release: every stage in order, then a summary of what it left.' },
  };
  targets['clean'] = {
    executor: '@helix-release/nx-plugin:clean',
    cache: false,
    metadata: { description: `Remove ${config.releaseDir}, dist/manifest and dist/work.` },
  };
  projects.push({
    name: RELEASE_PROJECT,
    root: '.',
    implicitDependencies: [...apps.map((a) => a.project), ...plugins.map((p) => p.project)],
    metadata: { helix: { kind: 'release', stageTargets: plan.stageTargets } },
    targets,
  });
  return projects;
}

/**
 * Inputs for a custom stage's executor package: its whole folder when the
 * package lives inside the workspace (an npm workspace), else nothing (an
 * installed package is covered by the lockfile hash Nx already takes).
 */
function executorSourcesOf(workspaceRoot: string, executor: string): string[] {
  const pkg = executor.split(':')[0]!;
  let rel: string | undefined;
  try {
    const manifestPath = realpathSync(require.resolve(`${pkg}/package.json`, { paths: [workspaceRoot] }));
    rel = relative(realpathSync(workspaceRoot), dirname(manifestPath)).split(sep).join('/');
  } catch {
    rel = undefined;
  }
  // Not linked into node_modules (no `npm install` since the stage was
  // generated) or linked from elsewhere: Nx still runs a workspace package of
  // that name from its folder, so its sources must still key the cache.
  if (rel === undefined || rel.startsWith('..') || isAbsolute(rel)) rel = workspacePackageDir(workspaceRoot, pkg);
  if (rel === undefined || rel.startsWith('node_modules/')) return [];
  return [`{workspaceRoot}/${rel}/**/*`, `!{workspaceRoot}/${rel}/**/*.spec.ts`];
}

/** The folder (workspace-relative) of the npm workspace package named `pkg`, from the root package.json's `workspaces`. */
function workspacePackageDir(workspaceRoot: string, pkg: string): string | undefined {
  const readJson = (file: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(readFileSync(join(workspaceRoot, file), 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const globs = readJson('package.json')?.['workspaces'];
  const patterns = Array.isArray(globs) ? globs : Array.isArray((globs as { packages?: unknown } | undefined)?.packages) ? (globs as { packages: unknown[] }).packages : [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    const clean = pattern.replace(/^\.\//, '').replace(/\/$/, '');
    let dirs = [clean];
    if (clean.endsWith('/*')) {
      const parent = clean.slice(0, -2);
      try {
        dirs = readdirSync(join(workspaceRoot, parent), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => `${parent}/${d.name}`);
      } catch {
        dirs = [];
      }
    }
    for (const dir of dirs.sort()) if (readJson(`${dir}/package.json`)?.['name'] === pkg) return dir;
  }
  return undefined;
}
