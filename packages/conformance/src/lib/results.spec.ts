import { describe, it, expect } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseConformanceOutput } from './results';

const TESTDATA = resolve(__dirname, '..', '..', 'testdata');
const PACK_CASES = resolve(__dirname, '..', '..', '..', '..', 'workspace-fixtures', 'conformance', 'cases');
const read = (name: string) => readFileSync(join(TESTDATA, name), 'utf8');

describe('parseConformanceOutput', () => {
  it('reads a passing transcript: every case of the pack, all passed, and the summary', () => {
    const { cases, summary } = parseConformanceOutput(read('conformance-pass.stdout.txt'));
    // The transcript (the Studio's run) lists exactly the committed pack's cases for the Studio.
    const appOf = (c: string) => (existsSync(join(PACK_CASES, c, 'app')) ? readFileSync(join(PACK_CASES, c, 'app'), 'utf8').trim() : undefined);
    const studioCases = readdirSync(PACK_CASES).filter((c) => appOf(c) === undefined || appOf(c) === 'helix-studio');
    expect(cases.map((c) => c.name)).toEqual(studioCases.sort());
    expect(cases.every((c) => c.passed && c.why === undefined)).toBe(true);
    expect(summary).toEqual({ passed: 13, failed: 0 });
    expect(summary!.passed + summary!.failed).toBe(cases.length);
  });

  it('reads a failing transcript: failures with their reasons, noise ignored', () => {
    const { cases, summary } = parseConformanceOutput(read('conformance-fail.stdout.txt'));
    expect(cases).toEqual([
      { name: '01-version', passed: true },
      { name: '02-headless-info', passed: true },
      { name: '03-headless-echo', passed: false, why: 'stdout has no line matching /^echo: hello world$/' },
      { name: '04-unknown-command-fails', passed: true },
      { name: '10-signed-plugins-load', passed: false, why: 'exit code 3, expected 0' },
      { name: '11-signed-plugin-runs', passed: true },
      { name: '20-tampered-plugin-refused', passed: false, why: 'stdout has a line matching /hello from plugin: with colon/' },
      { name: '99-missing-set', passed: false, why: "unknown plugin set 'nope'" },
    ]);
    expect(summary).toEqual({ passed: 4, failed: 4 });
    expect(summary!.passed + summary!.failed).toBe(cases.length);
  });

  it('has no summary when the run was cut short (the stage then refuses the output)', () => {
    const text = read('conformance-fail.stdout.txt').split('\n').slice(0, 4).join('\n');
    const { cases, summary } = parseConformanceOutput(text);
    expect(cases.map((c) => c.name)).toEqual(['01-version', '02-headless-info', '03-headless-echo']);
    expect(summary).toBeUndefined();
  });

  it('finds nothing in empty output', () => {
    expect(parseConformanceOutput('')).toEqual({ cases: [], summary: undefined });
  });
});
