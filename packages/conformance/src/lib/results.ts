/**
 * Reading tools/conformance.sh's output. The results file it becomes
 * (conformance-results.json) is part of the format: see ConformanceResults in
 * @helix-release/format.
 */

/** The pack runner, as shipped in the release (one of KIT_TOOLS): what both conformance stages run and key on. */
export const RUNNER = 'tools/conformance.sh';

/** One case line printed by tools/conformance.sh. */
export interface CaseOutcome {
  name: string;
  passed: boolean;
  why?: string;
}

/** Parses conformance.sh's stdout (`PASS <case>` / `FAIL <case>: <why>` lines and the summary). */
export function parseConformanceOutput(stdout: string): { cases: CaseOutcome[]; summary: { passed: number; failed: number } | undefined } {
  const cases: CaseOutcome[] = [];
  let summary: { passed: number; failed: number } | undefined;
  for (const line of stdout.split('\n')) {
    let m = /^PASS (\S+)$/.exec(line);
    if (m) cases.push({ name: m[1]!, passed: true });
    m = /^FAIL (\S+): (.*)$/.exec(line);
    if (m) cases.push({ name: m[1]!, passed: false, why: m[2]! });
    m = /^(\d+) passed, (\d+) failed$/.exec(line);
    if (m) summary = { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return { cases, summary };
}
