/**
 * A full disk during a release (issue 18, "The pipeline under faults"): a
 * small tmpfs on the workspace's dist/. Three points where it fills:
 *
 *   - while the package stage's zip writer writes the Studio installer
 *     (the tmpfs shrunk to its usage + 4 MiB when the zip's temporary file
 *     appears: less than a fifth of the ~22 MB installer);
 *   - while sign writes the signatures and DSSE envelopes: every cached stage restored by Nx
 *     onto an empty disk sized 40 KiB below what the whole release takes
 *     (the 12 signature files, the sign record and two timings take 15 pages);
 *   - while Nx restores cached outputs: an empty disk with room for the
 *     Studio installer and half the greeter's, not both.
 *
 * Each run exits non-zero, names the file it could not write (ours) or says
 * the disk is full (Nx's restore, which stops the whole run), leaves no
 * temporary file, no record that vouches for a truncated file and nothing
 * `helix-release verify` takes; and with room again the next `release:all`
 * recovers on its own: exit 0, and a release that verifies.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { appendFile, readdir, readFile, rm, stat, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isTempFile, listFiles } from '@helix-release/core';
import { cloneWorkspace, git, nx, plain, removeTemp, repoRoot, run, tempRoot, type RunResult } from './workspace';

const DEV_FINGERPRINT = '4F40C2A82074F58CCBC320F1EE876E4DFFF5DFA4';
const HELIX_RELEASE = join(repoRoot, 'packages/cli/bin/helix-release.cjs');
/** A tmpfs is memory, used only as far as it is filled: "big" is room for anything a release writes (~400 MB with the PyInstaller scratch). */
const BIG = '2g';

/** Why a tmpfs cannot be mounted here (an unprivileged container), or undefined when it can. Tried once, when the file is collected. */
function mountProblem(): string | undefined {
  if (process.platform !== 'linux') return `tmpfs mounts need Linux (this is ${process.platform})`;
  const dir = mkdtempSync(join(tmpdir(), 'helix-e2e-mount-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const detail = `${(err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message}`;
    // Only a missing privilege skips: any other failure of mount is a failure of this file.
    if (process.getuid?.() !== 0 || /permission denied|not permitted|must be superuser|EPERM/i.test(detail)) return `mount -t tmpfs is not permitted here (uid ${process.getuid?.()}): ${detail}`;
    throw new Error(`mount -t tmpfs failed as root: ${detail}`);
  } finally {
    rmdirSync(dir);
  }
}

const cannotMount = mountProblem();
// eslint-disable-next-line no-console
if (cannotMount) console.warn(`disk-full.e2e.spec.ts SKIPPED: ${cannotMount}; it needs root (CAP_SYS_ADMIN) to mount a small tmpfs on dist/`);

let root: string | undefined;
let ws: string;
let dist: string;
let release: string;
let mounted = false;
/** The Studio installer's name and the sizes of both installers in the base release. */
let studioZip: string;
let installerBytes: number[];

function mount(size: string): void {
  execFileSync('mount', mounted ? ['-o', `remount,size=${size}`, dist] : ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dist], { stdio: 'pipe' });
  mounted = true;
}

/** KiB in use on the tmpfs. */
async function usedKiB(): Promise<number> {
  const s = await statfs(dist);
  return ((s.blocks - s.bfree) * s.bsize) / 1024;
}

/** Empties the tmpfs (dist/ itself is the mount point). */
async function emptyDist(): Promise<void> {
  for (const name of await readdir(dist)) await rm(join(dist, name), { recursive: true, force: true });
}

const releaseAll = () => nx(ws, ['run', 'release:all']);
const verify = () => run(process.execPath, [HELIX_RELEASE, 'verify', release, '--fingerprint', DEV_FINGERPRINT, '--allow-development-key', '--commit', git(ws, 'rev-parse', 'HEAD')], { cwd: ws });
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The release folder's files, or none when the disk filled before it was made. */
const releaseFiles = () => listFiles(release).catch(() => [] as string[]);

/**
 * What a failed run left: no temporary file of an atomic write; every file a
 * stage record lists is, if present, the one it recorded (size and sha256):
 * no record vouches for a truncated file; SHA256SUMS.txt, if present, passes
 * `sha256sum -c`; and `helix-release verify` does not pass the folder.
 */
async function expectNothingTaken(failed: RunResult, { sumsCheck = true } = {}): Promise<RunResult> {
  const files = await releaseFiles();
  expect((await listFiles(dist)).filter((f) => isTempFile(f)), 'temporary files of atomic writes left in dist/').toEqual([]);
  const manifest = join(dist, 'manifest');
  for (const rel of await listFiles(manifest).catch(() => [] as string[])) {
    let record: { artifacts?: { path: string; sha256: string; size: number }[] };
    try {
      record = JSON.parse(await readFile(join(manifest, rel), 'utf8')) as typeof record;
    } catch {
      continue; // a record cut short by the full disk is refused by every stage that reads it (MANIFEST_INVALID)
    }
    for (const a of record.artifacts ?? []) {
      const file = join(release, a.path);
      const size = await stat(file).then((s) => s.size, () => undefined);
      if (size === undefined) continue;
      expect(size, `${a.path}: its size against dist/manifest/${rel}`).toBe(a.size);
      expect(createHash('sha256').update(await readFile(file)).digest('hex'), `${a.path}: its sha256 against dist/manifest/${rel}`).toBe(a.sha256);
    }
  }
  if (sumsCheck && files.includes('SHA256SUMS.txt')) {
    const sums = await run('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: release });
    expect(sums.code, `sha256sum -c on what the failed run left:\n${sums.output}\n--- the run:\n${failed.output}`).toBe(0);
  }
  const v = await verify();
  expect(v.code, `verify passed what a failed run left:\n${v.output}\n--- the run:\n${failed.output}`).not.toBe(0);
  return v;
}

/** With room again, the next release:all recovers: exit 0, and a release that verifies. */
async function expectRecovery(): Promise<void> {
  mount(BIG);
  const r = await releaseAll();
  expect(r.code, r.output).toBe(0);
  const v = await verify();
  expect(v.code, v.output).toBe(0);
  expect((await listFiles(dist)).filter((f) => isTempFile(f))).toEqual([]);
}

beforeAll(async () => {
  if (cannotMount) return;
  root = await tempRoot('disk-full');
  ws = await cloneWorkspace(inject('baseWorkspace'), join(root, 'ws'));
  dist = join(ws, 'dist');
  release = join(dist, 'release');
  const base = join(inject('baseWorkspace'), 'dist', 'release');
  const installers = (await readdir(base)).filter((f) => /^helix-(studio|greeter)-.*\.zip$/.test(f)).sort();
  expect(installers).toHaveLength(2);
  studioZip = installers.find((f) => f.startsWith('helix-studio-'))!;
  installerBytes = await Promise.all(installers.map(async (f) => (await stat(join(base, f))).size));
  // An empty tmpfs over the built dist/: a first run restores the release from the Nx cache onto it.
  mount(BIG);
  const r = await releaseAll();
  expect(r.code, r.output).toBe(0);
});

afterAll(async () => {
  try {
    if (mounted) {
      try {
        execFileSync('umount', [dist], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dist], { stdio: 'pipe' }); // still busy: detach it, it goes when the last user does
      }
      mounted = false;
    }
  } finally {
    await removeTemp(root);
  }
});

describe.skipIf(cannotMount !== undefined)(`a full disk during a release${cannotMount ? ` (SKIPPED: ${cannotMount})` : ''}`, () => {
  it('while the zip writer writes the Studio installer: fails naming the zip, leaves nothing verify takes, and the next run recovers', async () => {
    // A code change, so that the Studio is packaged anew (everything else is already on the disk).
    await appendFile(join(ws, 'workspace-fixtures/studio/src/helix_studio/cli.py'), '\n\ndef _disk_full() -> int:\n    return 4\n');
    git(ws, 'commit', '-q', '-am', 'studio: a change to package anew');
    const temp = new RegExp(`^\\.${escape(studioZip)}\\.tmp-`);
    let shrunk: string | undefined;
    let finished = false;
    const watch = (async () => {
      while (!finished && !shrunk) {
        const names = await readdir(release).catch(() => [] as string[]);
        if (names.some((n) => temp.test(n))) {
          // The disk fills now: room for 4 MiB more of the ~22 MB zip.
          const size = `${Math.ceil(await usedKiB()) + 4096}k`;
          mount(size);
          shrunk = size;
        } else await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const r = await releaseAll();
    finished = true;
    await watch;
    expect(shrunk, `the Studio zip's temporary file never appeared in dist/release:\n${r.output}`).toBeDefined();
    expect(r.code, r.output).not.toBe(0);
    const out = plain(r.output);
    expect(out).toMatch(/Failed tasks:\s*\n- helix-studio:package\n/);
    expect(out).toMatch(new RegExp(`\\[helix-studio:package\\] error: WRITE_FAILED: ${escape(join(release, studioZip))}: not written \\(ENOSPC: no space left on device`));
    expect(out).not.toMatch(/Successfully ran/);
    expect(await releaseFiles()).not.toContain(studioZip);
    await expectNothingTaken(r);
    await expectRecovery();
  });

  it('while sign writes the signatures (the rest restored from the Nx cache): fails naming the signature, leaves nothing signed, and the next run recovers', async () => {
    // What the whole release takes on an empty disk, every stage but sign restored from the cache.
    await emptyDist();
    const good = await releaseAll();
    expect(good.code, good.output).toBe(0);
    const full = Math.ceil(await usedKiB());
    await emptyDist();
    mount(`${full - 40}k`);
    const r = await releaseAll();
    expect(r.code, r.output).not.toBe(0);
    const out = plain(r.output);
    expect(out).toMatch(/Failed tasks:\s*\n- release:sign\n/);
    expect(out).toMatch(new RegExp(`\\[release:sign\\] error: WRITE_FAILED: ${escape(release)}/[^:\\s]+\\.(asc|txt|dsse\\.json|pem): not written \\(ENOSPC: no space left on device`));
    expect(out).not.toMatch(/Successfully ran/);
    // Everything else is there, whole, and unsigned: no signature of a failed sign is left.
    expect((await releaseFiles()).filter((f) => f.endsWith('.asc') || f.endsWith('.dsse.json') || f.endsWith('.pem') || f === 'release-signing-key-fingerprint.txt')).toEqual([]);
    expect(await releaseFiles()).toContain('SHA256SUMS.txt');
    const v = await expectNothingTaken(r);
    expect(v.output).toMatch(/FAILED UNSIGNED/);
    await expectRecovery();
  });

  it("while Nx restores cached outputs: exits non-zero, leaves nothing verify takes, and the next run restores the release whole", async () => {
    await emptyDist();
    // Room for the Studio installer and half the greeter's: the restore of the installers cannot finish.
    const [greeter, studio] = installerBytes as [number, number];
    expect(studio).toBeGreaterThan(greeter / 2);
    mount(`${Math.ceil((studio + greeter / 2) / 1024)}k`);
    const r = await releaseAll();
    expect(r.code, r.output).not.toBe(0);
    // Nx stops the whole run on a failed restore ("Successfully ran …" above its error is Nx's, for the tasks before it):
    // no stage of ours runs after it, so no SHA256SUMS.txt, statement or signature can describe what it left.
    expect(plain(r.output)).toMatch(/No space left on device/);
    expect(plain(r.output)).not.toMatch(/> nx run release:sign/);
    expect((await releaseFiles()).filter((f) => f.endsWith('.asc'))).toEqual([]);
    await expectNothingTaken(r);
    await expectRecovery();
  });
});
