/**
 * Nx caching of the stages: a second `release:all` takes every cacheable task
 * from the cache; editing a Studio source re-runs that project's packaging and
 * what depends on it, not the plugins; editing one plugin re-runs only that
 * plugin's target (and the release-level stages), and the rebuilt zip of an
 * unchanged plugin is byte-identical. A cache entry that was truncated, or
 * whose zip and record were replaced together, is refused before anything is
 * signed, evicted, and rebuilt by the next run.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { appendFile, readdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cachedTasks, cloneWorkspace, nx, plain, ranTasks, removeTemp, run, snapshot, tempRoot } from './workspace';

const CACHEABLE = [
  'helix-greeter:lock',
  'helix-greeter:package',
  'helix-studio:lock',
  'helix-studio:package',
  'plugin-hello:plugin-zip',
  'plugin-wordcount:plugin-zip',
  'helix-greeter:app-conformance',
  'helix-greeter:artifact-sbom',
  'helix-studio:app-conformance',
  'helix-studio:artifact-sbom',
  'plugin-hello:artifact-sbom',
  'plugin-wordcount:artifact-sbom',
  'release:license-report',
  'release:conformance',
  'release:sbom',
  'release:checksums',
  'release:build-meta',
  'release:provenance',
  // Its inputs are the pins and what .helix/toolchain holds (shared by every test workspace, unchanged during the run).
  'release:toolchain',
];
let root: string | undefined;
let ws: string;

beforeAll(async () => {
  root = await tempRoot('cache');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
});
afterAll(async () => removeTemp(root));

describe('caching', () => {
  it('refuses a file dropped into the release folder even when every stage comes from the cache', async () => {
    await writeFile(join(ws, 'dist', 'release', 'stray.txt'), 'dropped in after the build\n');
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).not.toBe(0);
    expect(cachedTasks(r.output)).toContain('release:checksums');
    expect(r.output).toMatch(/SIGN_STRAY_FILE: .*stray\.txt: stray\.txt is in the release folder but no stage of this release produced it/);
    // Nothing signed is left to make the folder look finished.
    expect((await readdir(join(ws, 'dist', 'release'))).filter((f) => f.endsWith('.asc'))).toEqual([]);
    await rm(join(ws, 'dist', 'release', 'stray.txt'));
  });

  // README.md, "Reproducibility": a zip's DOS date starts in 1980, an OpenPGP signature's time ends in 2106.
  it.each(['0', '315532799', '4354819200', '1.5e9'])('stops at the preflight with SOURCE_DATE_EPOCH=%s, leaving the release folder as it was', async (sde) => {
    const release = join(ws, 'dist', 'release');
    const before = await snapshot(release);
    const r = await nx(ws, ['run', 'release:all'], { SOURCE_DATE_EPOCH: sde });
    expect(r.code, r.output).not.toBe(0);
    expect(plain(r.output)).toMatch(/Failed tasks:\s*\n- release:preflight\n/);
    expect(r.output).toContain(`SOURCE_DATE_EPOCH_INVALID: SOURCE_DATE_EPOCH${sde === '1.5e9' ? '="1.5e9" is not a whole number' : `=${sde} is ${Number(sde) < 315532800 ? 'before 1980' : 'after 2106'}`}`);
    expect(await snapshot(release)).toEqual(before);
  });

  it('stops at the preflight outside a git checkout (no commit to record), leaving the release folder as it was', async () => {
    const release = join(ws, 'dist', 'release');
    const before = await snapshot(release);
    await rename(join(ws, '.git'), join(ws, '.git-away'));
    try {
      const r = await nx(ws, ['run', 'release:all'], { SOURCE_DATE_EPOCH: '1700000000' });
      expect(r.code, r.output).not.toBe(0);
      expect(plain(r.output)).toMatch(/Failed tasks:\s*\n- release:preflight\n/);
      expect(r.output).toContain(`SOURCE_COMMIT_MISSING: ${ws}: no git commit at HEAD`);
      expect(await snapshot(release)).toEqual(before);
    } finally {
      await rename(join(ws, '.git-away'), join(ws, '.git'));
    }
  });

  it('stops at the preflight while another release run holds the workspace, naming it, and goes on once it is gone', async () => {
    const release = join(ws, 'dist', 'release');
    const before = await snapshot(release);
    // Another run, as the lock sees one: a live process of this host holding .helix/release-run.json.
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120000)'], { stdio: 'ignore' });
    try {
      await writeFile(join(ws, '.helix', 'release-run.json'), `${JSON.stringify({ pid: other.pid, host: hostname(), started: '2026-12-03T07:00:00.000Z' })}\n`);
      const busy = await nx(ws, ['run', 'release:all']);
      expect(busy.code, busy.output).not.toBe(0);
      expect(plain(busy.output)).toMatch(/Failed tasks:\s*\n- release:preflight\n/);
      expect(busy.output).toContain(`RELEASE_BUSY: ${join(ws, '.helix', 'release-run.json')}: another release run (process ${other.pid} on ${hostname()}, started 2026-12-03T07:00:00.000Z) is running in this workspace`);
      expect(await snapshot(release)).toEqual(before);
    } finally {
      other.kill('SIGKILL');
      await new Promise((r) => other.once('exit', r));
    }
    const after = await nx(ws, ['run', 'release:all']);
    expect(after.code, after.output).toBe(0);
    expect(after.output).toContain(`taking over the workspace from a release run that is no longer running (process ${other.pid}`);
    // A finished run gives the workspace back.
    expect(existsSync(join(ws, '.helix', 'release-run.json'))).toBe(false);
  });

  it('takes every cacheable task from the cache on a second run, and never caches signing', async () => {
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    // release:all prints the summary: never cached, like sign and the preflight.
    expect(ranTasks(r.output).sort()).toEqual([...CACHEABLE, 'release:all', 'release:preflight', 'release:sign'].sort());
    expect(r.output).toMatch(/\[release:all\] release in dist\/release\/ \(built here\)/);
    expect(r.output).toMatch(/\[release:all\] signed by [0-9A-F]{40} \(the DEVELOPMENT key\)/);
    expect(cachedTasks(r.output).sort()).toEqual([...CACHEABLE].sort());
  });

  it('re-runs the Studio packaging, not the plugins, after a Studio source edit', async () => {
    // A change to the code (a comment alone would leave the bytecode, and so the zip, unchanged).
    await appendFile(join(ws, 'workspace-fixtures/studio/src/helix_studio/cli.py'), '\n\ndef _edited() -> int:\n    return 1\n');
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    const cached = cachedTasks(r.output);
    expect(cached).toContain('plugin-hello:plugin-zip');
    expect(cached).toContain('plugin-wordcount:plugin-zip');
    expect(cached).toContain('helix-studio:lock'); // its inputs are the lockfiles, not the sources
    expect(cached).not.toContain('helix-studio:package');
    // The Studio's SBOM and run are made anew; the plugins' SBOMs and the other app's run are not.
    expect(cached).not.toContain('helix-studio:artifact-sbom');
    expect(cached).not.toContain('helix-studio:app-conformance');
    expect(cached).toEqual(expect.arrayContaining(['plugin-hello:artifact-sbom', 'plugin-wordcount:artifact-sbom', 'helix-greeter:artifact-sbom', 'helix-greeter:app-conformance']));
    expect(cached).not.toContain('release:sbom');
  });

  it('re-runs only the edited plugin, and rebuilds an unchanged plugin to the same bytes', async () => {
    const wordcountZip = join(ws, 'dist/release/plugins/wordcount-2.1.0.zip');
    const before = await readFile(wordcountZip);
    const source = join(ws, 'workspace-fixtures/plugins/hello/hello_plugin.py');
    await writeFile(source, `${await readFile(source, 'utf8')}\n\n# An edit that changes the plugin's bytes, not its behaviour.\n`);
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).toBe(0);
    const cached = cachedTasks(r.output);
    expect(cached).not.toContain('plugin-hello:plugin-zip');
    expect(cached).toContain('plugin-wordcount:plugin-zip');
    expect(cached).toContain('helix-studio:package');

    const rebuilt = await nx(ws, ['run', 'plugin-wordcount:plugin-zip', '--skip-nx-cache']);
    expect(rebuilt.code, rebuilt.output).toBe(0);
    expect(cachedTasks(rebuilt.output)).toEqual([]);
    expect((await readFile(wordcountZip)).equals(before)).toBe(true);
  });

  /** The Nx cache entries holding `rel` (a workspace path) with the bytes it has now. */
  async function entriesHolding(rel: string): Promise<string[]> {
    const now = await readFile(join(ws, rel));
    const out: string[] = [];
    for (const entry of await readdir(join(ws, '.nx', 'cache'))) {
      const copy = await readFile(join(ws, '.nx', 'cache', entry, rel)).catch(() => undefined);
      if (copy?.equals(now)) out.push(entry);
    }
    return out;
  }
  const ZIP = 'dist/release/plugins/wordcount-2.1.0.zip';
  const RECORD = 'dist/manifest/plugin-wordcount/plugin-zip.json';
  const signatures = async () => (await readdir(join(ws, 'dist', 'release'))).filter((f) => f.endsWith('.asc'));
  const verify = () =>
    run(process.execPath, [join(ws, 'packages/cli/bin/helix-release.cjs'), 'verify', join(ws, 'dist/release'), '--fingerprint', '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4', '--allow-development-key', '--allow-dirty', '--trust-store', join(ws, 'workspace-fixtures/trust-store/trust-store.json')], { cwd: ws });

  it('refuses a truncated cache entry before signing, evicts it, and the next run rebuilds it', async () => {
    expect((await nx(ws, ['run', 'release:all'])).code).toBe(0);
    const [entry, ...more] = await entriesHolding(ZIP);
    expect(more).toEqual([]);
    const good = await readFile(join(ws, ZIP));
    await truncate(join(ws, '.nx', 'cache', entry!, ZIP), 1000);
    await rm(join(ws, ZIP)); // so that Nx restores it from the entry
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).not.toBe(0);
    expect(cachedTasks(r.output)).toContain('plugin-wordcount:plugin-zip');
    expect(r.output).toContain(`${join(ws, ZIP)}: changed since plugin-wordcount:plugin-zip wrote it (1000 bytes, recorded ${good.length}) (removed the Nx cache entry it was restored from, ${entry}: the next run rebuilds it); re-run the release`);
    expect(await signatures()).toEqual([]);
    expect(existsSync(join(ws, '.nx', 'cache', entry!))).toBe(false);
    const refused = await verify();
    expect(refused.code, refused.output).toBe(1);
    expect(refused.output).toMatch(/^FAILED (UNSIGNED|SIGNATURE_MISSING|SUMS_MISSING)/m);

    const again = await nx(ws, ['run', 'release:all']);
    expect(again.code, again.output).toBe(0);
    expect(ranTasks(again.output)).toContain('plugin-wordcount:plugin-zip');
    expect((await readFile(join(ws, ZIP))).equals(good)).toBe(true);
    const verified = await verify();
    expect(verified.code, verified.output).toBe(0);
  });

  it('refuses a cache entry whose zip and record were replaced together (the seal no longer matches), evicts it, and rebuilds', async () => {
    const [entry] = await entriesHolding(RECORD);
    expect(entry).toBeDefined();
    // Other bytes (the hello plugin's zip) and a record that names them with the right size and sha256: all an attacker can write.
    const other = await readFile(join(ws, 'dist/release/plugins', (await readdir(join(ws, 'dist/release/plugins'))).find((f) => f.startsWith('hello-'))!));
    const record = JSON.parse(await readFile(join(ws, RECORD), 'utf8')) as { artifacts: { sha256: string; size: number }[] };
    record.artifacts[0]!.sha256 = createHash('sha256').update(other).digest('hex');
    record.artifacts[0]!.size = other.length;
    await writeFile(join(ws, '.nx', 'cache', entry!, ZIP), other);
    await writeFile(join(ws, '.nx', 'cache', entry!, RECORD), `${JSON.stringify(record, null, 2)}\n`);
    await rm(join(ws, ZIP));
    await rm(join(ws, RECORD));
    const r = await nx(ws, ['run', 'release:all']);
    expect(r.code, r.output).not.toBe(0);
    expect(r.output).toContain(`MANIFEST_INVALID: ${join(ws, RECORD)}: this record of plugin-wordcount:plugin-zip was not written by a stage run of this workspace (its seal does not match .helix/record-key)`);
    expect(r.output).toContain(`(removed the Nx cache entry it was restored from, ${entry}: the next run rebuilds it); run the release again`);
    expect(await signatures()).toEqual([]);
    expect(existsSync(join(ws, '.nx', 'cache', entry!))).toBe(false);

    const again = await nx(ws, ['run', 'release:all']);
    expect(again.code, again.output).toBe(0);
    expect(ranTasks(again.output)).toContain('plugin-wordcount:plugin-zip');
    expect((await readFile(join(ws, ZIP))).equals(other)).toBe(false);
    const verified = await verify();
    expect(verified.code, verified.output).toBe(0);
  });
});
