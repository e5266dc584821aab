/**
 * The differential fuzz target (plugin-zip-fuzz.ts), bounded: the corpus as it
 * is, then 1500 seeded mutants of the trust-case zips and the corpus, through
 * the TypeScript verifier, the Studio's plugin_zip.py and
 * verify_release_signatures.py. Any disagreement on the verdict code, or a
 * crash in any of them, fails with the mutant's name and the three verdicts.
 * The seed is fixed (1) in the suite; run `HELIX_FUZZ_SEED=n npx vitest run
 * tools/fuzz` or the script with --seed and a larger --count to explore.
 */
import { describe, expect, it } from 'vitest';
import { testPython } from '../../workspace-fixtures/studio/tests/test-python';
import { fuzz, mutate, prng } from './plugin-zip-fuzz';

/** Fixed, so that a run is reproducible and CI never fails on a mutant no change made; HELIX_FUZZ_SEED explores others. */
const SEED = Number(process.env['HELIX_FUZZ_SEED'] ?? 1);

describe('differential fuzzing of the plugin-zip verifiers', () => {
  it('mutates deterministically for a seed', () => {
    const input = Buffer.from('PK\x03\x04 some zip-like bytes to mutate, long enough for every mutation');
    const a = mutate(input, prng(7));
    expect(mutate(input, prng(7)).equals(a)).toBe(true);
    expect(a.equals(input)).toBe(false);
  });

  it(`finds no disagreement and no crash among the three verifiers (seed ${SEED}; HELIX_FUZZ_SEED=${SEED} replays it)`, async () => {
    const { findings, codes } = await fuzz({ seed: SEED, count: 1500, python: await testPython() });
    expect(findings.map((f) => `${f.file.split('/').pop()}: typescript ${f.typescript}, studio ${f.studio}, release tool ${f.release}`)).toEqual([]);
    // The mutants reach past the zip layout: signed, unsigned, metadata and name verdicts all occur.
    for (const code of ['PLUGIN_OK', 'PLUGIN_MALFORMED', 'PLUGIN_UNSAFE_PATH', 'PLUGIN_BAD_METADATA', 'PLUGIN_DUPLICATE_ENTRY', 'PLUGIN_UNSIGNED']) expect(codes.get(code) ?? 0, code).toBeGreaterThan(0);
  }, 120_000);
});
