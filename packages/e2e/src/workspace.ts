/**
 * Test workspaces: copies of this repository (the files git tracks or would
 * track, as they are in the working tree) in a temporary folder, committed
 * into a fresh git repository with a fixed date, sharing node_modules and the
 * provisioned toolchain by symlink. Nx runs there exactly as a user runs it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { listFiles } from '@helix-release/core';

/** The repository under test. */
export const repoRoot = resolve(__dirname, '../../..');

/** The commit time of every test workspace's first commit (SOURCE_DATE_EPOCH by default). */
export const FIXED_COMMIT_DATE = '2026-01-02T03:04:05Z';
/** That date as SOURCE_DATE_EPOCH. */
export const FIXED_EPOCH = Date.parse(FIXED_COMMIT_DATE) / 1000;

/** Environment for Nx in tests: no daemon, no cloud, no TUI, no secrets from the caller. */
export function testEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', NX_SKIP_NX_CACHE: undefined, FORCE_COLOR: '0' };
  for (const key of ['GPG_PRIVATE_KEY', 'GPG_PASSPHRASE', 'GPG_PUBLIC_KEY_FINGERPRINT', 'HELIX_PLUGIN_SIGNING_KEY', 'SOURCE_DATE_EPOCH', 'HELIX_RELEASE_IMPORT', 'GITHUB_ACTIONS']) delete env[key];
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Runs git in `cwd` with a fixed identity and date. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'helix e2e',
      GIT_AUTHOR_EMAIL: 'e2e@helix-release.invalid',
      GIT_COMMITTER_NAME: 'helix e2e',
      GIT_COMMITTER_EMAIL: 'e2e@helix-release.invalid',
      GIT_AUTHOR_DATE: FIXED_COMMIT_DATE,
      GIT_COMMITTER_DATE: FIXED_COMMIT_DATE,
    },
  }).trim();
}

/** Files of the repository as git sees them (tracked plus untracked-not-ignored). */
export function repoFiles(): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: repoRoot, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
}

/** A fresh temporary parent folder for one test file's workspaces. */
export async function tempRoot(name: string): Promise<string> {
  return mkdtemp(join(process.env['HELIX_E2E_TMP'] ?? tmpdir(), `helix-e2e-${name}-`));
}

/**
 * Copies the repository to `dest` and commits it. Node modules and the
 * toolchain are shared by symlink (they are read-only to a release).
 */
export async function makeWorkspace(dest: string): Promise<string> {
  await mkdir(dest, { recursive: true });
  for (const rel of repoFiles()) {
    const from = join(repoRoot, rel);
    const to = join(dest, rel);
    await mkdir(dirname(to), { recursive: true });
    await cp(from, to, { preserveTimestamps: false, verbatimSymlinks: true }).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // deleted in the working tree but still tracked
    });
  }
  await symlink(join(repoRoot, 'node_modules'), join(dest, 'node_modules'));
  await mkdir(join(dest, '.helix'), { recursive: true });
  await symlink(join(repoRoot, '.helix', 'toolchain'), join(dest, '.helix', 'toolchain'));
  git(dest, 'init', '-q', '-b', 'main');
  git(dest, 'add', '-A');
  git(dest, 'commit', '-q', '-m', 'test workspace');
  return dest;
}

/**
 * A second checkout of the commit at HEAD of `src` (a `git clone`), in `dest`,
 * with node_modules and the toolchain linked as in {@link makeWorkspace}.
 */
export async function checkoutCommit(src: string, dest: string): Promise<string> {
  await mkdir(dirname(dest), { recursive: true });
  execFileSync('git', ['clone', '-q', '--no-hardlinks', src, dest]);
  // The clone's `origin` would name the first folder in the provenance's source URI.
  execFileSync('git', ['remote', 'remove', 'origin'], { cwd: dest });
  await symlink(join(repoRoot, 'node_modules'), join(dest, 'node_modules'));
  await mkdir(join(dest, '.helix'), { recursive: true });
  await symlink(join(repoRoot, '.helix', 'toolchain'), join(dest, '.helix', 'toolchain'));
  return dest;
}

/** Copies a whole workspace folder (with its dist/, .nx/ and git history) to `dest`. */
export async function cloneWorkspace(src: string, dest: string): Promise<string> {
  await cp(src, dest, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  return dest;
}

/** The outcome of a command. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  output: string;
}

/** Runs a command, capturing output; never throws on a non-zero exit. */
export function run(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv; umask?: number; input?: string }): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    // umask is per process: run through sh so each build can have its own.
    const [cmd, argv] = options.umask === undefined
      ? [command, [...args]]
      : ['sh', ['-c', `umask ${options.umask.toString(8).padStart(3, '0')} && exec "$0" "$@"`, command, ...args]];
    const child = spawn(cmd, argv, { cwd: options.cwd, env: options.env ?? testEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      output += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
      output += d;
    });
    child.on('error', reject);
    // A child that exits before reading its input must not crash the test run with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr, output }));
    child.stdin.end(options.input ?? '');
  });
}

/** Runs `nx` in a workspace. */
export function nx(cwd: string, args: readonly string[], env: Record<string, string | undefined> = {}, umask?: number): Promise<RunResult> {
  return run(process.execPath, [join(cwd, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args], { cwd, env: testEnv(env), umask });
}

/** Output without ANSI escapes (Nx colours its output when CI=true, whatever the terminal). */
export function plain(output: string): string {
  // eslint-disable-next-line no-control-regex
  return output.replace(/\x1b\[[0-9;]*m/g, '');
}

/** Names of the tasks Nx took from its cache in a run's output. */
export function cachedTasks(output: string): string[] {
  return [...plain(output).matchAll(/> nx run (\S+?)\s+\[(?:local cache|existing outputs match the cache, left as is)\]/g)].map((m) => m[1]!);
}

/** Names of all tasks a run's output shows. */
export function ranTasks(output: string): string[] {
  return [...plain(output).matchAll(/> nx run (\S+?)(?:\s|$)/g)].map((m) => m[1]!);
}

/** Removes a folder (tests keep them when HELIX_E2E_KEEP=1, for debugging). */
export async function removeTemp(dir: string | undefined): Promise<void> {
  if (dir && process.env['HELIX_E2E_KEEP'] !== '1') await rm(dir, { recursive: true, force: true });
}

/** Every file under `dir` with its bytes (as base64), to compare a folder before and after a run. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of await listFiles(dir)) out[f] = (await readFile(join(dir, f))).toString('base64');
  return out;
}
