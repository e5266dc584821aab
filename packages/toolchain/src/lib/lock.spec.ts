/**
 * The toolchain lock: an interrupted run (its process gone) no longer blocks
 * every later run for 30 minutes; a live one is waited for, named.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withToolchainLock } from './provision';

let root = '';
const lines: string[] = [];
const logger = { info: (m: string) => lines.push(`info ${m}`), warn: (m: string) => lines.push(`warn ${m}`), notice: (m: string) => lines.push(m), error: (m: string) => lines.push(m) };
const lockOf = (pid: number) => writeFile(join(root, '.lock', 'owner.json'), JSON.stringify({ pid, host: hostname(), started: '2026-01-01T00:00:00.000Z' }));

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'helix-lock-'));
  lines.length = 0;
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('withToolchainLock', () => {
  it('writes its owner, and removes the lock when done', async () => {
    const owner = await withToolchainLock(root, logger as never, async () => JSON.parse(await readFile(join(root, '.lock', 'owner.json'), 'utf8')) as { pid: number; host: string });
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(existsSync(join(root, '.lock'))).toBe(false);
  });

  it('takes over at once the lock of a process that is gone, naming it', async () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await mkdir(join(root, '.lock'));
    await lockOf(Number(gone.stdout));
    const started = Date.now();
    expect(await withToolchainLock(root, logger as never, async () => 'ran')).toBe('ran');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines).toEqual([expect.stringMatching(new RegExp(`^warn taking over the toolchain lock of process ${gone.stdout}, which is gone`))]);
  });

  it('waits for a live owner, naming it, and goes on when it is gone', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    await mkdir(join(root, '.lock'));
    await lockOf(child.pid!);
    const done = withToolchainLock(root, logger as never, async () => 'ran');
    await new Promise((r) => setTimeout(r, 1500));
    expect(lines[0]).toMatch(new RegExp(`^info another run is provisioning the toolchain \\(process ${child.pid} on `));
    expect(existsSync(join(root, '.lock'))).toBe(true);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(await done).toBe('ran');
    expect(lines.some((l) => l.startsWith(`warn taking over the toolchain lock of process ${child.pid}`))).toBe(true);
  });

  it('takes over a lock without an owner after a minute', async () => {
    await mkdir(join(root, '.lock'));
    const old = new Date(Date.now() - 120_000);
    await utimes(join(root, '.lock'), old, old);
    expect(await withToolchainLock(root, logger as never, async () => 'ran')).toBe('ran');
    expect(lines).toEqual([expect.stringMatching(/^warn taking over a stale toolchain lock \(2 min old\)/)]);
  });
});
