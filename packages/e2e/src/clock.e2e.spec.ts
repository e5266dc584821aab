/**
 * Each artifact's clock is the last commit that changed its inputs, so a
 * commit to one plugin, made a day later, leaves every other artifact's bytes
 * and cache key alone: their tasks come from the cache, and the rebuilt
 * release is byte-identical to a clean build of that commit in another clone.
 */
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listFiles, readZipDirectory } from '@helix-release/core';
import { FIXED_EPOCH, cachedTasks, cloneWorkspace, nx, ranTasks, removeTemp, repoRoot, run, tempRoot, testEnv, type RunResult } from './workspace';

const baseWs = inject('baseWorkspace');
const A_DAY_LATER = FIXED_EPOCH + 86_400;
let root: string | undefined;
let ws: string;
let clean: string;
let rebuilt: RunResult;
let cleanBuild: RunResult;
let appEdit: RunResult;
let cleanDiffer: { files: string[]; otherFiles: string[]; differ: string[] };

/** The tasks a run executed (not served from the cache). */
const executed = (output: string) => ranTasks(output).filter((t) => !cachedTasks(output).includes(t));

/** The files of two release folders, and those whose bytes differ. */
async function differingFiles(a: string, b: string) {
  const files = await listFiles(a);
  const differ: string[] = [];
  for (const f of files) {
    if (!(await readFile(join(a, f))).equals(await readFile(join(b, f)).catch(() => Buffer.alloc(0)))) differ.push(f);
  }
  return { files, otherFiles: await listFiles(b), differ };
}

/** git with the test identity, committing at `seconds`. */
function gitAt(cwd: string, seconds: number, ...args: string[]) {
  const when = `@${seconds} +0000`;
  return run('git', args, {
    cwd,
    env: testEnv({ GIT_AUTHOR_NAME: 'helix e2e', GIT_AUTHOR_EMAIL: 'e2e@helix-release.invalid', GIT_COMMITTER_NAME: 'helix e2e', GIT_COMMITTER_EMAIL: 'e2e@helix-release.invalid', GIT_AUTHOR_DATE: when, GIT_COMMITTER_DATE: when }),
  });
}

beforeAll(async () => {
  root = await tempRoot('clock');
  ws = await cloneWorkspace(baseWs, join(root, 'ws'));
  const source = join(ws, 'workspace-fixtures/plugins/hello/hello_plugin.py');
  await writeFile(source, `${await readFile(source, 'utf8')}\n# A day later: changes this plugin's bytes only.\n`);
  expect((await gitAt(ws, A_DAY_LATER, 'commit', '-q', '-am', 'hello: a comment, a day later')).code).toBe(0);
  rebuilt = await nx(ws, ['run', 'release:all']);

  // A clean build of the same commit: another clone, no dist/, no Nx cache.
  clean = join(root, 'clean');
  expect((await run('git', ['clone', '-q', ws, clean], { cwd: root })).code).toBe(0);
  // The same source as the first workspace, which has no remote (the provenance names the remote).
  expect((await run('git', ['remote', 'remove', 'origin'], { cwd: clean })).code).toBe(0);
  await symlink(join(repoRoot, 'node_modules'), join(clean, 'node_modules'));
  await mkdir(join(clean, '.helix'), { recursive: true });
  await symlink(join(repoRoot, '.helix', 'toolchain'), join(clean, '.helix', 'toolchain'));
  cleanBuild = await nx(clean, ['run', 'release:all', '--skip-nx-cache']);
  // Compared before the next commit changes the first workspace's release.
  cleanDiffer = await differingFiles(join(ws, 'dist/release'), join(clean, 'dist/release'));

  const greeter = join(ws, 'workspace-fixtures/greeter/README.md');
  await writeFile(greeter, `${await readFile(greeter, 'utf8')}\nA day and an hour later: changes this app's folder only.\n`);
  expect((await gitAt(ws, A_DAY_LATER + 3600, 'commit', '-q', '-am', 'greeter: a README line')).code).toBe(0);
  appEdit = await nx(ws, ['run', 'release:all']);
}, 25 * 60_000);
afterAll(async () => removeTemp(root));

describe('a commit to one plugin, a day later', () => {
  it('rebuilds that plugin and the release-level stages, and serves every other artifact from the cache', () => {
    expect(rebuilt.code, rebuilt.output).toBe(0);
    // Every other artifact's build and SBOM come from the cache; the release-level SBOM stage takes them over.
    expect(cachedTasks(rebuilt.output).sort()).toEqual(
      expect.arrayContaining(['helix-studio:lock', 'helix-studio:package', 'helix-studio:artifact-sbom', 'helix-greeter:package', 'helix-greeter:artifact-sbom', 'plugin-wordcount:plugin-zip', 'plugin-wordcount:artifact-sbom']),
    );
    expect(executed(rebuilt.output)).toEqual(expect.arrayContaining(['plugin-hello:plugin-zip', 'plugin-hello:artifact-sbom']));
    // Each app is tested with the changed plugin; nothing ran syft over an installer.
    expect(executed(rebuilt.output)).toEqual(expect.arrayContaining(['helix-studio:app-conformance', 'helix-greeter:app-conformance']));
    expect(rebuilt.output).toMatch(/\[release:sbom\] taking over 4 per-artifact SBOMs/);
    expect(rebuilt.output).not.toMatch(/\[release:sbom\] syft .* over/);
  });

  it("dates each zip by its own inputs' last commit", async () => {
    // The DOS time and date words of every local header (offsets 10 and 12): one value per zip, its clock.
    const dosTimes = async (zip: string) => {
      const data = await readFile(join(ws, 'dist/release', zip));
      const entries = readZipDirectory(data, zip);
      return [...new Set(entries.map((e) => `${data.readUInt16LE(e.localHeaderOffset + 12)}:${data.readUInt16LE(e.localHeaderOffset + 10)}`))];
    };
    const hello = await dosTimes('plugins/hello-1.0.0.zip');
    const wordcount = await dosTimes('plugins/wordcount-2.1.0.zip');
    expect(hello).toHaveLength(1);
    expect(wordcount).toHaveLength(1);
    // A day apart: the DOS date word differs by one day.
    expect(Number(hello[0]!.split(':')[0]) - Number(wordcount[0]!.split(':')[0])).toBe(1);
    // The untouched plugin is byte for byte the base build's.
    expect((await readFile(join(ws, 'dist/release/plugins/wordcount-2.1.0.zip'))).equals(await readFile(join(baseWs, 'dist/release/plugins/wordcount-2.1.0.zip')))).toBe(true);
  });

  it('then a commit to one app re-runs no plugin task and none of the other app', async () => {
    expect(appEdit.code, appEdit.output).toBe(0);
    const ran = executed(appEdit.output);
    expect(ran).toEqual(expect.arrayContaining(['helix-greeter:package', 'helix-greeter:artifact-sbom', 'helix-greeter:app-conformance']));
    expect(ran.filter((t) => t.startsWith('plugin-') || t.startsWith('helix-studio:'))).toEqual([]);
  });

  it('gives a release byte-identical to a clean build of that commit in another clone', async () => {
    expect(cleanBuild.code, cleanBuild.output).toBe(0);
    const { files, otherFiles, differ } = cleanDiffer;
    expect(otherFiles).toEqual(files);
    expect(differ).toEqual([]);
    expect(files.length).toBeGreaterThan(20);
  });
});
