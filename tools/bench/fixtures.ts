/**
 * Bench fixtures: big files of random bytes, written in chunks (never held in
 * memory whole), and throwaway workspaces whose release holds them, recorded
 * by a stage record the way the package stage would record them.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { createStageContext, resolveConfig, writeStageRecord, type Logger, type StageContext } from '@helix-release/core';

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Generation chunk: one buffer, refilled with random bytes and written out. */
const GEN_CHUNK = 16 * MiB;

/** The record the bench workspaces use: `bench/package`. */
export const BENCH_RECORD = { project: 'bench', stage: 'package' } as const;
export const BENCH_REF = `${BENCH_RECORD.project}/${BENCH_RECORD.stage}`;

/** Writes `size` random bytes to `path` in chunks, fsyncs, and returns the file's sha256 (computed while writing). */
export function writeRandomFile(path: string, size: number): string {
  mkdirSync(dirname(path), { recursive: true });
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafe(Math.min(GEN_CHUNK, Math.max(size, 1)));
  const fd = openSync(path, 'w');
  try {
    let left = size;
    while (left > 0) {
      const n = Math.min(left, buffer.length);
      const chunk = buffer.subarray(0, n);
      randomFillSync(chunk);
      hash.update(chunk);
      let off = 0;
      while (off < n) off += writeSync(fd, chunk, off, n - off);
      left -= n;
    }
    // Flush to disk now, so background writeback does not run during timings.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}

/** Reads a file once and throws the bytes away, so the page cache holds it for every contender. */
export function warmCache(path: string): void {
  const buffer = Buffer.allocUnsafe(8 * MiB);
  const fd = openSync(path, 'r');
  try {
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
  } finally {
    closeSync(fd);
  }
}

export interface BenchArtifact {
  /** Path inside the release folder. */
  path: string;
  size: number;
}

export interface BenchWorkspace {
  root: string;
  releaseDir: string;
  /** Absolute paths of the artifacts, in the order given. */
  files: string[];
}

/** The config the bench workspaces use (no release.config.ts on disk). */
export function benchConfig() {
  return resolveConfig({ apps: { root: 'apps' } });
}

/**
 * Creates a workspace under `root` whose release (`dist/release`) holds
 * `artifacts` filled with random bytes, all listed by the record `bench/package`.
 */
export async function makeWorkspace(root: string, artifacts: readonly BenchArtifact[]): Promise<BenchWorkspace> {
  const config = benchConfig();
  const releaseDir = join(root, config.releaseDir);
  const files: string[] = [];
  const recorded = [];
  for (const artifact of artifacts) {
    const file = join(releaseDir, artifact.path);
    const sha256 = writeRandomFile(file, artifact.size);
    files.push(file);
    recorded.push({ path: artifact.path, kind: 'installer' as const, sha256, size: artifact.size, sbom: false });
  }
  await writeStageRecord(root, { ...BENCH_RECORD, artifacts: recorded });
  return { root, releaseDir, files };
}

const silent: Logger = { info: () => {}, warn: () => {}, notice: () => {}, error: () => {} };

/** The StageContext the checksums stage gets in a bench workspace (release-level, silent logger, empty env). */
export function benchContext(root: string): Promise<StageContext> {
  return createStageContext({ stage: 'checksums', project: 'release', workspaceRoot: root, config: benchConfig(), env: {}, logger: silent });
}

/** CPU time (seconds) of the whole machine (busy) and of this process plus its waited-for children, from /proc. */
function cpuSnapshot(): { busy: number; total: number; self: number } | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
    // Fields after the command name (which is in parentheses and may hold spaces).
    const self = readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ').map(Number);
    const [utime = 0, stime = 0, cutime = 0, cstime = 0] = self.slice(11, 15);
    const hz = 100; // USER_HZ; 100 on every Linux ABI Node runs on
    return { busy: (user + nice + system + irq + softirq + steal) / hz, total: (user + nice + system + idle + iowait + irq + softirq + steal) / hz, self: (utime + stime + cutime + cstime) / hz };
  } catch {
    return undefined;
  }
}

/**
 * Measures how many cores *other* processes kept busy (on average) between
 * start and stop: the machine's busy CPU time minus this process's and its
 * children's, over the wall time. Undefined off Linux.
 */
export function otherLoadMeter(): () => number | undefined {
  const start = cpuSnapshot();
  const cores = availableParallelism();
  return () => {
    const end = cpuSnapshot();
    if (!start || !end || end.total <= start.total) return undefined;
    const wall = (end.total - start.total) / cores;
    return Math.max(0, (end.busy - start.busy - (end.self - start.self)) / wall);
  };
}
