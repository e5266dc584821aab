import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { gitStateCommand, helixFile, platformTag, resolveConfig, sourceDateEpochCommand, type ReleaseConfig } from '@helix-release/core';
import { checkLayout, configDigest, discover, executorInputs, inferProjects, type InferredProject, type InferredTarget } from './infer';

const LICENSE_STAGE = { name: 'license-report', executor: '@acme/license-stage:report', after: 'build' as const, outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }], inputs: ['{workspaceRoot}/LICENSE'] };
const NOTICE_STAGE = { name: 'notice', executor: '@elsewhere/not-installed:notice', after: 'conformance' as const, outputs: [{ path: 'reports/NOTICE.txt' }] };

const BASE: ReleaseConfig = {
  apps: { root: 'apps' },
  plugins: { root: 'plugins' },
  trustStore: 'trust/trust-store.json',
  conformance: { pack: 'conformance' },
  stages: [LICENSE_STAGE, NOTICE_STAGE],
};

/** What createNodes would be given: every spec, plugin.json and release.config.ts of the workspace. */
const FILES = [
  'release.config.ts',
  'apps/studio/helix-studio.spec',
  'plugins/hello/plugin.json',
  'plugins/wordcount/plugin.json',
  // Outside the configured roots: ignored.
  'tools/other.spec',
  'examples/plugin.json',
];

let ws: string;

/** Our packages, as folders of packages/. */
const OUR_PACKAGES = ['core', 'format', 'nx-plugin', 'lockfile', 'pyinstaller', 'plugin-zip', 'conformance', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign'];
/** The clock input of release-level stages here. */
const RELEASE_CLOCK = [{ env: 'SOURCE_DATE_EPOCH' }, { runtime: 'echo "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null)}"' }];


async function put(rel: string, content: string): Promise<void> {
  await mkdir(dirname(join(ws, rel)), { recursive: true });
  await writeFile(join(ws, rel), content);
}

beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-infer-'));
  await put('apps/studio/helix-studio.spec', '# PyInstaller spec\n');
  await put('apps/studio/pyproject.toml', '[project]\nname = "helix-studio"\nversion = "1.4.0"\n');
  await put('plugins/hello/plugin.json', JSON.stringify({ name: 'hello', version: '1.0.0' }));
  await put('plugins/wordcount/plugin.json', JSON.stringify({ name: 'wordcount', version: '2.1.0' }));
  await put('conformance/cases/01-version/args', '--version\n');
  // The workspace holds our packages as npm workspaces (as this repository does): their sources key the cache.
  await put('package.json', JSON.stringify({ name: 'ws', private: true, workspaces: ['packages/*', 'stages/*'] }));
  for (const dir of OUR_PACKAGES) await put(`packages/${dir}/package.json`, JSON.stringify({ name: `@helix-release/${dir}`, version: '0.0.0' }));
  // A custom stage's executor package that lives in the workspace, linked into node_modules as npm workspaces do.
  await put('stages/license/package.json', JSON.stringify({ name: '@acme/license-stage', version: '0.0.0' }));
  await mkdir(join(ws, 'node_modules', '@acme'), { recursive: true });
  await symlink('../../stages/license', join(ws, 'node_modules', '@acme', 'license-stage'));
});
afterAll(async () => {
  await rm(ws, { recursive: true, force: true });
});

function byName(projects: InferredProject[]): Record<string, InferredProject> {
  return Object.fromEntries(projects.map((p) => [p.name, p]));
}

/** Every output of every target. */
function allOutputs(projects: InferredProject[]): string[] {
  return projects.flatMap((p) => Object.values(p.targets).flatMap((t: InferredTarget) => t.outputs ?? []));
}

describe('inferProjects', () => {
  it('infers helix-studio, one plugin-<name> per plugin.json, and release', () => {
    const projects = inferProjects(ws, resolveConfig(BASE), FILES);
    expect(projects.map((p) => [p.name, p.root, p.projectType])).toEqual([
      ['helix-studio', 'apps/studio', 'application'],
      ['plugin-hello', 'plugins/hello', 'library'],
      ['plugin-wordcount', 'plugins/wordcount', 'library'],
      ['release', '.', undefined],
    ]);
    const p = byName(projects);
    expect(p['helix-studio']!.metadata).toEqual({ helix: { kind: 'app', name: 'helix-studio', version: '1.4.0', artifact: `helix-studio-1.4.0-${platformTag()}.zip` } });
    expect(p['plugin-wordcount']!.metadata).toEqual({ helix: { kind: 'plugin', name: 'wordcount', version: '2.1.0', artifact: 'plugins/wordcount-2.1.0.zip' } });
    expect(p['release']!.implicitDependencies).toEqual(['helix-studio', 'plugin-hello', 'plugin-wordcount']);
  });

  it('gives the app lock and package targets with executor sources and sourceDateEpoch as inputs', () => {
    const app = byName(inferProjects(ws, resolveConfig(BASE), FILES))['helix-studio']!;
    expect(Object.keys(app.targets)).toEqual(['lock', 'package', 'app-conformance', 'artifact-sbom']);
    const { lock, package: pkg } = app.targets as Record<string, InferredTarget>;
    expect(lock!.executor).toBe('@helix-release/lockfile:lock');
    expect(lock!.inputs).toEqual(expect.arrayContaining([...executorInputs(ws, resolveConfig(BASE), '@helix-release/lockfile', false), '{projectRoot}/uv.lock', '{workspaceRoot}/tools/toolchain/**/*']));
    // Per-project targets do not take the whole config: an unrelated edit (a custom stage) must not rebuild them.
    expect(lock!.inputs).not.toContain('{workspaceRoot}/release.config.ts');
    expect(lock!.outputs).toEqual(['{workspaceRoot}/dist/manifest/helix-studio/lock.json']);
    expect(pkg!.executor).toBe('@helix-release/pyinstaller:package');
    expect(pkg!.options).toEqual({ spec: 'helix-studio.spec', configDigest: configDigest({ python: 'python3', releaseDir: 'dist/release', env: {} }) });
    // Its clock is the Studio's own: the variable, else the last commit that changed its folder, its stage's code, the pins or the trust store it bundles.
    const clock = { runtime: sourceDateEpochCommand(['apps/studio', 'packages/core', 'packages/format', 'packages/pyinstaller', 'tools/toolchain', 'trust/trust-store.json']) };
    expect(pkg!.inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/packages/pyinstaller/src/**/*.ts', '!{workspaceRoot}/packages/pyinstaller/src/**/*.spec.ts', '{workspaceRoot}/packages/core/src/**/*.ts', { env: 'SOURCE_DATE_EPOCH' }, clock, '{workspaceRoot}/trust/trust-store.json']));
    expect(pkg!.inputs).not.toContainEqual(RELEASE_CLOCK[1]);
    expect(pkg!.inputs).not.toContain('{workspaceRoot}/release.config.ts');
    // The settings it reads are in its options (which Nx hashes): a new python changes them, a new stage does not.
    const withPython = byName(inferProjects(ws, resolveConfig({ ...BASE, python: 'python3.12' }), FILES))['helix-studio']!.targets['package']!;
    expect(withPython.options!['configDigest']).not.toBe(pkg!.options!['configDigest']);
    const withStage = byName(inferProjects(ws, resolveConfig({ ...BASE, stages: [] }), FILES))['helix-studio']!.targets['package']!;
    expect(withStage.options).toEqual(pkg!.options);
    // Its own environment is in its digest; another app's is not.
    const settings = (app: string) => resolveConfig({ ...BASE, apps: { root: 'apps', settings: { [app]: { env: { X: '1' } } } } });
    expect(byName(inferProjects(ws, settings('helix-studio'), FILES))['helix-studio']!.targets['package']!.options!['configDigest']).not.toBe(pkg!.options!['configDigest']);
    expect(byName(inferProjects(ws, settings('other-app'), FILES))['helix-studio']!.targets['package']!.options).toEqual(pkg!.options);
    expect(pkg!.outputs).toEqual([`{workspaceRoot}/dist/release/helix-studio-1.4.0-${platformTag()}.zip`, '{workspaceRoot}/dist/manifest/helix-studio/package.json']);
    expect(pkg!.dependsOn).toEqual(['lock', { target: 'toolchain', projects: ['release'] }]);
  });

  it('in a workspace that installs our packages: no source inputs of ours, our scripts from where they are installed', async () => {
    // No npm workspaces holding @helix-release/*: the lockfile pins our code (Nx hashes the executor's package with its dependencies).
    const other = await mkdtemp(join(tmpdir(), 'helix-infer-installed-'));
    try {
      for (const rel of ['apps/studio/helix-studio.spec', 'apps/studio/pyproject.toml', 'conformance/cases/01/args']) {
        await mkdir(dirname(join(other, rel)), { recursive: true });
        await writeFile(join(other, rel), rel.endsWith('.toml') ? '[project]\nname = "helix-studio"\nversion = "1.4.0"\n' : '');
      }
      const config = resolveConfig({ apps: { root: 'apps' }, conformance: { pack: 'conformance' } });
      const projects = byName(inferProjects(other, config, ['apps/studio/helix-studio.spec']));
      const inputs = Object.values(projects).flatMap((p) => Object.values(p.targets).flatMap((t) => t.inputs ?? []));
      const files = inputs.filter((i): i is string => typeof i === 'string');
      expect(files.filter((f) => f.includes('packages/') || f.includes('tools/'))).toEqual([]);
      expect(files).toEqual(expect.arrayContaining(['{projectRoot}/uv.lock', '{workspaceRoot}/conformance/**/*', '{workspaceRoot}/release.config.ts']));
      const script = helixFile('tools/nx/toolchain-state.cjs');
      expect(existsSync(script)).toBe(true);
      expect(projects['release']!.targets['toolchain']!.inputs).toContainEqual({ runtime: `node ${script} "python3"` });
      expect(projects['helix-studio']!.targets['package']!.inputs).toContainEqual({ runtime: sourceDateEpochCommand(['apps/studio']) });
      expect(projects['release']!.targets['provenance']!.inputs).toContainEqual({ runtime: gitStateCommand() });
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  it('gives each plugin a plugin-zip target', () => {
    const plugin = byName(inferProjects(ws, resolveConfig({ ...BASE, plugins: { root: 'plugins', developmentKeyFile: 'keys/dev.pem' } }), FILES))['plugin-hello']!;
    const zip = plugin.targets['plugin-zip']!;
    expect(zip.executor).toBe('@helix-release/plugin-zip:plugin-zip');
    const clock = { runtime: sourceDateEpochCommand(['keys/dev.pem', 'packages/core', 'packages/format', 'packages/plugin-zip', 'plugins/hello', 'tools/toolchain']) };
    expect(zip.inputs).toEqual(expect.arrayContaining([...executorInputs(ws, resolveConfig(BASE), '@helix-release/plugin-zip', false), { runtime: 'node tools/nx/plugin-signing-key-id.cjs' }, { env: 'SOURCE_DATE_EPOCH' }, clock, '{workspaceRoot}/keys/dev.pem']));
    expect(zip.options!['configDigest']).toMatch(/^[0-9a-f]{64}$/);
    expect(zip.outputs).toEqual(['{workspaceRoot}/dist/release/plugins/hello-1.0.0.zip', '{workspaceRoot}/dist/manifest/plugin-hello/plugin-zip.json']);
  });

  it('gives every app and plugin its own SBOM target, and every app its own conformance run, cached per artifact', () => {
    const projects = byName(inferProjects(ws, resolveConfig(BASE), FILES));
    const studio = projects['helix-studio']!.targets;
    const hello = projects['plugin-hello']!.targets;
    expect(Object.keys(hello)).toEqual(['plugin-zip', 'artifact-sbom']);
    const toolchain = { target: 'toolchain', projects: ['release'] };
    // A plugin's SBOM waits for its own zip only; an app's for its installer, and reads its lock report.
    expect(hello['artifact-sbom']!.dependsOn).toEqual(['plugin-zip', toolchain]);
    expect(hello['artifact-sbom']!.options!['records']).toEqual(['plugin-hello/plugin-zip']);
    expect(hello['artifact-sbom']!.outputs).toEqual(['{workspaceRoot}/dist/release/SBOM-hello-1.0.0.zip.spdx.json', '{workspaceRoot}/dist/release/SBOM-hello-1.0.0.zip.cdx.json', '{workspaceRoot}/dist/manifest/plugin-hello/artifact-sbom.json']);
    expect(studio['artifact-sbom']!.dependsOn).toEqual(['package', toolchain]);
    expect(studio['artifact-sbom']!.options!['records']).toEqual(['helix-studio/lock', 'helix-studio/package']);
    // Keyed by what its build wrote and its own clock, not by the whole config or HEAD's time.
    const sbomClock = { runtime: sourceDateEpochCommand(['apps/studio', 'packages/core', 'packages/format', 'packages/sbom', 'tools/toolchain']) };
    expect(studio['artifact-sbom']!.inputs).toEqual(expect.arrayContaining([{ dependentTasksOutputFiles: '**/*', transitive: true }, sbomClock, '{workspaceRoot}/packages/sbom/src/**/*.ts']));
    expect(studio['artifact-sbom']!.inputs).not.toContain('{workspaceRoot}/release.config.ts');
    expect(studio['artifact-sbom']!.inputs).not.toContainEqual(RELEASE_CLOCK[1]);
    // The app's run needs its installer and every plugin zip; it writes only its record.
    const run = studio['app-conformance']!;
    expect(run.executor).toBe('@helix-release/conformance:app-conformance');
    expect(run.cache).toBe(true);
    expect(run.dependsOn).toEqual(['package', { target: 'plugin-zip', projects: ['plugin-hello', 'plugin-wordcount'] }]);
    expect(run.options!['records']).toEqual(['helix-studio/package', 'plugin-hello/plugin-zip', 'plugin-wordcount/plugin-zip']);
    expect(run.outputs).toEqual(['{workspaceRoot}/dist/manifest/helix-studio/app-conformance.json']);
    expect(run.inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/conformance/**/*', '{workspaceRoot}/tools/conformance.sh', { dependentTasksOutputFiles: '**/*', transitive: true }]));
    expect(run.inputs).not.toContain('{workspaceRoot}/release.config.ts');
    // Another app's environment leaves this app's run alone; its own changes it.
    const settings = (app: string) => resolveConfig({ ...BASE, apps: { root: 'apps', settings: { [app]: { env: { X: '1' } } } } });
    expect(byName(inferProjects(ws, settings('other-app'), FILES))['helix-studio']!.targets['app-conformance']!.options).toEqual(run.options);
    expect(byName(inferProjects(ws, settings('helix-studio'), FILES))['helix-studio']!.targets['app-conformance']!.options!['configDigest']).not.toBe(run.options!['configDigest']);
    // With no plugin, the run waits for the installer only.
    const alone = byName(inferProjects(ws, resolveConfig({ ...BASE, plugins: undefined }), FILES))['helix-studio']!.targets['app-conformance']!;
    expect(alone.dependsOn).toEqual(['package']);
    expect(alone.options!['records']).toEqual(['helix-studio/package']);
  });

  it('gives release every stage of the plan in order, custom stages in their slots', () => {
    const release = byName(inferProjects(ws, resolveConfig(BASE), FILES))['release']!;
    expect(Object.keys(release.targets)).toEqual(['preflight', 'toolchain', 'license-report', 'notice', 'conformance', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign', 'all', 'clean']);
    const t = release.targets;
    expect(t['license-report']!.dependsOn).toEqual(['^package', '^plugin-zip', 'preflight']);
    expect(t['conformance']!.dependsOn).toEqual(['^package', '^plugin-zip', '^app-conformance', 'license-report']);
    expect(t['notice']!.dependsOn).toEqual(['conformance']);
    expect(t['sbom']!.dependsOn).toEqual(['conformance', '^artifact-sbom', 'notice', 'toolchain']);
    expect(t['checksums']!.dependsOn).toEqual(['sbom']);
    expect(t['build-meta']!.dependsOn).toEqual(['sbom']);
    expect(t['provenance']!.dependsOn).toEqual(['checksums', 'build-meta']);
    expect(t['sign']!.dependsOn).toEqual(['provenance']);
    expect(t['all']!.dependsOn).toEqual(['sign']);
    expect(release.metadata?.['helix']).toMatchObject({ stageTargets: ['lock', 'package', 'plugin-zip', 'license-report', 'app-conformance', 'conformance', 'notice', 'artifact-sbom', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign'] });
  });

  it('runs a custom stage through the custom-stage executor with its records, options and inputs', () => {
    const release = byName(inferProjects(ws, resolveConfig(BASE), FILES))['release']!;
    const stage = release.targets['license-report']!;
    expect(stage.executor).toBe('@helix-release/nx-plugin:custom-stage');
    expect(stage.cache).toBe(true);
    expect(stage.options).toEqual({
      stage: 'license-report',
      executor: '@acme/license-stage:report',
      options: {},
      outputs: [{ path: 'THIRD_PARTY_LICENSES.txt', kind: 'custom', sbom: false }],
      records: ['helix-studio/package', 'plugin-hello/plugin-zip', 'plugin-wordcount/plugin-zip'],
      // The import variant of the plan (tools/release_local.sh) hands it the import record instead.
      importRecords: ['imported/import'],
      // The other custom stage's file: stages of a slot run in parallel and must not flag each other;
      // nor the per-artifact SBOMs, written beside every release stage.
      siblingOutputs: ['reports/NOTICE.txt', `SBOM-helix-studio-1.4.0-${platformTag()}.zip.spdx.json`, `SBOM-helix-studio-1.4.0-${platformTag()}.zip.cdx.json`, 'SBOM-hello-1.0.0.zip.spdx.json', 'SBOM-hello-1.0.0.zip.cdx.json', 'SBOM-wordcount-2.1.0.zip.spdx.json', 'SBOM-wordcount-2.1.0.zip.cdx.json'],
      // The tasks Nx may run beside it (neither before nor after it): their records and work folders may change meanwhile.
      // notice is of the conformance slot, after it.
      concurrentTasks: ['helix-studio/app-conformance', 'helix-studio/artifact-sbom', 'plugin-hello/artifact-sbom', 'plugin-wordcount/artifact-sbom'],
    });
    // After conformance, the apps' runs are done: only the per-artifact SBOMs may run beside it.
    expect(release.targets['notice']!.options!['concurrentTasks']).toEqual(['helix-studio/artifact-sbom', 'plugin-hello/artifact-sbom', 'plugin-wordcount/artifact-sbom']);
    // Its own inputs, the nx-plugin's sources, the executor package's sources (a workspace package), the clock.
    expect(stage.inputs).toEqual(expect.arrayContaining([
      '{workspaceRoot}/LICENSE',
      ...executorInputs(ws, resolveConfig(BASE), '@helix-release/nx-plugin'),
      '{workspaceRoot}/stages/license/**/*',
      '!{workspaceRoot}/stages/license/**/*.spec.ts',
      ...RELEASE_CLOCK,
    ]));
    expect(stage.outputs).toEqual(['{workspaceRoot}/dist/release/THIRD_PARTY_LICENSES.txt', '{workspaceRoot}/dist/manifest/release/license-report.json']);
    // An executor package that is not in the workspace adds no file inputs.
    const notice = release.targets['notice']!;
    expect(notice.inputs!.filter((i) => typeof i === 'string' && i.includes('not-installed'))).toEqual([]);
    expect(notice.options!['records']).toEqual(['helix-studio/package', 'plugin-hello/plugin-zip', 'plugin-wordcount/plugin-zip', 'release/license-report', 'release/conformance']);
    expect(notice.options!['importRecords']).toEqual(['imported/import', 'release/license-report', 'release/conformance']);
  });

  it('runs custom stages of one slot side by side, and tells each the other runs beside it', () => {
    const inventory = { name: 'inventory', executor: '@acme/inventory:run', after: 'build' as const, outputs: [{ path: 'inventory.txt' }] };
    const t = byName(inferProjects(ws, resolveConfig({ ...BASE, stages: [LICENSE_STAGE, inventory, NOTICE_STAGE] }), FILES))['release']!.targets;
    const perArtifact = ['helix-studio/app-conformance', 'helix-studio/artifact-sbom', 'plugin-hello/artifact-sbom', 'plugin-wordcount/artifact-sbom'];
    expect(t['license-report']!.options!['concurrentTasks']).toEqual([...perArtifact, 'release/inventory']);
    expect(t['inventory']!.options!['concurrentTasks']).toEqual([...perArtifact, 'release/license-report']);
    expect(t['notice']!.options!['concurrentTasks']).toEqual(perArtifact.slice(1));
  });

  it('hands sbom and provenance the lock reports of every app, and every later stage the records before it', () => {
    const t = byName(inferProjects(ws, resolveConfig(BASE), FILES))['release']!.targets;
    const built = ['helix-studio/package', 'plugin-hello/plugin-zip', 'plugin-wordcount/plugin-zip', 'release/license-report', 'release/conformance', 'release/notice'];
    expect(t['sbom']!.options!['records']).toEqual(['helix-studio/lock', ...built, 'helix-studio/artifact-sbom', 'plugin-hello/artifact-sbom', 'plugin-wordcount/artifact-sbom']);
    // conformance takes over the apps' runs; the stages after it read its record, not theirs.
    expect(t['conformance']!.options!['records']).toEqual(['helix-studio/package', 'plugin-hello/plugin-zip', 'plugin-wordcount/plugin-zip', 'release/license-report', 'helix-studio/app-conformance']);
    expect(t['conformance']!.options!['importRecords']).toEqual(['imported/import', 'release/license-report']);
    expect(t['sbom']!.options!['importRecords']).toEqual(['imported/import', 'helix-studio/lock', 'release/license-report', 'release/conformance', 'release/notice']);
    expect(t['checksums']!.options!['records']).toEqual([...built, 'release/sbom']);
    expect(t['build-meta']!.options!['records']).toEqual([...built, 'release/sbom']);
    expect(t['provenance']!.options!['records']).toEqual(['helix-studio/lock', ...built, 'release/sbom', 'release/checksums', 'release/build-meta']);
    expect(t['sign']!.options!['records']).toEqual([...built, 'release/sbom', 'release/checksums', 'release/build-meta', 'release/provenance']);
    // The import variant keeps the lock reports (release_local.sh runs lock) and swaps the builds for the import record.
    expect(t['provenance']!.options!['importRecords']).toEqual(['imported/import', 'helix-studio/lock', 'release/license-report', 'release/conformance', 'release/notice', 'release/sbom', 'release/checksums', 'release/build-meta']);
    expect(t['provenance']!.options!['targets']).toEqual(['lock', 'package', 'plugin-zip', 'license-report', 'app-conformance', 'conformance', 'notice', 'artifact-sbom', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign']);
    expect(t['provenance']!.options!['importTargets']).toEqual(['lock', 'license-report', 'conformance', 'notice', 'sbom', 'checksums', 'build-meta', 'provenance', 'sign']);
  });

  it('refuses a custom stage that takes a built-in or infrastructure name', () => {
    for (const name of ['sbom', 'lock', 'toolchain', 'all']) {
      const config = resolveConfig({ ...BASE, stages: [{ name, executor: '@acme/x:y', after: 'build', outputs: [{ path: 'x.txt' }] }] });
      expect(() => inferProjects(ws, config, FILES), name).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(new RegExp(`^stages\\[0\\]\\.name: "${name}" is a built-in stage; pick another name`)) }));
    }
  });

  it('includes each stage executor\'s sources and sourceDateEpoch where a timestamp is written', () => {
    const t = byName(inferProjects(ws, resolveConfig(BASE), FILES))['release']!.targets;
    for (const [target, pkg] of [['conformance', 'conformance'], ['sbom', 'sbom'], ['checksums', 'checksums'], ['build-meta', 'build-meta'], ['provenance', 'provenance']] as const) {
      expect(t[target]!.executor).toBe(`@helix-release/${pkg}:${target}`);
      expect(t[target]!.inputs, target).toEqual(expect.arrayContaining(executorInputs(ws, resolveConfig(BASE), `@helix-release/${pkg}`)));
      expect(t[target]!.cache, target).toBe(true);
    }
    for (const target of ['conformance', 'sbom', 'build-meta', 'provenance']) expect(t[target]!.inputs, target).toEqual(expect.arrayContaining(RELEASE_CLOCK));
    expect(t['conformance']!.inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/conformance/**/*', '{workspaceRoot}/trust/trust-store.json']));
    expect(t['provenance']!.inputs).toEqual(expect.arrayContaining([{ runtime: gitStateCommand() }, { env: 'CI' }, { env: 'GITHUB_RUN_ID' }]));
    expect(t['conformance']!.inputs).toEqual(expect.arrayContaining(['{workspaceRoot}/tools/conformance.sh', '{workspaceRoot}/tools/verify_release_signatures.py']));
    // Every symbolic input was expanded: none is left for Nx to look up in nx.json.
    for (const [name, target] of Object.entries(t)) for (const input of target.inputs ?? []) expect(typeof input !== 'string' || input.startsWith('{') || input.startsWith('!{'), `${name}: ${String(input)}`).toBe(true);
  });

  it('never caches sign or clean', () => {
    const t = byName(inferProjects(ws, resolveConfig(BASE), FILES))['release']!.targets;
    expect(t['sign']).toMatchObject({ executor: '@helix-release/sign:sign', cache: false });
    expect(t['sign']!.outputs).toBeUndefined();
    expect(t['clean']!.cache).toBe(false);
  });

  it('caches the toolchain on its pins, its code and what .helix/toolchain holds', () => {
    const t = byName(inferProjects(ws, resolveConfig({ ...BASE, python: 'python3.12' }), FILES))['release']!.targets;
    expect(t['toolchain']).toMatchObject({ executor: '@helix-release/toolchain:toolchain', cache: true, outputs: [], dependsOn: ['preflight'] });
    expect(t['toolchain']!.inputs).toEqual(expect.arrayContaining([
      ...executorInputs(ws, resolveConfig(BASE), '@helix-release/toolchain'),
      '{workspaceRoot}/tools/toolchain/**/*',
      { runtime: 'node tools/nx/toolchain-state.cjs "python3.12"' },
    ]));
  });

  it('puts every output under {workspaceRoot}/dist/release (files) or {workspaceRoot}/dist/manifest (records)', () => {
    const outputs = allOutputs(inferProjects(ws, resolveConfig(BASE), FILES));
    expect(outputs.length).toBeGreaterThan(15);
    for (const o of outputs) expect(o).toMatch(/^\{workspaceRoot\}\/dist\/(release|manifest)\/./);
    expect(outputs).toEqual(expect.arrayContaining([
      '{workspaceRoot}/dist/release/SHA256SUMS.txt',
      '{workspaceRoot}/dist/release/BUILD_META.txt',
      '{workspaceRoot}/dist/release/release-provenance.intoto.json',
      '{workspaceRoot}/dist/release/SBOM-*.spdx.json',
      '{workspaceRoot}/dist/release/SBOM-*.cdx.json',
      '{workspaceRoot}/dist/release/reports/NOTICE.txt',
    ]));
  });

  it('follows a configured release folder', () => {
    const outputs = allOutputs(inferProjects(ws, resolveConfig({ ...BASE, releaseDir: 'out/rel' }), FILES));
    for (const o of outputs) expect(o).toMatch(/^\{workspaceRoot\}\/(out\/rel|dist\/manifest)\/./);
    expect(outputs).toContain('{workspaceRoot}/out/rel/SHA256SUMS.txt');
  });

  it('infers no plugin projects when the config has no plugins', () => {
    const { plugins, ...noPlugins } = BASE;
    expect(plugins).toBeDefined();
    expect(inferProjects(ws, resolveConfig(noPlugins), FILES).map((p) => p.name)).toEqual(['helix-studio', 'release']);
  });
});

describe('discover refuses ambiguous workspaces with CONFIG_INVALID', () => {
  it('a duplicate plugin name', async () => {
    await put('plugins/hello-copy/plugin.json', JSON.stringify({ name: 'hello', version: '9.9.9' }));
    try {
      expect(() => discover(ws, resolveConfig(BASE), [...FILES, 'plugins/hello-copy/plugin.json'])).toThrow(
        // Files are taken in sorted order ('-' sorts before '/'), so the message is the same on every machine.
        expect.objectContaining({ code: 'CONFIG_INVALID', file: 'plugins/hello', message: 'project name plugin-hello is used by both plugins/hello-copy and plugins/hello; rename one' }),
      );
    } finally {
      await rm(join(ws, 'plugins/hello-copy'), { recursive: true });
    }
  });

  it('two specs in one folder', async () => {
    await put('apps/studio/other.spec', '# second spec\n');
    try {
      expect(() => inferProjects(ws, resolveConfig(BASE), [...FILES, 'apps/studio/other.spec'])).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', file: 'apps/studio', message: expect.stringContaining('more than one PyInstaller spec in one folder (apps/studio/helix-studio.spec, apps/studio/other.spec)') }),
      );
    } finally {
      await rm(join(ws, 'apps/studio/other.spec'));
    }
  });

  it.each([
    ['not JSON', '{ name: hello', /not valid JSON/],
    ['no version', JSON.stringify({ name: 'x' }), /needs a "name" of 1 to 64 letters.* and a "version" of .* starting with a digit/],
    ['a name with a slash', JSON.stringify({ name: '../x', version: '1' }), /needs a "name" of 1 to 64 letters/],
    ['a version with a dash (the zip name splits at the last -)', JSON.stringify({ name: 'x', version: '1.0-rc1' }), /a "version" of letters, digits, \. _ \+ starting with a digit/],
  ])('a plugin.json that is %s', async (_what, content, message) => {
    await put('plugins/bad/plugin.json', content);
    try {
      expect(() => discover(ws, resolveConfig(BASE), [...FILES, 'plugins/bad/plugin.json'])).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', file: 'plugins/bad/plugin.json', message: expect.stringMatching(message) }),
      );
    } finally {
      await rm(join(ws, 'plugins/bad'), { recursive: true });
    }
  });

  it.each<[string, Partial<ReleaseConfig>, RegExp]>([
    ['apps.root naming no folder (a typo)', { apps: { root: 'aps' } }, /^apps\.root: "aps" is not a folder of the workspace; point it at the folder that holds your app folders/],
    ['apps.root naming a folder without any app', { apps: { root: 'plugins' } }, /^apps\.root: no app below "plugins": an app is a folder holding a PyInstaller \*\.spec and a pyproject\.toml/],
    ['plugins.root naming no folder', { plugins: { root: 'plugin' } }, /^plugins\.root: "plugin" is not a folder of the workspace/],
    ['apps.settings naming no app', { apps: { root: 'apps', settings: { 'helix-stuido': { env: { A: '1' } } } } }, /^apps\.settings\.helix-stuido: no app is named "helix-stuido"; the apps are helix-studio/],
    ['an app pack naming no folder', { apps: { root: 'apps', settings: { 'helix-studio': { conformance: 'studio-pack' } } } }, /^apps\.settings\.helix-studio\.conformance: "studio-pack" is not a folder of the workspace/],
    ['conformance.pack naming no folder', { conformance: { pack: 'conformence' } }, /^conformance\.pack: "conformence" is not a folder of the workspace/],
  ])('%s: inference goes on (`nx g` must work before the first app), the preflight refuses it', (_what, change, message) => {
    const config = resolveConfig({ ...BASE, ...change });
    const { apps } = discover(ws, config, FILES);
    expect(() => checkLayout(ws, config, apps.map((a) => a.project))).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: 'release.config.ts', message: expect.stringMatching(message) }));
  });

  it('with no app at all, every release target still waits for the preflight (nothing writes before it refuses)', () => {
    const config = resolveConfig({ ...BASE, apps: { root: 'plugins' } });
    const release = byName(inferProjects(ws, config, FILES))['release']!;
    const deps = (name: string): string[] =>
      (release.targets[name]!.dependsOn ?? []).flatMap((d) => (typeof d === 'string' ? (d.startsWith('^') ? [] : [d]) : d.projects === undefined || d.projects.includes('release') ? [d.target] : []));
    const reaches = (name: string, seen = new Set<string>()): boolean => name === 'preflight' || deps(name).some((d) => !seen.has(d) && (seen.add(d), reaches(d, seen)));
    for (const name of Object.keys(release.targets).filter((n) => n !== 'preflight' && n !== 'clean')) expect(reaches(name), name).toBe(true);
  });

  it('passes the layout check of the base workspace', () => {
    expect(() => checkLayout(ws, resolveConfig(BASE), discover(ws, resolveConfig(BASE), FILES).apps.map((a) => a.project))).not.toThrow();
  });

  it('takes apps.root "." as the whole workspace', () => {
    const inside = FILES.filter((f) => f !== 'tools/other.spec');
    expect(discover(ws, resolveConfig({ ...BASE, apps: { root: '.' } }), inside).apps.map((a) => a.project)).toEqual(['helix-studio']);
    // ...so every spec of the workspace is an app: tools/other.spec, which has no pyproject.toml, is refused by name.
    expect(() => discover(ws, resolveConfig({ ...BASE, apps: { root: '.' } }), FILES)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: 'tools/pyproject.toml' }));
  });

  it('an app whose pyproject.toml is missing', async () => {
    await put('apps/nameless/nameless.spec', '# spec\n');
    try {
      expect(() => discover(ws, resolveConfig(BASE), [...FILES, 'apps/nameless/nameless.spec'])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', file: 'apps/nameless/pyproject.toml' }));
    } finally {
      await rm(join(ws, 'apps/nameless'), { recursive: true });
    }
  });
});
