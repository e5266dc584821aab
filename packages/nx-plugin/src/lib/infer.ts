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
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import {
  RELEASE_PROJECT,
  ReleaseError,
  canonicalJson,
  sha256Hex,
  installerArtifactName,
  platformTag,
  readAppMetadata,
  releasePlan,
  type ResolvedConfig,
} from '@helix-release/core';

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
 * Nx inputs covering a stage package's own sources and core, and (unless the
 * target carries a `configDigest` of just the settings it reads) the whole
 * release config.
 */
export function executorInputs(stagePackage: string, wholeConfig = true): string[] {
  return [
    `{workspaceRoot}/packages/${stagePackage}/src/**/*.ts`,
    `!{workspaceRoot}/packages/${stagePackage}/src/**/*.spec.ts`,
    `{workspaceRoot}/packages/${stagePackage}/src/**/*.json`,
    `{workspaceRoot}/packages/${stagePackage}/package.json`,
    'coreSources',
    ...(wholeConfig ? ['releaseConfig'] : []),
  ];
}

/**
 * The digest of the release.config.ts settings a per-project target reads,
 * passed as its `configDigest` option (Nx hashes options): adding a custom
 * stage or changing the signing settings then does not rebuild the apps.
 */
export function configDigest(slice: unknown): string {
  return sha256Hex(canonicalJson(slice ?? null));
}

function under(root: string, file: string): boolean {
  const r = posix.normalize(root).replace(/\/$/, '');
  return file.startsWith(`${r}/`);
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

/** All projects with their targets. */
export function inferProjects(workspaceRoot: string, config: ResolvedConfig, files: readonly string[]): InferredProject[] {
  const { apps, plugins } = discover(workspaceRoot, config, files);
  const releaseDir = config.releaseDir;
  const manifest = (project: string, stage: string) => `{workspaceRoot}/dist/manifest/${project}/${stage}.json`;
  const toolchain = { target: 'toolchain', projects: [RELEASE_PROJECT] };
  const projects: InferredProject[] = [];

  for (const app of apps) {
    projects.push({
      name: app.project,
      root: app.root,
      projectType: 'application',
      tags: ['helix:app'],
      metadata: { helix: { kind: 'app', version: app.version, artifact: app.artifact } },
      targets: {
        lock: {
          executor: '@helix-release/lockfile:lock',
          // It reads no setting of release.config.ts.
          options: {},
          cache: true,
          inputs: [
            '{projectRoot}/requirements*.txt',
            '{projectRoot}/pyproject.toml',
            '{projectRoot}/uv.lock',
            ...executorInputs('lockfile', false),
            'toolchainPins',
          ],
          outputs: [manifest(app.project, 'lock')],
          dependsOn: [toolchain],
          metadata: { description: 'Check that every requirement is pinned with hashes and uv.lock is current; write the lock report.', technologies: ['python'] },
        },
        package: {
          executor: '@helix-release/pyinstaller:package',
          options: { spec: app.spec, configDigest: configDigest({ python: config.python, releaseDir: config.releaseDir, apps: config.apps }) },
          cache: true,
          inputs: [
            '{projectRoot}/**/*',
            '!{projectRoot}/tests/**/*',
            ...(config.trustStore ? [`{workspaceRoot}/${config.trustStore}`] : []),
            ...executorInputs('pyinstaller', false),
            'toolchainPins',
            'sourceDateEpoch',
          ],
          outputs: [`{workspaceRoot}/${releaseDir}/${app.artifact}`, manifest(app.project, 'package')],
          dependsOn: ['lock', toolchain],
          metadata: { description: `Build ${app.artifact} with PyInstaller from a clean, hash-locked environment.`, technologies: ['python'] },
        },
      },
    });
  }

  for (const plugin of plugins) {
    const devKey = config.plugins?.developmentKeyFile;
    projects.push({
      name: plugin.project,
      root: plugin.root,
      projectType: 'library',
      tags: ['helix:plugin'],
      metadata: { helix: { kind: 'plugin', version: plugin.version, artifact: plugin.artifact } },
      targets: {
        'plugin-zip': {
          executor: '@helix-release/plugin-zip:plugin-zip',
          options: { configDigest: configDigest({ plugins: config.plugins, releaseDir: config.releaseDir }) },
          cache: true,
          inputs: [
            '{projectRoot}/**/*',
            ...executorInputs('plugin-zip', false),
            'sourceDateEpoch',
            { runtime: 'node tools/nx/plugin-signing-key-id.cjs' },
            ...(devKey ? [`{workspaceRoot}/${devKey}`] : []),
          ],
          outputs: [`{workspaceRoot}/${releaseDir}/${plugin.artifact}`, manifest(plugin.project, 'plugin-zip')],
          metadata: { description: `Build and sign ${plugin.artifact} reproducibly.` },
        },
      },
    });
  }

  const plan = releasePlan(config, { apps: apps.map((a) => a.project), plugins: plugins.map((p) => p.project) });
  const upstream = { dependentTasksOutputFiles: '**/*', transitive: true };
  const releaseFile = (name: string) => `{workspaceRoot}/${releaseDir}/${name}`;
  const targets: Record<string, InferredTarget> = {
    toolchain: {
      executor: '@helix-release/toolchain:toolchain',
      cache: false,
      metadata: { description: 'Provision PyInstaller, uv and syft from tools/toolchain (idempotent).' },
    },
  };
  for (const stage of config.stages) {
    targets[stage.name] = {
      executor: '@helix-release/nx-plugin:custom-stage',
      options: {
        stage: stage.name,
        executor: stage.executor,
        options: stage.options,
        outputs: stage.outputs,
        records: plan.records[stage.name],
        siblingOutputs: config.stages.filter((s) => s.name !== stage.name).flatMap((s) => s.outputs.map((o) => o.path)),
      },
      cache: true,
      inputs: [...stage.inputs, ...executorInputs('nx-plugin'), ...executorSourcesOf(workspaceRoot, stage.executor), 'sourceDateEpoch', upstream],
      outputs: [...stage.outputs.map((o) => releaseFile(o.path)), manifest(RELEASE_PROJECT, stage.name)],
      dependsOn: plan.dependsOn[stage.name],
      metadata: { description: `Custom stage ${stage.name} (${stage.executor}), after ${stage.after}.` },
    };
  }
  targets['conformance'] = {
    executor: '@helix-release/conformance:conformance',
    options: { records: plan.records['conformance'] },
    cache: true,
    inputs: [
      ...(config.conformance ? [`{workspaceRoot}/${config.conformance.pack}/**/*`] : []),
      ...(config.trustStore ? [`{workspaceRoot}/${config.trustStore}`] : []),
      '{workspaceRoot}/tools/conformance.sh',
      '{workspaceRoot}/tools/verify_release_signatures.py',
      '{workspaceRoot}/tools/verify_release_provenance.py',
      ...executorInputs('conformance'),
      'sourceDateEpoch',
      upstream,
    ],
    outputs: [
      releaseFile('conformance-results.json'),
      releaseFile('conformance.log'),
      releaseFile('tools'),
      releaseFile('conformance-pack'),
      manifest(RELEASE_PROJECT, 'conformance'),
    ],
    dependsOn: plan.dependsOn['conformance'],
    metadata: { description: 'Run the conformance pack against the built Studio and plugins.' },
  };
  targets['sbom'] = {
    executor: '@helix-release/sbom:sbom',
    options: { records: plan.records['sbom'] },
    cache: true,
    inputs: [...executorInputs('sbom'), 'toolchainPins', 'sourceDateEpoch', upstream],
    outputs: [releaseFile('SBOM-*.spdx.json'), manifest(RELEASE_PROJECT, 'sbom')],
    dependsOn: plan.dependsOn['sbom'],
    metadata: { description: 'One deterministic SPDX 2.3 SBOM per artifact with syft, cross-checked against the lock.' },
  };
  targets['checksums'] = {
    executor: '@helix-release/checksums:checksums',
    options: { records: plan.records['checksums'] },
    cache: true,
    inputs: [...executorInputs('checksums'), upstream],
    outputs: [releaseFile('SHA256SUMS.txt'), manifest(RELEASE_PROJECT, 'checksums')],
    dependsOn: plan.dependsOn['checksums'],
    metadata: { description: 'SHA256SUMS.txt over every release file.' },
  };
  targets['build-meta'] = {
    executor: '@helix-release/build-meta:build-meta',
    options: { records: plan.records['build-meta'] },
    cache: true,
    inputs: [...executorInputs('build-meta'), 'toolchainPins', 'sourceDateEpoch', 'gitState', 'ciEnvironment', upstream],
    outputs: [releaseFile('BUILD_META.txt'), manifest(RELEASE_PROJECT, 'build-meta')],
    dependsOn: plan.dependsOn['build-meta'],
    metadata: { description: 'BUILD_META.txt: tag, commit, toolchain and one sha256 per release file.' },
  };
  targets['provenance'] = {
    executor: '@helix-release/provenance:provenance',
    options: { records: plan.records['provenance'], targets: plan.stageTargets },
    cache: true,
    inputs: [...executorInputs('provenance'), 'toolchainPins', 'sourceDateEpoch', 'gitState', 'ciEnvironment', upstream],
    outputs: [releaseFile('release-provenance.intoto.json'), manifest(RELEASE_PROJECT, 'provenance')],
    dependsOn: plan.dependsOn['provenance'],
    metadata: { description: 'The in-toto SLSA v1 provenance statement.' },
  };
  targets['sign'] = {
    executor: '@helix-release/sign:sign',
    options: { records: plan.records['sign'] },
    // Never cached: a signature must come from the key of this run, never
    // from a cache entry another branch could have written.
    cache: false,
    dependsOn: plan.dependsOn['sign'],
    metadata: { description: 'Detached OpenPGP signatures, the public key export and the fingerprint file.' },
  };
  targets['all'] = {
    executor: 'nx:noop',
    dependsOn: ['sign'],
    metadata: { description: 'The whole release: every stage in order.' },
  };
  targets['clean'] = {
    executor: '@helix-release/nx-plugin:clean',
    cache: false,
    metadata: { description: `Remove ${releaseDir}, dist/manifest and dist/work.` },
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
