/**
 * Runs the Studio's Python unittest suite (workspace-fixtures/studio/tests/) from
 * vitest, with a Python that has the Studio's locked dependencies (cryptography):
 * the venv of test-python.ts.
 */
import { describe, it, expect } from 'vitest';
import { resolve } from 'node:path';
import { run, testPython } from './test-python';

const STUDIO = resolve(__dirname, '..');

describe('the Studio Python test suite', () => {
  it('passes under python -m unittest (PYTHONPATH=src)', async () => {
    const python = await testPython();
    const result = await run(python, ['-m', 'unittest', 'discover', '-s', 'tests', '-t', '.'], {
      cwd: STUDIO,
      env: { ...process.env, PYTHONPATH: 'src', PYTHONDONTWRITEBYTECODE: '1', PYTHONUTF8: '1' },
    });
    const ran = /^Ran (\d+) tests? in /m.exec(result.output);
    expect(result.code, result.output).toBe(0);
    expect(ran, result.output).not.toBeNull();
    expect(Number(ran![1]), result.output).toBeGreaterThan(0);
    expect(result.output).toMatch(/^OK\b/m);
    expect(result.output).not.toMatch(/^FAILED\b/m);
  }, 180_000);
});
