/**
 * conformance-results.json: an in-toto Statement v1 with the test-result
 * predicate (https://in-toto.io/attestation/test-result/v0.1). Its subjects are
 * the artifacts that were tested, with their sha256; its configuration names
 * the pack and the runner by digest.
 */

/** `predicateType` of the results. */
export const TEST_RESULT_V01 = 'https://in-toto.io/attestation/test-result/v0.1';

/** The statement. */
export interface ConformanceResults {
  _type: 'https://in-toto.io/Statement/v1';
  subject: { name: string; digest: { sha256: string } }[];
  predicateType: typeof TEST_RESULT_V01;
  predicate: {
    result: 'PASSED' | 'FAILED';
    configuration: { name: string; digest: { sha256: string } }[];
    passedTests: string[];
    warnedTests: string[];
    failedTests: string[];
  };
}

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
