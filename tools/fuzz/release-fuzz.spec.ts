/**
 * The differential fuzz target of the release verifiers (release-fuzz.ts),
 * bounded: the committed corpus (release-corpus/), then 150 seeded mutants of
 * a good synthetic release — some left as they are, some signed again, some
 * resealed up to the sums and the provenance — through `helix-release verify`
 * and the two Python tools. Any difference in the verdict or the set of codes,
 * or a crash of either, fails with the mutant and both verdicts. The seed is
 * fixed (1) in the suite; HELIX_FUZZ_SEED=n explores others, and the script
 * with --seed and a larger --count runs longer.
 */
import { describe, expect, it } from 'vitest';
import { testPython } from '../../workspace-fixtures/studio/tests/test-python';
import { fuzzRelease } from './release-fuzz';

const SEED = Number(process.env['HELIX_FUZZ_SEED'] ?? 1);

describe('differential fuzzing of the release verifiers', () => {
  it(`finds no disagreement and no crash between the TypeScript and the Python verifiers (seed ${SEED})`, async () => {
    const { findings, verdicts } = await fuzzRelease({ seed: SEED, count: 150, python: await testPython() });
    expect(findings.map((f) => `${f.mutant}: ${f.why}: typescript ${f.typescript}, python ${f.python}`)).toEqual([]);
    // The mutants reach past the signatures and the digests: parser and cross-check verdicts occur, and good ones.
    for (const code of ['PASSED', 'SIGNATURE_BAD', 'SUMS_MALFORMED', 'SUMS_MISMATCH', 'META_MALFORMED', 'PROVENANCE_MALFORMED', 'PROVENANCE_BYPRODUCT', 'CONFORMANCE_MISSING', 'FILE_NOT_REGULAR']) {
      expect(verdicts.get(code) ?? 0, code).toBeGreaterThan(0);
    }
  }, 180_000);
});
