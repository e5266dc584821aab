/**
 * Benchmark of the checksums stage (see README.md here):
 *
 *   1. throughput on one 1 GiB artifact vs `openssl dgst -sha256`;
 *   2. peak RSS of a child process hashing a 2 GiB artifact (and its baseline
 *      over a 1-byte artifact);
 *   3. eight 256 MiB artifacts vs `sha256sum` run on them one after another;
 *   4. (information only, BENCH_CANDIDATES=0 skips it) candidate changes to
 *      packages/core/src/hash.ts against the current code, same files, same run.
 *
 *   npm run bench      (node -r @swc-node/register tools/bench/bench.ts)
 *
 * Prints a table and writes the same figures to dist/bench/checksums.json.
 * The artifacts live in a temporary folder under os.tmpdir(), removed at the
 * end whatever happens.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { checksumsStage } from '@helix-release/checksums';
import { ReleaseRecords, sha256File, sha256Files } from '@helix-release/core';
import { CHILD_MARKER, type ChildReport } from './checksums-child';
import { sha256FileChunk, sha256FileOverlapped, sha256FilesInWorkers } from './hash-candidates';
import { BENCH_REF, GiB, MiB, benchContext, makeWorkspace, otherLoadMeter, warmCache, type BenchWorkspace } from './fixtures';

const REPO = resolve(__dirname, '..', '..');
const OUT = join(REPO, 'dist', 'bench', 'checksums.json');
const CHILD = join(__dirname, 'checksums-child.ts');
const RUNS = 3;

const THROUGHPUT_SIZE = 1 * GiB;
const MEMORY_SIZE = 2 * GiB;
const PARALLEL_COUNT = 8;
const PARALLEL_SIZE = 256 * MiB;

const GOALS = { throughputRatio: 0.85, peakRssMiB: 150, parallelSpeedup: 1 } as const;

// ---------------------------------------------------------------- helpers

function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function timeAsync(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return seconds(start);
}

/** Runs a command to completion; returns its stdout; throws on failure. */
function run(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MiB });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Times one external command; checks the digest it printed. */
function timeCommand(cmd: string, args: readonly string[], expected: string): number {
  const start = process.hrtime.bigint();
  const out = run(cmd, args);
  const elapsed = seconds(start);
  if (!out.includes(expected)) throw new Error(`${cmd} printed an unexpected digest: ${out.trim()}`);
  return elapsed;
}

/** The sha256 the stage wrote for each file of a workspace (SHA256SUMS.txt), by path in the release. */
function sumsOf(ws: BenchWorkspace): Map<string, string> {
  const text = readFileSync(join(ws.releaseDir, 'SHA256SUMS.txt'), 'utf8');
  return new Map(text.trimEnd().split('\n').map((line) => [line.slice(66), line.slice(0, 64)] as const));
}

function mibps(bytes: number, secs: number): number {
  return bytes / MiB / secs;
}

function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function firstLine(cmd: string, args: readonly string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).split('\n')[0]!.trim();
  } catch {
    return 'unavailable';
  }
}

function machine() {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux
  }
  const flags = /^flags\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.split(' ') ?? [];
  return {
    node: process.version,
    nodeOpenssl: process.versions.openssl,
    nproc: Number(firstLine('nproc', [])) || null,
    availableParallelism: availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    shaNi: flags.includes('sha_ni'),
    kernel: firstLine('uname', ['-sr']),
    opensslCli: firstLine('openssl', ['version']),
    sha256sum: firstLine('sha256sum', ['--version']),
    tmpdir: tmpdir(),
  };
}

// ---------------------------------------------------------------- measurements

interface ChildResult extends ChildReport {
  maxRssMiB: number;
}

function runChild(root: string): ChildResult {
  const r = spawnSync(process.execPath, ['-r', '@swc-node/register', CHILD, root], { cwd: REPO, encoding: 'utf8' });
  const line = r.stdout.split('\n').find((l) => l.startsWith(CHILD_MARKER));
  if (!line) throw new Error(`the child printed no report (exit ${r.status ?? r.signal}): ${r.stderr.trim()}`);
  const report = JSON.parse(line.slice(CHILD_MARKER.length)) as ChildReport;
  if (!report.ok || r.status !== 0) throw new Error(`the child failed: ${report.error ?? r.stderr.trim()}`);
  return { ...report, maxRssMiB: report.maxRssKiB / 1024 };
}

async function throughput(ws: BenchWorkspace, expected: string) {
  const file = ws.files[0]!;
  warmCache(file);
  const ctx = await benchContext(ws.root);
  const ours: number[] = [];
  const openssl: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await timeAsync(() => ReleaseRecords.read(ctx.workspaceRoot, [BENCH_REF]).then((records) => checksumsStage(ctx, records))));
    if (sumsOf(ws).get('throughput.bin') !== expected) throw new Error('the checksums stage wrote an unexpected digest');
    openssl.push(timeCommand('openssl', ['dgst', '-sha256', file], expected));
    log(`throughput run ${i + 1}/${RUNS}: checksums ${ours[i]!.toFixed(3)} s, openssl ${openssl[i]!.toFixed(3)} s`);
  }
  const oursS = median(ours);
  const opensslS = median(openssl);
  const ratio = opensslS / oursS; // = ours MiB/s / openssl MiB/s
  return {
    bytes: THROUGHPUT_SIZE,
    runs: { checksums: ours.map((s) => round(s)), openssl: openssl.map((s) => round(s)) },
    checksums: { medianSeconds: round(oursS), mibPerSecond: round(mibps(THROUGHPUT_SIZE, oursS), 1) },
    openssl: { medianSeconds: round(opensslS), mibPerSecond: round(mibps(THROUGHPUT_SIZE, opensslS), 1) },
    ratio: round(ratio),
    goal: `>= ${GOALS.throughputRatio}`,
    pass: ratio >= GOALS.throughputRatio,
  };
}

function memory(big: BenchWorkspace, tiny: BenchWorkspace) {
  warmCache(big.files[0]!);
  const baseline: ChildResult[] = [];
  const peak: ChildResult[] = [];
  for (let i = 0; i < RUNS; i++) {
    baseline.push(runChild(tiny.root));
    peak.push(runChild(big.root));
    log(`memory run ${i + 1}/${RUNS}: peak RSS 1-byte ${baseline[i]!.maxRssMiB.toFixed(1)} MiB, 2 GiB ${peak[i]!.maxRssMiB.toFixed(1)} MiB (stage ${peak[i]!.seconds.toFixed(3)} s)`);
  }
  const peakMax = Math.max(...peak.map((c) => c.maxRssMiB));
  const peakMedian = median(peak.map((c) => c.maxRssMiB));
  const baselineMedian = median(baseline.map((c) => c.maxRssMiB));
  return {
    bytes: MEMORY_SIZE,
    runs: { peakRssMiB: peak.map((c) => round(c.maxRssMiB, 1)), baselineRssMiB: baseline.map((c) => round(c.maxRssMiB, 1)), stageSeconds: peak.map((c) => round(c.seconds)) },
    /** The worst of the runs: what the goal is checked against. */
    peakRssMiB: round(peakMax, 1),
    peakRssMedianMiB: round(peakMedian, 1),
    baselineRssMedianMiB: round(baselineMedian, 1),
    hashingDeltaMiB: round(peakMedian - baselineMedian, 1),
    goal: `< ${GOALS.peakRssMiB} MiB`,
    pass: peakMax < GOALS.peakRssMiB,
  };
}

async function parallelism(ws: BenchWorkspace, expected: readonly string[], singleFileMiBps: number) {
  for (const file of ws.files) warmCache(file);
  const ctx = await benchContext(ws.root);
  const ours: number[] = [];
  const sequential: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await timeAsync(() => ReleaseRecords.read(ctx.workspaceRoot, [BENCH_REF]).then((records) => checksumsStage(ctx, records))));
    const sums = sumsOf(ws);
    ws.files.forEach((_, j) => {
      if (sums.get(`part-${j}.bin`) !== expected[j]) throw new Error('the checksums stage wrote an unexpected digest');
    });
    const start = process.hrtime.bigint();
    ws.files.forEach((file, j) => timeCommand('sha256sum', [file], expected[j]!));
    sequential.push(seconds(start));
    log(`parallel run ${i + 1}/${RUNS}: checksums ${ours[i]!.toFixed(3)} s, sha256sum x${PARALLEL_COUNT} ${sequential[i]!.toFixed(3)} s`);
  }
  // For scale (no goal): `openssl dgst` one file after another, once: the
  // same SHA-256 code as ours, so it isolates the gain from parallelism.
  const start = process.hrtime.bigint();
  ws.files.forEach((file, j) => timeCommand('openssl', ['dgst', '-sha256', file], expected[j]!));
  const opensslSequential = seconds(start);
  log(`parallel reference: openssl dgst x${PARALLEL_COUNT} ${opensslSequential.toFixed(3)} s`);
  const oursS = median(ours);
  const seqS = median(sequential);
  const total = PARALLEL_COUNT * PARALLEL_SIZE;
  return {
    files: PARALLEL_COUNT,
    bytesEach: PARALLEL_SIZE,
    runs: { checksums: ours.map((s) => round(s)), sha256sumSequential: sequential.map((s) => round(s)) },
    checksums: { medianSeconds: round(oursS), mibPerSecond: round(mibps(total, oursS), 1) },
    sha256sumSequential: { medianSeconds: round(seqS), mibPerSecond: round(mibps(total, seqS), 1) },
    speedup: round(seqS / oursS, 2),
    goal: `> ${GOALS.parallelSpeedup} (ours faster)`,
    pass: seqS / oursS > GOALS.parallelSpeedup,
    info: {
      opensslSequentialSeconds: round(opensslSequential),
      speedupVsOpensslSequential: round(opensslSequential / oursS, 2),
      /** Multi-file MiB/s over the single-file MiB/s of part 1 (ideal: the core count). */
      scalingVsSingleFile: round(mibps(total, oursS) / singleFileMiBps, 2),
    },
  };
}

/**
 * Part 4 (information, no goal): the real sha256File / sha256Files against
 * candidate changes (hash-candidates.ts), alternating in the same rounds on
 * the files of parts 1 and 3, with openssl timed in the same rounds as the
 * yardstick. Set BENCH_CANDIDATES=0 to skip.
 */
async function candidates(one: BenchWorkspace, oneDigest: string, many: BenchWorkspace, manyDigests: readonly string[]) {
  const file = one.files[0]!;
  warmCache(file);
  const check = (got: string, want: string) => {
    if (got !== want) throw new Error(`a hash candidate computed ${got}, expected ${want}`);
  };
  const single: Record<string, () => Promise<unknown>> = {
    'openssl dgst -sha256': async () => timeCommand('openssl', ['dgst', '-sha256', file], oneDigest),
    'sha256File (hash.ts now: 4 MiB, read then hash)': async () => check(await sha256File(file), oneDigest),
    'same loop, 1 MiB chunks (the earlier hash.ts)': async () => check(await sha256FileChunk(file, 1 * MiB), oneDigest),
    'double-buffered 1 MiB (read n+1 while hashing n)': async () => check(await sha256FileOverlapped(file), oneDigest),
  };
  const multi: Record<string, () => Promise<unknown>> = {
    'sha256Files (hash.ts now: async lanes, one JS thread)': async () => (await sha256Files(many.files)).forEach((d, i) => check(d, manyDigests[i]!)),
    'worker thread per lane, double-buffered': async () => (await sha256FilesInWorkers(many.files)).forEach((d, i) => check(d, manyDigests[i]!)),
  };
  const time = async (table: Record<string, () => Promise<unknown>>) => {
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(table).map((k) => [k, []]));
    for (let i = 0; i < RUNS; i++) {
      for (const [name, fn] of Object.entries(table)) samples[name]!.push(await timeAsync(fn));
    }
    return samples;
  };
  const singleRuns = await time(single);
  log(`candidates, 1 GiB: ${Object.entries(singleRuns).map(([k, v]) => `${k.split(' (')[0]} ${median(v).toFixed(3)} s`).join('; ')}`);
  for (const f of many.files) warmCache(f);
  const multiRuns = await time(multi);
  log(`candidates, ${PARALLEL_COUNT} x 256 MiB: ${Object.entries(multiRuns).map(([k, v]) => `${k.split(' (')[0]} ${median(v).toFixed(3)} s`).join('; ')}`);
  const opensslS = median(singleRuns['openssl dgst -sha256']!);
  const multiNow = median(multiRuns['sha256Files (hash.ts now: async lanes, one JS thread)']!);
  return {
    singleFile: Object.entries(singleRuns).map(([name, runs]) => ({
      name,
      runs: runs.map((s) => round(s)),
      medianSeconds: round(median(runs)),
      mibPerSecond: round(mibps(THROUGHPUT_SIZE, median(runs)), 1),
      ratioVsOpenssl: round(opensslS / median(runs)),
    })),
    multiFile: Object.entries(multiRuns).map(([name, runs]) => ({
      name,
      runs: runs.map((s) => round(s)),
      medianSeconds: round(median(runs)),
      mibPerSecond: round(mibps(PARALLEL_COUNT * PARALLEL_SIZE, median(runs)), 1),
      speedupVsNow: round(multiNow / median(runs), 2),
    })),
  };
}

// ---------------------------------------------------------------- report

type Results = {
  machine: ReturnType<typeof machine>;
  /** Average cores kept busy by other processes during each part (noise indicator). */
  otherLoadCores: Record<string, number | null>;
  throughput: Awaited<ReturnType<typeof throughput>>;
  memory: ReturnType<typeof memory>;
  parallelism: Awaited<ReturnType<typeof parallelism>>;
  candidates?: Awaited<ReturnType<typeof candidates>>;
};

function table(r: Results): string {
  const verdict = (pass: boolean) => (pass ? 'PASS' : 'MISS');
  const t = r.throughput;
  const m = r.memory;
  const p = r.parallelism;
  const rows: [string, string, string, string][] = [
    ['Measure', 'Value', 'Goal', 'Result'],
    ['1. checksums stage, 1 GiB (median of 3)', `${t.checksums.medianSeconds.toFixed(3)} s  ${t.checksums.mibPerSecond.toFixed(0)} MiB/s`, '', ''],
    ['1. openssl dgst -sha256, 1 GiB (median of 3)', `${t.openssl.medianSeconds.toFixed(3)} s  ${t.openssl.mibPerSecond.toFixed(0)} MiB/s`, '', ''],
    ['1. throughput ratio ours/openssl', t.ratio.toFixed(3), '>= 0.85', verdict(t.pass)],
    ['2. child peak RSS, 2 GiB artifact (max of 3)', `${m.peakRssMiB.toFixed(1)} MiB`, '< 150 MiB', verdict(m.pass)],
    ['2. child baseline RSS, 1-byte artifact (median of 3)', `${m.baselineRssMedianMiB.toFixed(1)} MiB`, '', ''],
    ['2. hashing adds (median peak - median baseline)', `${m.hashingDeltaMiB.toFixed(1)} MiB`, '', ''],
    [`3. checksums stage, ${p.files} x 256 MiB (median of 3)`, `${p.checksums.medianSeconds.toFixed(3)} s  ${p.checksums.mibPerSecond.toFixed(0)} MiB/s`, '', ''],
    [`3. sha256sum x${p.files}, one after another (median of 3)`, `${p.sha256sumSequential.medianSeconds.toFixed(3)} s  ${p.sha256sumSequential.mibPerSecond.toFixed(0)} MiB/s`, '', ''],
    ['3. speedup sha256sum / ours', `${p.speedup.toFixed(2)}x`, '> 1x', verdict(p.pass)],
    [`3. (info) openssl dgst x${p.files}, one after another`, `${p.info.opensslSequentialSeconds.toFixed(3)} s  (that / ours: ${p.info.speedupVsOpensslSequential.toFixed(2)}x)`, '', ''],
    ['3. (info) multi-file vs single-file MiB/s', `${p.info.scalingVsSingleFile.toFixed(2)}x on ${r.machine.availableParallelism} cores`, '', ''],
  ];
  for (const c of r.candidates?.singleFile ?? []) {
    rows.push([`4. (info) 1 GiB: ${c.name}`, `${c.medianSeconds.toFixed(3)} s  ${c.mibPerSecond.toFixed(0)} MiB/s  (${c.ratioVsOpenssl.toFixed(3)} of openssl)`, '', '']);
  }
  for (const c of r.candidates?.multiFile ?? []) {
    rows.push([`4. (info) 8 x 256 MiB: ${c.name}`, `${c.medianSeconds.toFixed(3)} s  ${c.mibPerSecond.toFixed(0)} MiB/s  (${c.speedupVsNow.toFixed(2)}x of now)`, '', '']);
  }
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: readonly string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  const sep = `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`;
  const mc = r.machine;
  return [
    line(rows[0]!),
    sep,
    ...rows.slice(1).map(line),
    '',
    `Machine: Node ${mc.node}, process.versions.openssl ${mc.nodeOpenssl}, nproc ${mc.nproc}, CPU ${mc.cpuModel} (sha_ni: ${mc.shaNi ? 'yes' : 'no'})`,
    `Other processes' CPU use (average busy cores of ${mc.availableParallelism}): ${Object.entries(r.otherLoadCores).map(([k, v]) => `${k} ${v ?? '?'}`).join(', ')}`,
    `Tools: ${mc.opensslCli}; ${mc.sha256sum}; ${mc.kernel}; temp folder ${mc.tmpdir}`,
  ].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  const facts = machine();
  const needed = THROUGHPUT_SIZE + MEMORY_SIZE + PARALLEL_COUNT * PARALLEL_SIZE;
  const fs = statfsSync(tmpdir());
  if (fs.bavail * fs.bsize < needed + GiB) {
    throw new Error(`${tmpdir()} has ${(fs.bavail * fs.bsize / GiB).toFixed(1)} GiB free; the bench needs ${(needed / GiB + 1).toFixed(0)} GiB`);
  }
  const tmp = mkdtempSync(join(tmpdir(), 'helix-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  const onSignal = (signal: NodeJS.Signals) => {
    cleanup();
    process.stderr.write(`[bench] interrupted (${signal}); removed ${tmp}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    log(`creating ${(needed / GiB).toFixed(0)} GiB of random artifacts in ${tmp}`);
    const t0 = process.hrtime.bigint();
    const one = await makeWorkspace(join(tmp, 'throughput'), [{ path: 'throughput.bin', size: THROUGHPUT_SIZE }]);
    const big = await makeWorkspace(join(tmp, 'memory'), [{ path: 'memory.bin', size: MEMORY_SIZE }]);
    const tiny = await makeWorkspace(join(tmp, 'baseline'), [{ path: 'baseline.bin', size: 1 }]);
    const many = await makeWorkspace(
      join(tmp, 'parallel'),
      Array.from({ length: PARALLEL_COUNT }, (_, i) => ({ path: `part-${i}.bin`, size: PARALLEL_SIZE })),
    );
    log(`artifacts ready in ${seconds(t0).toFixed(1)} s`);
    const recorded = (ws: BenchWorkspace) =>
      (JSON.parse(readFileSync(join(ws.root, 'dist', 'manifest', 'bench', 'package.json'), 'utf8')) as { artifacts: { sha256: string }[] }).artifacts.map((a) => a.sha256);

    const load: Record<string, number | undefined> = {};
    const part = async <T>(name: string, fn: () => Promise<T> | T): Promise<T> => {
      const t = process.hrtime.bigint();
      const meter = otherLoadMeter();
      const result = await fn();
      load[name] = meter();
      log(`${name} done in ${seconds(t).toFixed(1)} s (other processes kept ${load[name]?.toFixed(2) ?? '?'} cores busy)`);
      return result;
    };
    const tp = await part('part 1', () => throughput(one, recorded(one)[0]!));
    const mem = await part('part 2', () => memory(big, tiny));
    const par = await part('part 3', () => parallelism(many, recorded(many), tp.checksums.mibPerSecond));

    const cand = process.env['BENCH_CANDIDATES'] === '0' ? undefined : await part('part 4', () => candidates(one, recorded(one)[0]!, many, recorded(many)));

    const results: Results = { machine: facts, otherLoadCores: Object.fromEntries(Object.entries(load).map(([k, v]) => [k, v === undefined ? null : round(v, 2)])), throughput: tp, memory: mem, parallelism: par, candidates: cand };
    const text = table(results);
    const totalSeconds = round(seconds(started), 1);
    process.stdout.write(`\n${text}\nTotal bench time: ${totalSeconds} s\n`);
    mkdirSync(join(OUT, '..'), { recursive: true });
    writeFileSync(
      OUT,
      `${JSON.stringify({ command: 'npm run bench', date: new Date().toISOString(), totalSeconds, ...results, table: text.split('\n') }, null, 2)}\n`,
    );
    process.stdout.write(`Wrote ${OUT}\n`);
  } finally {
    cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
