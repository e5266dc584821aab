import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BUILD_META_FORMAT, formatBuildMeta, parseBuildMeta, type BuildMeta } from './build-meta';

const GOLDEN = join(resolve(__dirname, '..', 'testdata'), 'build-meta.golden');

/** Compares with a golden file; `UPDATE_GOLDEN=1` rewrites it instead. */
function expectGolden(actual: string, file: string): void {
  if (process.env['UPDATE_GOLDEN'] === '1') {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`${file} is missing; run with UPDATE_GOLDEN=1 to create it, then review and commit it`);
  expect(actual, `${file} differs; if the change is intended, run with UPDATE_GOLDEN=1 and review the diff`).toBe(readFileSync(file, 'utf8'));
}

const META: BuildMeta = {
  tag: 'v1.4.0',
  tagged: true,
  version: '1.4.0',
  commit: '0123456789abcdef0123456789abcdef01234567',
  dirty: false,
  sourceDateEpoch: 1_700_000_000,
  sourceDate: '2023-11-14T22:13:20Z',
  builder: 'github-actions',
  platform: 'linux-x86_64',
  python: '3.11.7',
  pyinstaller: '6.11.1',
  uv: '0.13.9',
  syft: '1.57.1',
  node: '20.20.0',
  zlib: '1.3.1',
  // The installers' and plugins' own versions (the release's is `version`), unsorted too.
  versions: [
    { path: 'plugins/hello-1.0.0.zip', version: '1.0.0' },
    { path: 'helix-studio-1.4.0-linux-x86_64.zip', version: '1.4.0' },
  ],
  // Deliberately unsorted: the file lists them by the bytes of the path.
  files: [
    { path: 'plugins/hello-1.0.0.zip', sha256: '2'.repeat(64) },
    { path: 'helix-studio-1.4.0-linux-x86_64.zip', sha256: '1'.repeat(64) },
    { path: 'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json', sha256: '3'.repeat(64) },
    { path: 'THIRD_PARTY_LICENSES.txt', sha256: '4'.repeat(64) },
  ],
};

describe('formatBuildMeta', () => {
  it('matches testdata/build-meta.golden', () => {
    expectGolden(formatBuildMeta(META), GOLDEN);
  });

  it('is deterministic and independent of the order of files', () => {
    const text = formatBuildMeta(META);
    expect(formatBuildMeta({ ...META, files: [...META.files].reverse() })).toBe(text);
    expect(text.startsWith(`format: ${BUILD_META_FORMAT}\n`)).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(text).not.toContain('\r');
    const fileLines = text.split('\n').filter((l) => l.startsWith('sha256 '));
    expect(fileLines.map((l) => l.slice(7, l.indexOf(': ')))).toEqual([
      'SBOM-helix-studio-1.4.0-linux-x86_64.zip.spdx.json',
      'THIRD_PARTY_LICENSES.txt',
      'helix-studio-1.4.0-linux-x86_64.zip',
      'plugins/hello-1.0.0.zip',
    ]);
  });

  it.each<[string, Partial<BuildMeta>]>([
    ['a LF in the tag', { tag: 'v1\nsha256 evil.zip: 00' }],
    ['a CR in the builder', { builder: 'local\r' }],
    ['a LF in the python version', { python: '3.11.7\n' }],
    ['a LF in a file path', { files: [{ path: 'a.zip\nsha256 evil.zip', sha256: '1'.repeat(64) }] }],
    ['a LF in a file digest', { files: [{ path: 'a.zip', sha256: `${'1'.repeat(64)}\ntag: forged` }] }],
  ])('refuses %s with BUILD_META_INVALID', (_what, change) => {
    expect(() => formatBuildMeta({ ...META, ...change })).toThrow(expect.objectContaining({ code: 'BUILD_META_INVALID', message: expect.stringContaining('line break') }));
  });
});

describe('parseBuildMeta', () => {
  it('writes each artifact\'s own version on a line of its own, sorted, before the digests', () => {
    const lines = formatBuildMeta(META).split('\n');
    const versions = lines.filter((l) => l.startsWith('version '));
    expect(versions).toEqual(['version helix-studio-1.4.0-linux-x86_64.zip: 1.4.0', 'version plugins/hello-1.0.0.zip: 1.0.0']);
    expect(lines.indexOf(versions[1]!)).toBeLessThan(lines.findIndex((l) => l.startsWith('sha256 ')));
    expect(lines.indexOf('version: 1.4.0')).toBeLessThan(lines.indexOf(versions[0]!));
    expect(() => formatBuildMeta({ ...META, versions: [{ path: 'a.zip', version: '1\n2' }] })).toThrow(expect.objectContaining({ code: 'BUILD_META_INVALID' }));
  });

  it('round-trips formatBuildMeta', () => {
    const { fields, versions, files } = parseBuildMeta(formatBuildMeta(META), 'BUILD_META.txt');
    expect(Object.fromEntries(versions)).toEqual({ 'helix-studio-1.4.0-linux-x86_64.zip': '1.4.0', 'plugins/hello-1.0.0.zip': '1.0.0' });
    expect(Object.fromEntries(fields)).toEqual({
      format: BUILD_META_FORMAT,
      tag: 'v1.4.0',
      tagged: 'true',
      version: '1.4.0',
      commit: META.commit,
      dirty: 'false',
      'source-date-epoch': '1700000000',
      'source-date': '2023-11-14T22:13:20Z',
      builder: 'github-actions',
      platform: 'linux-x86_64',
      python: '3.11.7',
      pyinstaller: '6.11.1',
      uv: '0.13.9',
      syft: '1.57.1',
      node: '20.20.0',
      zlib: '1.3.1',
    });
    expect(Object.fromEntries(files)).toEqual(Object.fromEntries(META.files.map((f) => [f.path, f.sha256])));
  });

  it('skips comments and blank lines', () => {
    const text = `# written by hand\n${formatBuildMeta(META)}\n# trailing\n`;
    expect(parseBuildMeta(text, 'BUILD_META.txt').fields.get('commit')).toBe(META.commit);
  });

  it.each([
    ['a line without ": "', `format: ${BUILD_META_FORMAT}\ntag v1\n`, /line 2 is not "key: value"/],
    ['a missing format line', 'tag: v1\n', /first field must be "format: helix-build-meta v1"/],
    ['another format', 'format: helix-build-meta v2\n', /first field must be/],
    ['no commit', `format: ${BUILD_META_FORMAT}\ntag: v1\n`, /^it has no commit field$/],
    // A repeated key is refused, never read first- or last-wins (the Python verifier does the same).
    ['the commit twice', formatBuildMeta(META).replace(/^commit: .*$/m, (l) => `${l}\ncommit: ${'e'.repeat(40)}`), /^line \d+: commit is given twice$/],
    ['a file listed twice', formatBuildMeta(META).replace(/^(sha256 [^:]+): .*$/m, (l, k: string) => `${k}: ${'0'.repeat(64)}\n${l}`), /^line \d+: ".+" is listed twice$/],
    ['a version line twice', formatBuildMeta(META).replace(/^version .*$/m, (l) => `${l}\n${l}`), /^line \d+: version .+ is given twice$/],
  ])('refuses %s with BUILD_META_INVALID', (_what, text, message) => {
    expect(() => parseBuildMeta(text, 'BUILD_META.txt')).toThrow(expect.objectContaining({ code: 'BUILD_META_INVALID', file: 'BUILD_META.txt', message: expect.stringMatching(message) }));
  });
});
