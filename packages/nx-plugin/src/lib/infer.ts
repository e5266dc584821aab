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
import { readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  RELEASE_PROJECT,
  ReleaseError,
  HELIX_INPUTS,
  OWN_FILE_PREFIX,
  artifactClockPaths,
  configDigest,
  gitStateCommand,
  helixScriptCommand,
  helixSourcePath,
  installerArtifactName,
  platformTag,
  readAppMetadata,
  releasePlan,
  type NxInput,
  type PlanProject,
  type ProjectKind,
  projectStageRecords,
  projectsOf,
  scopeIncludes,
  sourceDateEpochCommand,
  type ResolvedConfig,
  type StageDescriptor,
  type TargetParams,
  workspacePackageDir,
} from '@helix-release/core';
import { PLUGIN_NAME_PATTERN, PLUGIN_VERSION_PATTERN } from '@helix-release/format';
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
 * Nx inputs of one of our packages: its sources when they are part of the
 * workspace (this repository), else none (an installed package is covered
 * by the lockfile, which Nx hashes with the executor's package).
 */
function packageSourceInputs(workspaceRoot: string, pkg: string): string[] {
  const dir = workspacePackageDir(workspaceRoot, pkg);
  if (dir === undefined) return [];
  return [`{workspaceRoot}/${dir}/src/**/*.ts`, `!{workspaceRoot}/${dir}/src/**/*.spec.ts`, `{workspaceRoot}/${dir}/src/**/*.json`, `{workspaceRoot}/${dir}/package.json`];
}

/**
 * Nx inputs covering a stage package's own sources and core's and the
 * format's, and (unless the target carries a `configDigest` of just the
 * settings it reads) the release config file.
 */
export function executorInputs(workspaceRoot: string, config: ResolvedConfig, stagePackage: string, wholeConfig = true): string[] {
  return [
    ...[stagePackage, '@helix-release/core', '@helix-release/format'].flatMap((pkg) => packageSourceInputs(workspaceRoot, pkg)),
    ...(wholeConfig ? [`{workspaceRoot}/${config.file}`] : []),
  ];
}

/** The CI variables the provenance and BUILD_META record (and the import switch). */
const CI_ENVIRONMENT = ['CI', 'GITHUB_ACTIONS', 'GITHUB_SERVER_URL', 'GITHUB_REPOSITORY', 'GITHUB_RUN_ID', 'GITHUB_RUN_ATTEMPT', 'GITHUB_WORKFLOW_REF', 'HELIX_RELEASE_IMPORT'];

/**
 * Expands the inputs a descriptor names ({@link HELIX_INPUTS}, our own
 * files) for this workspace. `clock` is the per-artifact clock's paths, for
 * per-project stages.
 */
export function expandInputs(workspaceRoot: string, inputs: readonly NxInput[], clock?: readonly string[]): NxInput[] {
  const ownFile = (rel: string): string[] => {
    const path = helixSourcePath(workspaceRoot, rel);
    return path === undefined ? [] : [`{workspaceRoot}/${path}`];
  };
  return inputs.flatMap((input): NxInput[] => {
    if (typeof input !== 'string') return [input];
    if (input.startsWith(OWN_FILE_PREFIX)) return ownFile(input.slice(OWN_FILE_PREFIX.length));
    switch (input as (typeof HELIX_INPUTS)[number]) {
      case 'sourceDateEpoch':
        return [{ env: 'SOURCE_DATE_EPOCH' }, { runtime: sourceDateEpochCommand(clock) }];
      case 'gitState':
        return [{ runtime: gitStateCommand() }];
      case 'toolchainPins':
        return ownFile('tools/toolchain/**/*');
      case 'ciEnvironment':
        return CI_ENVIRONMENT.map((env) => ({ env }));
      case 'pluginSigningKeyId':
        return [{ runtime: helixScriptCommand(workspaceRoot, 'plugin-signing-key-id.cjs') }];
      default:
        return [input];
    }
  });
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
  // The grammar of the plugin format (what every verifier accepts); plugin-zip checks the rest of plugin.json.
  const ok = (v: unknown, pattern: RegExp): v is string => typeof v === 'string' && pattern.test(v);
  if (!ok(meta.name, PLUGIN_NAME_PATTERN) || !ok(meta.version, PLUGIN_VERSION_PATTERN)) {
    throw new ReleaseError('CONFIG_INVALID', 'plugin.json needs a "name" of 1 to 64 letters, digits, . _ - and a "version" of letters, digits, . _ + starting with a digit (packages/plugin-zip/README.md)', { file });
  }
  return { name: meta.name, version: meta.version };
}

/**
 * CONFIG_INVALID naming the key when `apps.root` or `plugins.root` is not a
 * folder, no app was found, or `apps.settings` names an app that is not there. Run by release:preflight before any stage;
 * inference itself stays lenient, so that `nx g …:app` works in a workspace
 * that has no app yet.
 */
export function checkLayout(workspaceRoot: string, config: ResolvedConfig, apps: readonly string[]): void {
  requireFolder(workspaceRoot, config, 'apps.root', config.apps.root, 'your app folders (each with a PyInstaller *.spec)');
  if (config.plugins) requireFolder(workspaceRoot, config, 'plugins.root', config.plugins.root, 'your plugin folders (each with a plugin.json)');
  if (apps.length === 0) {
    // A release of no app would be summed, described and signed, and ship nothing.
    throw new ReleaseError(
      'CONFIG_INVALID',
      `apps.root: no app below ${JSON.stringify(config.apps.root)}: an app is a folder holding a PyInstaller *.spec and a pyproject.toml; fix the path, add the spec, or run \`npx nx g @helix-release/nx-plugin:app <name>\` (see docs/configuration.md)`,
      { file: config.file },
    );
  }
  if (config.conformance) requireFolder(workspaceRoot, config, 'conformance.pack', config.conformance.pack, 'the conformance pack (a cases/ folder)');
  for (const [name, settings] of Object.entries(config.apps.settings ?? {})) {
    if (settings.conformance !== undefined) requireFolder(workspaceRoot, config, `apps.settings.${name}.conformance`, settings.conformance, `the conformance pack of ${name} (a cases/ folder)`);
    if (!apps.includes(name)) {
      throw new ReleaseError('CONFIG_INVALID', `apps.settings.${name}: no app is named ${JSON.stringify(name)}; the apps are ${apps.join(', ')} (the name of each pyproject.toml)`, { file: config.file });
    }
  }
}

/** Finds the apps and plugins among `files` (workspace-relative paths). */
export function discover(workspaceRoot: string, config: ResolvedConfig, files: readonly string[]): { apps: AppInfo[]; plugins: PluginInfo[] } {
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
  const seen = new Map<string, string>();
  for (const p of [...apps, ...plugins]) {
    const other = seen.get(p.project);
    if (other) throw new ReleaseError('CONFIG_INVALID', `project name ${p.project} is used by both ${other} and ${p.root}; rename one`, { file: p.root });
    seen.set(p.project, p.root);
  }
  return { apps, plugins };
}

/** The Nx target of one descriptor, for one project (per-project stages) or for `release`. */
function stageTarget(workspaceRoot: string, stage: StageDescriptor, params: TargetParams, extra: { options?: Record<string, unknown>; dependsOn?: InferredTarget['dependsOn'] }): InferredTarget {
  const project = params.project?.name ?? RELEASE_PROJECT;
  // A release stage, or a stage describing its project's artifact, is keyed by what the tasks before it wrote.
  const upstream = stage.scope === 'release' || stage.describesArtifact ? [{ dependentTasksOutputFiles: '**/*', transitive: true }] : [];
  const target: InferredTarget = {
    executor: stage.executor,
    options: { ...(stage.options?.(params) ?? {}), ...extra.options },
    cache: stage.cache,
    dependsOn: extra.dependsOn,
    metadata: { description: stage.description(params), ...(stage.scope === 'release' ? {} : { technologies: stage.scope === 'app' ? ['python'] : undefined }) },
  };
  if (stage.cache) {
    // A per-project stage's clock is its artifact's own (the last commit that changed its inputs), not HEAD's.
    const clock = params.project ? artifactClockPaths(stage, { workspaceRoot, config: params.config, project: params.project }) : undefined;
    target.inputs = [...expandInputs(workspaceRoot, stage.inputs(params), clock), ...executorInputs(workspaceRoot, params.config, stage.package, stage.readsWholeConfig), ...upstream];
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
  const appProject = (a: AppInfo): PlanProject => ({ name: a.project, root: a.root, artifact: a.artifact, spec: a.spec });
  const pluginProject = (p: PluginInfo): PlanProject => ({ name: p.project, root: p.root, artifact: p.artifact });
  const builtInByName = new Map(stages.map((s) => [s.name, s]));
  const plans = { build: releasePlan(stages, config, names), import: releasePlan(stages, config, names, 'import') };
  const perProject = (kind: ProjectKind, project: PlanProject): Record<string, InferredTarget> => {
    const targets: Record<string, InferredTarget> = {};
    const own = new Set(stages.filter((s) => s.scope !== 'release' && scopeIncludes(s.scope, kind)).map((s) => s.name));
    for (const stage of stages.filter((s) => own.has(s.name))) {
      // `after` may name stages of the other kind of project (`package` for a plugin): only this project's count.
      const after = stage.after.filter((name) => own.has(name));
      const every = (stage.afterEvery ?? []).flatMap((name) => {
        const d = builtInByName.get(name);
        const others = d && d.scope !== 'release' ? projectsOf(d.scope, names).filter((p) => p !== project.name) : [];
        return others.length ? [{ target: name, projects: others }] : [];
      });
      const records = projectStageRecords(stages, stage, { name: project.name, kind }, names);
      targets[stage.name] = stageTarget(workspaceRoot, stage, { config, project }, {
        options: records.length ? { records } : {},
        dependsOn: [...after, ...every, ...(stage.toolchain ? [toolchain] : after.length || every.length ? [] : [preflight])],
      });
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
      metadata: { helix: { kind: 'app', name: app.project, version: app.version, artifact: app.artifact } },
      targets: perProject('app', appProject(app)),
    });
  }
  for (const plugin of plugins) {
    projects.push({
      name: plugin.project,
      root: plugin.root,
      projectType: 'library',
      tags: ['helix:plugin'],
      metadata: { helix: { kind: 'plugin', name: plugin.name, version: plugin.version, artifact: plugin.artifact } },
      targets: perProject('plugin', pluginProject(plugin)),
    });
  }

  // What the stages describing an artifact write into the release, for every project: they run beside the release-level stages.
  const describedFiles = [
    ...apps.map((a): [ProjectKind, PlanProject] => ['app', appProject(a)]),
    ...plugins.map((p): [ProjectKind, PlanProject] => ['plugin', pluginProject(p)]),
  ].flatMap(([kind, project]) => stages.filter((s) => s.describesArtifact && s.scope !== 'release' && scopeIncludes(s.scope, kind)).flatMap((s) => s.writes({ config, project })));
  const plan = plans.build;
  const records = (name: string) => ({ records: plan.records[name], importRecords: plans.import.records[name] });
  const targets: Record<string, InferredTarget> = {
    preflight: {
      executor: '@helix-release/nx-plugin:preflight',
      cache: false,
      metadata: { description: 'Before any stage: the release has one version, and a tag at HEAD names it.' },
    },
    // Served from the cache while the pins, the code and what .helix/toolchain holds are unchanged:
    // a warm run starts no process for it. tools/nx/toolchain-state.cjs says why that is safe.
    toolchain: {
      executor: '@helix-release/toolchain:toolchain',
      cache: true,
      inputs: [
        ...executorInputs(workspaceRoot, config, '@helix-release/toolchain'),
        ...expandInputs(workspaceRoot, ['toolchainPins']),
        { runtime: helixScriptCommand(workspaceRoot, 'toolchain-state.cjs', [config.python]) },
      ],
      outputs: [],
      dependsOn: ['preflight'],
      metadata: { description: 'Provision PyInstaller, uv and syft from tools/toolchain (idempotent).' },
    },
  };
  const builtIn = new Map(stages.map((s) => [s.name, s]));
  // A release stage that waits only on the projects' builds would start at once when there
  // is no project to wait for (no app yet): it waits for the preflight too.
  const gated = (deps: string[] = []): string[] => (deps.every((d) => d.startsWith('^')) ? [...deps, 'preflight'] : deps);
  // Custom stages first, then the built-in ones: `nx show project release` lists the team's own stages on top.
  const releaseTargets = [...config.stages.map((s) => s.name), ...plan.releaseTargets.filter((name) => builtIn.has(name))];
  for (const name of releaseTargets) {
    const stage = builtIn.get(name);
    if (stage) {
      targets[name] = stageTarget(workspaceRoot, stage, { config, plans }, { options: records(name), dependsOn: gated(plan.dependsOn[name]) });
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
        // Files other tasks may write while it runs: the other custom stages', and the per-artifact SBOMs (which run beside every release stage).
        siblingOutputs: [...config.stages.filter((s) => s.name !== custom.name).flatMap((s) => s.outputs.map((o) => o.path)), ...describedFiles],
      },
      cache: true,
      inputs: [...custom.inputs, ...executorInputs(workspaceRoot, config, '@helix-release/nx-plugin'), ...executorSourcesOf(workspaceRoot, custom.executor), ...expandInputs(workspaceRoot, ['sourceDateEpoch']), { dependentTasksOutputFiles: '**/*', transitive: true }],
      outputs: [...custom.outputs.map((o) => `{workspaceRoot}/${config.releaseDir}/${o.path}`), manifestOutput(RELEASE_PROJECT, custom.name)],
      dependsOn: gated(plan.dependsOn[name]),
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
  // What may run beside each custom stage: their records and work folders may change while it runs.
  for (const custom of config.stages) targets[custom.name]!.options!['concurrentTasks'] = concurrentTasks(projects, `${RELEASE_PROJECT}/${custom.name}`);
  return projects;
}

/**
 * The tasks of a release run (`release:all` and every task it waits for)
 * that may run while `task` runs: those neither before it nor after it in the
 * task graph, which Nx runs side by side (nx.json `parallel`). For a custom
 * stage of the `build` slot: the other custom stages of its slot and the
 * stages describing each artifact (app-conformance, artifact-sbom); for one of
 * the `conformance` slot, its siblings and artifact-sbom. Tasks are
 * `<project>/<target>`, in the order of the projects and their targets.
 */
export function concurrentTasks(projects: readonly InferredProject[], task: string, run = `${RELEASE_PROJECT}/all`): string[] {
  const byName = new Map(projects.map((p) => [p.name, p]));
  const split = (ref: string): [string, string] => [ref.slice(0, ref.lastIndexOf('/')), ref.slice(ref.lastIndexOf('/') + 1)];
  const has = (project: string, target: string) => byName.get(project)?.targets[target] !== undefined;
  const deps = (ref: string): string[] => {
    const [name, target] = split(ref);
    const project = byName.get(name);
    const upstream = (t: string) => (project?.implicitDependencies ?? []).filter((p) => has(p, t)).map((p) => `${p}/${t}`);
    return (project?.targets[target]?.dependsOn ?? []).flatMap((d) => {
      if (typeof d === 'string') return d.startsWith('^') ? upstream(d.slice(1)) : has(name, d) ? [`${name}/${d}`] : [];
      if (d.dependencies) return upstream(d.target);
      const of = d.projects === undefined ? [name] : typeof d.projects === 'string' ? [d.projects] : d.projects;
      return of.filter((p) => has(p, d.target)).map((p) => `${p}/${d.target}`);
    });
  };
  const before = new Map<string, Set<string>>();
  const ancestors = (ref: string): Set<string> => {
    let seen = before.get(ref);
    if (seen) return seen;
    seen = new Set();
    before.set(ref, seen);
    for (const d of deps(ref)) {
      seen.add(d);
      for (const a of ancestors(d)) seen.add(a);
    }
    return seen;
  };
  const inRun = new Set([run, ...ancestors(run)]);
  const order = projects.flatMap((p) => Object.keys(p.targets).map((t) => `${p.name}/${t}`)).filter((ref) => inRun.has(ref));
  return order.filter((ref) => ref !== task && !ancestors(task).has(ref) && !ancestors(ref).has(task));
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
