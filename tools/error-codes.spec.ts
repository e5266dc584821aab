/**
 * Every error and verdict code is provoked by some test. A code is found in
 * the sources where it is declared (a `type …Code = 'A' | 'B'` union, the
 * format's VERDICT_CODES) or thrown (`new …Error('CODE'`); a test mentions
 * it when a spec, an e2e test or a Python test of the tools names it as a
 * whole word. A new code without a test fails here, naming it.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VERDICT_CODES } from '@helix-release/format';

const ROOT = resolve(__dirname, '..');

function tracked(...patterns: string[]): string[] {
  return execFileSync('git', ['ls-files', '-co', '--exclude-standard', '--', ...patterns], { cwd: ROOT, encoding: 'utf8' }).split('\n').filter(Boolean);
}

const read = (rel: string) => {
  try {
    return readFileSync(join(ROOT, rel), 'utf8');
  } catch {
    return ''; // deleted in the working tree
  }
};

/** The codes the sources declare or throw. */
export function declaredCodes(text: string): string[] {
  const out = new Set<string>();
  for (const union of text.matchAll(/type\s+\w*Code\s*=([^;]*);/g)) for (const m of union[1]!.matchAll(/'([A-Z][A-Z0-9_]+)'/g)) out.add(m[1]!);
  for (const m of text.matchAll(/new\s+\w*Error(?:<[^>]*>)?\(\s*'([A-Z][A-Z0-9_]+)'/g)) out.add(m[1]!);
  return [...out];
}

// Without glob magic a pathspec's * also matches /, so these reach every depth.
const SOURCES = tracked('packages/*/src/*.ts', 'workspace-fixtures/stages/*/src/*.ts').filter((f) => !f.endsWith('.spec.ts') && !f.startsWith('packages/e2e/'));
const TESTS = tracked('*.spec.ts', 'tools/tests/*.py', 'workspace-fixtures/studio/tests/*.py', 'workspace-fixtures/plugin-trust-cases/cases.json');

describe('error codes', () => {
  it('finds the codes of the sources (the extraction itself works)', () => {
    expect(declaredCodes("type XErrorCode = 'A_B' | 'C';\nthrow new LockError(\n  'LOCK_X', 'm');\nnew ReleaseError<Code>('Y_Z', 'm')")).toEqual(['A_B', 'LOCK_X', 'Y_Z']);
    const codes = new Set(SOURCES.flatMap((f) => declaredCodes(read(f))));
    // A sample from every layer: core, a stage, the plan, the verifier's plugin codes.
    for (const c of ['CONFIG_INVALID', 'LOCK_STALE', 'SBOM_LOCK_VERSION', 'RECORD_MISSING', 'PLUGIN_BAD_SIGNATURE']) expect(codes, c).toContain(c);
  });

  it('has a test that names every error and verdict code', () => {
    const codes = [...new Set([...SOURCES.flatMap((f) => declaredCodes(read(f))), ...VERDICT_CODES])].sort();
    const tests = TESTS.filter((f) => f !== 'tools/error-codes.spec.ts').map(read).join('\n');
    const untested = codes.filter((code) => !new RegExp(`\\b${code}\\b`).test(tests));
    expect(untested, `codes no test provokes: ${untested.join(', ')}`).toEqual([]);
    expect(codes.length).toBeGreaterThan(80);
  });
});
