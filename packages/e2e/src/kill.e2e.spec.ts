/**
 * kill -9 in the middle of a release: while PyInstaller packages the Studio,
 * and while sign writes the signatures. After each, `helix-release verify`
 * never passes a half-written folder (it fails, or the folder is exactly the
 * one the next run makes), and the next `release:all` recovers on its own:
 * exit 0, and a release that verifies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cloneWorkspace, git, nx, removeTemp, repoRoot, run, snapshot, tempRoot, testEnv } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const HELIX_RELEASE = join(repoRoot, 'packages/cli/bin/helix-release.cjs');
let root: string | undefined;
let ws: string;

beforeAll(async () => {
  root = await tempRoot('kill');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
});
afterAll(async () => removeTemp(root));

/** `release:all` in its own process group, so that kill -9 reaches every task and tool it started. */
function startRelease(): ChildProcess {
  return spawn(process.execPath, [join(ws, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'run', 'release:all'], { cwd: ws, env: testEnv(), detached: true, stdio: 'ignore' });
}

/** True while some process's command line holds every one of `parts` (read from /proc: no pgrep needed). */
async function running(...parts: string[]): Promise<boolean> {
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (parts.every((p) => cmdline.includes(p))) return true;
  }
  return false;
}

async function until(what: string, test: () => boolean | Promise<boolean>, ms = 300_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function killGroup(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
}

const verify = (dir: string) => run(process.execPath, [HELIX_RELEASE, 'verify', dir, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--commit', git(ws, 'rev-parse', 'HEAD')], { cwd: ws });

/** After a kill: verify fails, or the folder is already the one a full run makes; then the next run recovers. */
async function expectRecovery(): Promise<void> {
  const release = join(ws, 'dist', 'release');
  const afterKill = await snapshot(release);
  const judged = await verify(release);
  const r = await nx(ws, ['run', 'release:all']);
  expect(r.code, r.output).toBe(0);
  const v = await verify(release);
  expect(v.code, v.output).toBe(0);
  if (judged.code === 0) expect(afterKill, 'verify passed a folder the next run changed').toEqual(await snapshot(release));
}

describe('kill -9 during a release', () => {
  it('while PyInstaller packages the Studio: the next run recovers, and verify never passes a half-written folder', async () => {
    // A code change, so that the Studio is packaged anew.
    await appendFile(join(ws, 'workspace-fixtures/studio/src/helix_studio/cli.py'), '\n\ndef _killed() -> int:\n    return 2\n');
    git(ws, 'commit', '-q', '-am', 'studio: a change to package anew');
    const child = startRelease();
    await until('PyInstaller to run', () => running('PyInstaller', '--distpath', ws));
    await killGroup(child);
    await expectRecovery();
  });

  it('while sign writes the signatures: the next run recovers, and verify never passes a half-written folder', async () => {
    const release = join(ws, 'dist', 'release');
    const signatures = async () => (await readdir(release)).filter((f) => f.endsWith('.asc') && f !== 'release-signing-public-key.asc').length;
    expect(await signatures()).toBeGreaterThan(0);
    const child = startRelease();
    // sign removes the previous signatures first, then writes the new ones: kill it in between or while it writes.
    await until('sign to start', async () => (await signatures()) === 0);
    await killGroup(child);
    await expectRecovery();
  });
});
