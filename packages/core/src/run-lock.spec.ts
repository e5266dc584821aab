/**
 * The release-level lock: a second run in the same workspace stops at once,
 * naming the first; a run that died leaves nothing that blocks the next.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimReleaseRun, finishReleaseRun, processStartTicks, releaseRunFile, type RunOwner } from './run-lock';

let ws = '';
const said: string[] = [];
const owner = (pid: number, host = hostname()): RunOwner => ({ pid, host, started: '2026-12-03T07:00:00.000Z' });
const deadPid = () => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-run-lock-'));
  said.length = 0;
});
afterEach(async () => rm(ws, { recursive: true, force: true }));

describe('claimReleaseRun', () => {
  it('claims a free workspace, and again for the same run; finishReleaseRun gives it back', async () => {
    await claimReleaseRun(ws, owner(process.pid), (m) => said.push(m));
    await claimReleaseRun(ws, owner(process.pid), (m) => said.push(m));
    expect(JSON.parse(await readFile(releaseRunFile(ws), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    await finishReleaseRun(ws, owner(process.pid));
    expect(existsSync(releaseRunFile(ws))).toBe(false);
    expect(said).toEqual([]);
  });

  it('refuses while another live run holds it, naming that run and the file', async () => {
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      await claimReleaseRun(ws, owner(other.pid!), () => {});
      const err = await claimReleaseRun(ws, owner(process.pid), () => {}).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'RELEASE_BUSY', file: releaseRunFile(ws) });
      expect((err as Error).message).toMatch(new RegExp(`^another release run \\(process ${other.pid} on ${hostname()}, started .*\\) is running in this workspace; wait for it`));
      // Only the owner gives it back.
      await finishReleaseRun(ws, owner(process.pid));
      expect(existsSync(releaseRunFile(ws))).toBe(true);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('refuses a claim of another host (a shared folder): its process cannot be checked', async () => {
    await claimReleaseRun(ws, owner(1, 'elsewhere.invalid'), () => {});
    await expect(claimReleaseRun(ws, owner(process.pid), () => {})).rejects.toMatchObject({ code: 'RELEASE_BUSY' });
  });

  it('takes over a claim whose PID now belongs to another process (reused), by its start time', async () => {
    await claimReleaseRun(ws, { ...owner(process.pid), ticks: (processStartTicks(process.pid) ?? 0) + 1 }, () => {});
    await claimReleaseRun(ws, owner(process.ppid), (m) => said.push(m));
    expect(said).toHaveLength(1);
  });

  it('takes over the claim of a run whose process is gone, saying so', async () => {
    const gone = deadPid();
    await claimReleaseRun(ws, owner(gone), () => {});
    await claimReleaseRun(ws, owner(process.pid), (m) => said.push(m));
    expect(said).toEqual([`taking over the workspace from a release run that is no longer running (process ${gone}, started 2026-12-03T07:00:00.000Z)`]);
    expect(JSON.parse(await readFile(releaseRunFile(ws), 'utf8'))).toMatchObject({ pid: process.pid });
  });
});
