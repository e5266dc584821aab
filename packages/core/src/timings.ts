/**
 * How long each task of this run took, for the summary `release:all` prints.
 * Every task writes its time to dist/work/.timings/ when it ends; the
 * preflight, the first task of every run (each task waits for it), empties
 * the folder first, so the folder holds exactly the tasks that ran in this
 * run: a task Nx served from its cache wrote none. Scratch only: never a
 * task output, never in the release, never cached.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One task's time. */
export interface TaskTiming {
  /** `<project>:<target>` */
  task: string;
  /** Wall-clock start, in ms since the epoch (only for ordering). */
  started: number;
  ms: number;
  success: boolean;
}

/** The folder of this run's timings. */
export function timingsDir(workspaceRoot: string): string {
  return join(workspaceRoot, 'dist', 'work', '.timings');
}

/** The file of one task's time in {@link timingsDir}: `<project>:<target>` with anything but letters, digits, `.`, `_` and `-` as `_`, then `.json`. */
export function timingFileName(task: string): string {
  return `${task.replace(/[^A-Za-z0-9._-]/g, '_')}.json`;
}

/** Starts a run: forgets the timings of earlier runs. */
export async function startTimings(workspaceRoot: string): Promise<void> {
  await rm(timingsDir(workspaceRoot), { recursive: true, force: true });
}

/** Records one task's time (best effort: a timing never fails a task). */
export async function recordTiming(workspaceRoot: string, timing: TaskTiming): Promise<void> {
  try {
    await mkdir(timingsDir(workspaceRoot), { recursive: true });
    await writeFile(join(timingsDir(workspaceRoot), timingFileName(timing.task)), `${JSON.stringify(timing)}\n`);
  } catch {
    // the summary then says less
  }
}

/** This run's timings, in the order the tasks started. */
export async function readTimings(workspaceRoot: string): Promise<TaskTiming[]> {
  let names: string[];
  try {
    names = (await readdir(timingsDir(workspaceRoot))).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: TaskTiming[] = [];
  for (const name of names) {
    try {
      const t = JSON.parse(await readFile(join(timingsDir(workspaceRoot), name), 'utf8')) as TaskTiming;
      if (typeof t.task === 'string' && typeof t.ms === 'number' && typeof t.started === 'number') out.push(t);
    } catch {
      // a half-written timing of a killed task: leave it out
    }
  }
  return out.sort((a, b) => a.started - b.started || a.task.localeCompare(b.task));
}

/** `41.2 s`, `0.4 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}
