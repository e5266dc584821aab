/**
 * Runs the RFC 8032 Ed25519 test vectors of the pure-Python verifier
 * (tools/tests/test_ed25519_rfc8032.py, a standard-library unittest) and its
 * trust-store key checks (tools/tests/test_trust_store_keys.py) with
 * `python3 -m unittest discover -s tools/tests -t tools` and checks that it
 * exits 0 AND ran the expected number of tests, so a file whose tests are
 * gone (or never collected) fails here instead of passing with "Ran 0 tests".
 */
import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');
const PYTHON = process.env['HELIX_TEST_PYTHON'] || 'python3';
const UNITTEST: readonly string[] = ['-m', 'unittest', 'discover', '-s', 'tools/tests', '-t', 'tools', '-v'];
/** 4 vectors (TEST 1, 2, 3, 1024) x 6 checks, plus S + L and wrong lengths (26); test_trust_store_keys.py (3). */
const EXPECTED_TESTS = 29;

interface UnittestRun {
  status: number;
  output: string;
}

/** Runs the unittest command; unittest reports on stderr, so both streams go to one log file. */
function runUnittest(): UnittestRun {
  const dir = mkdtempSync(join(tmpdir(), 'helix-ed25519-'));
  const log = join(dir, 'unittest.log');
  const fd = openSync(log, 'w');
  let status = 0;
  try {
    execFileSync(PYTHON, UNITTEST, {
      cwd: ROOT,
      stdio: ['ignore', fd, fd],
      // No __pycache__/ in tools/ or tools/tests/.
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
    });
  } catch (err: unknown) {
    const code = (err as { status?: number | null }).status;
    status = typeof code === 'number' ? code : -1;
  } finally {
    closeSync(fd);
  }
  const output = readFileSync(log, 'utf8');
  rmSync(dir, { recursive: true, force: true });
  return { status, output };
}

describe('the pure-Python Ed25519 of verify_release_signatures.py', () => {
  it('passes the RFC 8032 section 7.1 test vectors and the trust-store key table (python3 -m unittest)', () => {
    const run = runUnittest();
    expect(run.status, run.output).toBe(0);
    expect(run.output).toMatch(new RegExp(`^Ran ${EXPECTED_TESTS} tests in `, 'm'));
    expect(run.output).toMatch(/^OK$/m);
    for (const vector of ['Test1', 'Test2', 'Test3', 'Test1024']) {
      expect(run.output).toContain(`.${vector}.test_verifies) ... ok`);
      expect(run.output).toContain(`.${vector}.test_rejects_flipped_message_byte) ... ok`);
      expect(run.output).toContain(`.${vector}.test_rejects_flipped_signature_byte_in_s) ... ok`);
    }
  });
});
