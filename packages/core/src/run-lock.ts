/**
 * The release-level lock: one `release:all` at a time in a workspace. Two runs
 * at once would overwrite each other's zips, records and signatures and fail
 * with messages that never mention each other. The preflight (the first task
 * of every run) claims `.helix/release-run.json` for the Nx process that runs
 * it; the summary (`release:all`, the last) gives it back. A claim whose
 * process is gone (a killed or failed run) is taken over, saying so.
 */
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ReleaseError } from './errors';

/** Who runs the release: the Nx process of the run (the executors' parent), its host and start. */
export interface RunOwner {
  pid: number;
  host: string;
  started: string;
  /** The process's start time in clock ticks since boot (Linux), so that a PID reused by another process is not taken for it. */
  ticks?: number;
}

/** When `pid` started, in clock ticks since boot, where /proc tells (Linux); undefined elsewhere. */
export function processStartTicks(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(ticks) ? ticks : undefined;
  } catch {
    return undefined;
  }
}

/** True unless the process `pid` of this host is known to be gone. */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The lock file of a workspace. */
export function releaseRunFile(workspaceRoot: string): string {
  return join(workspaceRoot, '.helix', 'release-run.json');
}

/** This run's owner: the Nx process that forked the executor. */
export function currentRunOwner(): RunOwner {
  return { pid: process.ppid, host: hostname(), started: new Date().toISOString(), ticks: processStartTicks(process.ppid) };
}

/** True while the run `owner` (of this host) is still going: its process lives and is the same one. */
function isRunning(owner: RunOwner): boolean {
  if (!isProcessAlive(owner.pid)) return false;
  const ticks = processStartTicks(owner.pid);
  return owner.ticks === undefined || ticks === undefined || ticks === owner.ticks;
}

async function readOwner(file: string): Promise<RunOwner | undefined> {
  try {
    const owner = JSON.parse(await readFile(file, 'utf8')) as Partial<RunOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host, started: String(owner.started), ticks: typeof owner.ticks === 'number' ? owner.ticks : undefined } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Claims the workspace for `owner`: RELEASE_BUSY while another live run of
 * this host (or any run of another host sharing the folder) holds it; a claim
 * whose process is gone is taken over, and `say` tells so.
 */
export async function claimReleaseRun(workspaceRoot: string, owner: RunOwner, say: (message: string) => void): Promise<void> {
  const file = releaseRunFile(workspaceRoot);
  for (let attempt = 0; attempt < 3; attempt++) {
    const held = await readOwner(file);
    if (held && held.pid === owner.pid && held.host === owner.host) return; // this run's own claim
    if (held && (held.host !== owner.host || isRunning(held))) {
      throw new ReleaseError(
        'RELEASE_BUSY',
        `another release run (process ${held.pid} on ${held.host}, started ${held.started}) is running in this workspace; wait for it to finish or stop it, then run again (two runs at once would overwrite each other's files). If no such run exists, delete this file.`,
        { file },
      );
    }
    if (held) {
      say(`taking over the workspace from a release run that is no longer running (process ${held.pid}, started ${held.started})`);
      await rm(file, { force: true });
    }
    try {
      // Exclusive create: of two runs that start together, one wins, the other reads its claim.
      const handle = await open(file, 'wx');
      await handle.writeFile(`${JSON.stringify(owner)}\n`);
      await handle.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        await mkdir(join(workspaceRoot, '.helix'), { recursive: true });
        continue;
      }
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new ReleaseError('RELEASE_BUSY', 'another release run claimed this workspace at the same moment; run again once it has finished', { file });
}

/** Gives the claim back at the end of a run (only `owner`'s own). */
export async function finishReleaseRun(workspaceRoot: string, owner: Pick<RunOwner, 'pid' | 'host'>): Promise<void> {
  const file = releaseRunFile(workspaceRoot);
  const held = await readOwner(file);
  if (held && held.pid === owner.pid && held.host === owner.host) await rm(file, { force: true });
}
