import { describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { isReleaseError } from './errors';
import { createHash } from 'node:crypto';
import { formatSums, parseSums, type SumLine } from './sums';

const sha256Hex = (data: string) => createHash('sha256').update(data).digest('hex');

const TESTDATA = resolve(__dirname, '..', 'testdata');
const A = sha256Hex('a');
const B = sha256Hex('b');

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('formatSums / parseSums', () => {
  it('round-trips and writes GNU sha256sum text lines', () => {
    const lines: SumLine[] = [
      { sha256: A, path: 'helix-studio-1.4.0-linux-x86_64.zip' },
      { sha256: B, path: 'plugins/hello-1.0.0.zip' },
      { sha256: A, path: 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json' },
    ];
    const text = formatSums(lines);
    expect(text).toBe(
      `${A}  SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json\n` +
        `${A}  helix-studio-1.4.0-linux-x86_64.zip\n` +
        `${B}  plugins/hello-1.0.0.zip\n`,
    );
    expect(parseSums(text, 'SHA256SUMS.txt')).toEqual([lines[2], lines[0], lines[1]]);
  });

  it('formats an empty list as an empty file, which parses back to nothing', () => {
    expect(formatSums([])).toBe('');
    expect(parseSums('', 'SHA256SUMS.txt')).toEqual([]);
  });

  it('sorts by UTF-8 bytes, not by locale or UTF-16 code units', () => {
    // Byte order: 'B' (0x42) < 'a' (0x61); 'a-b' (0x2d) < 'a.b' (0x2e) < 'a/b' (0x2f);
    // U+FB01 (EF AC 81) < U+1F600 (F0 9F 98 80), although UTF-16 orders them the other way round.
    const names = ['\u{1F600}.txt', 'a/b', '\uFB01.txt', 'a.b', 'B', 'a-b', 'z'];
    const sorted = parseSums(formatSums(names.map((path) => ({ sha256: A, path }))), 'SHA256SUMS.txt').map((l) => l.path);
    expect(sorted).toEqual(['B', 'a-b', 'a.b', 'a/b', 'z', '\uFB01.txt', '\u{1F600}.txt']);
    expect([...names].sort()).not.toEqual(sorted); // the default sort would get it wrong
  });

  it('parses the committed good fixture', () => {
    const text = readFileSync(join(TESTDATA, 'sums-ok.txt'), 'utf8');
    expect(parseSums(text, 'sums-ok.txt').map((l) => l.path)).toEqual(['B.txt', 'a.txt', 'plugins/hello-1.0.0.zip']);
  });

  it.each([
    ['sums-path-traversal.txt', /"\.\.\/x": name contains '\.\.'/],
    ['sums-absolute-path.txt', /absolute name/],
    ['sums-dot-segment.txt', /empty or '\.' component/],
    ['sums-uppercase-hex.txt', /line 1 is not "<sha256>  <name>"/],
    ['sums-one-space.txt', /line 1 is not "<sha256>  <name>"/],
    ['sums-crlf.txt', /line 1 is not "<sha256>  <name>"/], // '.' stops at the CR
    ['sums-no-final-newline.txt', /last line has no newline/],
    ['sums-duplicate.txt', /listed twice/],
    ['sums-unsorted.txt', /not sorted/],
  ])('%s → SUMS_MALFORMED', (fixture, message) => {
    const text = readFileSync(join(TESTDATA, fixture), 'utf8');
    const err = thrown(() => parseSums(text, fixture));
    expect(isReleaseError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'SUMS_MALFORMED', file: fixture });
    expect((err as Error).message).toMatch(message);
  });

  it.each([
    ['a newline in a name (would forge a line)', { sha256: A, path: 'a.txt\nbadbadbad  evil' }, /control character/],
    ['a carriage return in a name', { sha256: A, path: 'a.txt\r' }, /control character/],
    ['a traversal', { sha256: A, path: '../x' }, /'\.\.'/],
    ['an absolute name', { sha256: A, path: '/x' }, /absolute/],
    ['a backslash', { sha256: A, path: 'a\\b' }, /backslash/],
    ['an uppercase digest', { sha256: A.toUpperCase(), path: 'a.txt' }, /not a sha256 digest/],
    ['a short digest', { sha256: A.slice(1), path: 'a.txt' }, /not a sha256 digest/],
  ])('formatSums refuses %s with SUMS_MALFORMED', (_what, line, message) => {
    const err = thrown(() => formatSums([line]));
    expect(err).toMatchObject({ code: 'SUMS_MALFORMED' });
    expect((err as Error).message).toMatch(message);
  });
});

describe('formatSums output and the real sha256sum', () => {
  it('is accepted by `sha256sum -c --strict`, and a changed file is caught', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helix-sums-'));
    try {
      const files: Record<string, string> = {
        'helix-studio-1.4.0-linux-x86_64.zip': 'installer bytes',
        'plugins/hello-1.0.0.zip': 'plugin bytes',
        'B upper and space.txt': 'spaces are fine in text mode',
        'empty.txt': '',
      };
      for (const [name, content] of Object.entries(files)) {
        await mkdir(join(dir, name, '..'), { recursive: true });
        await writeFile(join(dir, name), content);
      }
      const text = formatSums(Object.entries(files).map(([path, content]) => ({ path, sha256: sha256Hex(content) })));
      await writeFile(join(dir, 'SHA256SUMS.txt'), text);
      const out = execFileSync('sha256sum', ['-c', '--strict', 'SHA256SUMS.txt'], { cwd: dir, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
      expect(out.trim().split('\n').sort()).toEqual(Object.keys(files).map((name) => `${name}: OK`).sort());

      // The check above can fail: a modified file makes sha256sum exit non-zero.
      await writeFile(join(dir, 'empty.txt'), 'no longer empty');
      expect(() => execFileSync('sha256sum', ['-c', '--strict', '--quiet', 'SHA256SUMS.txt'], { cwd: dir, stdio: 'pipe' })).toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
