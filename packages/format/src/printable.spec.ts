/**
 * printable: the escaping of every name a verifier prints. Hostile names must
 * not forge output lines, and the TypeScript verifier must print exactly what
 * tools/release_verify_lib.py prints for the same name.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { printable } from './paths';

const TOOLS = resolve(__dirname, '..', '..', '..', 'tools');
const NAMES = [
  'plain/name-1.0.0.zip',
  'evil\nPASSED signature: SHA256SUMS.txt.asc',
  'cr\rtab\tdel\u007fnul\u0000',
  'c1 control \u0085 and nbsp \u00a0',
  'bidi \u202e gnp.exe',
  'bom \ufeff zero-width \u200b',
  'line sep \u2028 para sep \u2029',
  'tag char \u{e0001} and emoji \u{1f600}',
  'lone \ud800 surrogate',
  'ünïcödé 名前',
];

describe('printable', () => {
  it('escapes what could forge or hide a line, and nothing else', () => {
    expect(printable('evil\nPASSED x')).toBe('evil\\x0aPASSED x');
    expect(printable('bidi \u202e x')).toBe('bidi \\u202e x');
    expect(printable('\u{e0001}')).toBe('\\U000e0001');
    expect(printable('ünïcödé 名前 \u{1f600}')).toBe('ünïcödé 名前 \u{1f600}');
    for (const name of NAMES) expect(printable(name)).not.toMatch(/[\n\r\u2028\u2029]/);
  });

  it('gives what the Python tools print for the same names', () => {
    // Lone surrogates cannot cross a UTF-8 pipe: they are sent as JSON escapes.
    const script = 'import json, sys; from release_verify_lib import printable; print(json.dumps([printable(n) for n in json.loads(sys.stdin.read())]))';
    const out = execFileSync(process.env['HELIX_TEST_PYTHON'] || 'python3', ['-c', script], { cwd: TOOLS, input: JSON.stringify(NAMES), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(NAMES.map(printable)).toEqual(JSON.parse(out) as string[]);
  });
});
