/**
 * `nx affected` after a commit that touches one plugin: Nx names that plugin
 * and the release project as affected, and running the release's stage
 * targets (all but sign) for them rebuilds that plugin's zip and the evidence
 * stages while the warm cache serves everything else, the Studio's
 * PyInstaller build included.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cachedTasks, cloneWorkspace, git, nx, plain, ranTasks, removeTemp, run, tempRoot } from './workspace';

const baseWs = inject('baseWorkspace');
let root: string | undefined;
let ws: string;
let firstCommit: string;
let stageTargets: string[];

beforeAll(async () => {
  root = await tempRoot('affected');
  ws = await cloneWorkspace(baseWs, join(root, 'ws'));
  firstCommit = git(ws, 'rev-list', '--max-parents=0', 'HEAD');
  // The stage targets of the release, in order, as the CLI prints them from release.config.ts.
  const plan = await run(process.execPath, ['packages/cli/bin/helix-release.cjs', 'plan'], { cwd: ws });
  expect(plan.code, plan.output).toBe(0);
  stageTargets = plan.stdout.split('\n').filter(Boolean);
  expect(stageTargets.at(-1)).toBe('sign');
  // One commit on a branch that changes one plugin. git() commits at the fixed
  // date of the first commit, so SOURCE_DATE_EPOCH (the commit time of HEAD, an
  // input of most targets) stays the same and the cache entries still match.
  git(ws, 'checkout', '-q', '-b', 'hello-comment');
  const source = join(ws, 'workspace-fixtures/plugins/hello/hello_plugin.py');
  await writeFile(source, `${await readFile(source, 'utf8')}\n# A comment: changes the plugin zip's bytes, not its behaviour.\n`);
  git(ws, 'commit', '-q', '-am', 'hello: a comment');
});
afterAll(async () => removeTemp(root));

describe('nx affected after a commit to one plugin', () => {
  it('names plugin-hello and release (through its implicit dependency on every plugin), nothing else', async () => {
    const r = await nx(ws, ['show', 'projects', '--affected', `--base=${firstCommit}`, '--head=HEAD']);
    expect(r.code, r.output).toBe(0);
    const projects = r.stdout.split('\n').map((l) => l.trim()).filter(Boolean);
    expect(projects).toContain('plugin-hello');
    expect(projects).toContain('release');
    expect(projects).not.toContain('helix-studio');
    expect(projects).not.toContain('plugin-wordcount');
    expect(projects.sort()).toEqual(['plugin-hello', 'release']);
  });

  it('rebuilds the plugin and the evidence stages, and serves the Studio build from the cache', async () => {
    const targets = stageTargets.filter((t) => t !== 'sign');
    expect(targets).toEqual(expect.arrayContaining(['plugin-zip', 'sbom', 'checksums', 'build-meta', 'provenance']));
    const r = await nx(ws, ['affected', `--base=${firstCommit}`, '--head=HEAD', '-t', targets.join(',')]);
    expect(r.code, r.output).toBe(0);
    // Nx runs the requested targets that exist on the two affected projects
    // (plugin-hello's plugin-zip and artifact-sbom, and the release's stages;
    // `lock`/`package`/`app-conformance` exist on neither) plus the tasks they
    // depend on: the release's stages depend on `^package`, `^plugin-zip`,
    // `^app-conformance`, `^artifact-sbom` and `release:toolchain`, and `^`
    // spans the release project's implicit dependencies, so the apps' tasks
    // and plugin-wordcount's join the run although their projects are not
    // affected. Their inputs did not change, so the warm cache serves them
    // (the PyInstaller builds, every other SBOM and the toolchain); each app's conformance
    // run is made anew, since it tests the changed plugin.
    expect(plain(r.output)).toMatch(/for 2 projects and 12 tasks they depend on/);
    const ran = ranTasks(r.output);
    expect([...ran].sort()).toEqual(
      [
        'helix-greeter:lock',
        'helix-greeter:package',
        'helix-greeter:app-conformance',
        'helix-greeter:artifact-sbom',
        'helix-studio:lock',
        'helix-studio:package',
        'helix-studio:app-conformance',
        'helix-studio:artifact-sbom',
        'plugin-hello:plugin-zip',
        'plugin-hello:artifact-sbom',
        'plugin-wordcount:plugin-zip',
        'plugin-wordcount:artifact-sbom',
        'release:build-meta',
        'release:checksums',
        'release:conformance',
        'release:license-report',
        'release:preflight',
        'release:provenance',
        'release:sbom',
        'release:toolchain',
      ].sort(),
    );
    expect(ran).not.toContain('release:sign');
    expect(cachedTasks(r.output).sort()).toEqual(
      ['helix-greeter:lock', 'helix-greeter:package', 'helix-greeter:artifact-sbom', 'helix-studio:lock', 'helix-studio:package', 'helix-studio:artifact-sbom', 'plugin-wordcount:plugin-zip', 'plugin-wordcount:artifact-sbom', 'release:toolchain'].sort(),
    );
    expect(plain(r.output)).toMatch(/> nx run helix-studio:package\s+\[local cache\]/);
    // Run, not restored: the edited plugin, and every release-level stage
    // (each takes its upstream tasks' output files as inputs).
    for (const task of ['plugin-hello:plugin-zip', 'plugin-hello:artifact-sbom', 'helix-studio:app-conformance', 'release:license-report', 'release:conformance', 'release:sbom', 'release:checksums', 'release:build-meta', 'release:provenance']) {
      expect(plain(r.output), task).toMatch(new RegExp(`> nx run ${task}\\s*\\n`));
    }

    const zip = (dir: string, name: string) => readFile(join(dir, 'dist/release/plugins', name));
    expect((await zip(ws, 'hello-1.0.0.zip')).equals(await zip(baseWs, 'hello-1.0.0.zip'))).toBe(false);
    expect((await zip(ws, 'wordcount-2.1.0.zip')).equals(await zip(baseWs, 'wordcount-2.1.0.zip'))).toBe(true);
    // The re-run checksums stage covers the new zip (sign did not run, so the .asc files are stale).
    const sums = await run('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: join(ws, 'dist/release') });
    expect(sums.code, sums.output).toBe(0);
    expect(sums.stdout).toMatch(/^plugins\/hello-1\.0\.0\.zip: OK$/m);
  });
});
