/**
 * Child process of the bench's memory measurement: runs the real checksums
 * stage once on the bench workspace given as argument, then, at exit, prints
 * one line `BENCH_CHILD {json}` with its peak RSS (`process.resourceUsage().maxRSS`,
 * KiB) and how long the stage took.
 *
 *   node -r @swc-node/register tools/bench/checksums-child.ts <workspace-root>
 */
import { ReleaseRecords } from '@helix-release/core';
import { checksumsStage } from '@helix-release/checksums';
import { BENCH_REF, benchContext } from './fixtures';

export const CHILD_MARKER = 'BENCH_CHILD ';

export interface ChildReport {
  ok: boolean;
  maxRssKiB: number;
  seconds: number;
  error?: string;
}

async function main(): Promise<void> {
  const root = process.argv[2];
  if (!root) throw new Error('usage: checksums-child.ts <workspace-root>');
  const report: ChildReport = { ok: false, maxRssKiB: 0, seconds: 0 };
  process.on('exit', () => {
    report.maxRssKiB = process.resourceUsage().maxRSS;
    process.stdout.write(`${CHILD_MARKER}${JSON.stringify(report)}\n`);
  });
  const ctx = await benchContext(root);
  const start = process.hrtime.bigint();
  try {
    await ReleaseRecords.read(ctx.workspaceRoot, [BENCH_REF]).then((records) => checksumsStage(ctx, records));
    report.seconds = Number(process.hrtime.bigint() - start) / 1e9;
    report.ok = true;
  } catch (err) {
    report.error = err instanceof Error ? err.message : String(err);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  void main();
}
