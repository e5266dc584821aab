import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatDuration, readTimings, recordTiming, startTimings, timingsDir } from './timings';

let ws: string;
beforeEach(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-timings-'));
});
afterEach(async () => {
  await rm(ws, { recursive: true, force: true });
});

describe('timings', () => {
  it('gives back what the tasks of this run recorded, in start order, and forgets earlier runs', async () => {
    await recordTiming(ws, { task: 'release:sbom', started: 2_000, ms: 900, success: true });
    await startTimings(ws);
    await recordTiming(ws, { task: 'release:sign', started: 3_000, ms: 50, success: false });
    await recordTiming(ws, { task: 'helix-studio:package', started: 1_000, ms: 41_200, success: true });
    expect(await readTimings(ws)).toEqual([
      { task: 'helix-studio:package', started: 1_000, ms: 41_200, success: true },
      { task: 'release:sign', started: 3_000, ms: 50, success: false },
    ]);
    expect((await readdir(timingsDir(ws))).sort()).toEqual(['helix-studio_package.json', 'release_sign.json']);
  });

  it('leaves out a half-written file, and is empty without a folder', async () => {
    expect(await readTimings(ws)).toEqual([]);
    await recordTiming(ws, { task: 'release:sbom', started: 1, ms: 2, success: true });
    await writeFile(join(timingsDir(ws), 'release_killed.json'), '{"task": "release:kil');
    expect((await readTimings(ws)).map((t) => t.task)).toEqual(['release:sbom']);
  });

  it.each([
    [400, '0.4 s'],
    [41_249, '41.2 s'],
    [59_949, '59.9 s'],
    [125_000, '2 min 05 s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
