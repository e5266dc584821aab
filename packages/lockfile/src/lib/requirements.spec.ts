import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { normaliseName, parseRequirements } from './requirements';
import { parseUvLock, readPyprojectDependencies } from './uvlock';

const TESTDATA = resolve(__dirname, '..', '..', 'testdata');
const read = (name: string) => readFileSync(join(TESTDATA, name), 'utf8');

function thrown(fn: () => unknown): { code?: string; message: string; file?: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string; file?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

/** One fixture per failure mode: the code, the line to blame and what the message must say. */
const FAILURES: [fixture: string, code: string, line: number, message: RegExp][] = [
  ['requirements-unpinned.txt', 'LOCK_UNPINNED', 6, /^idna >=3\.7 is not pinned to one version with ==; regenerate it with `uv export/],
  ['requirements-wildcard.txt', 'LOCK_UNPINNED', 6, /^idna ==3\.\* is not pinned to one version/],
  ['requirements-unhashed.txt', 'LOCK_UNHASHED', 6, /^idna==3\.7 has no --hash=sha256:…; pip cannot check what it downloads/],
  ['requirements-md5-hash.txt', 'LOCK_BAD_HASH', 6, /^md5:8d119300841ec1abcf34b2e8ce8d656e is not a sha256 digest \(64 hex digits\)/],
  ['requirements-url.txt', 'LOCK_URL_REQUIREMENT', 6, /^"idna @ https:\/\/files\.example\.org\/idna-3\.7-py3-none-any\.whl" is a URL, VCS or path requirement/],
  ['requirements-vcs.txt', 'LOCK_URL_REQUIREMENT', 6, /^"git\+https:\/\/github\.com\/kjd\/idna\.git@v3\.7#egg=idna" is a URL, VCS or path requirement/],
  ['requirements-editable.txt', 'LOCK_EDITABLE', 6, /^editable requirement "-e \.": a release must install from locked, hashed distributions/],
  ['requirements-local-path.txt', 'LOCK_URL_REQUIREMENT', 6, /^"\.\/vendor\/idna" is a URL, VCS or path requirement/],
  ['requirements-extra-index.txt', 'LOCK_UNSUPPORTED_OPTION', 4, /^option --extra-index-url is not allowed in a release requirements file/],
  ['requirements-duplicate.txt', 'LOCK_DUPLICATE', 8, /^certifi is listed again \(first at line 4\)/],
];

describe('parseRequirements over the fixtures in testdata/', () => {
  it.each(FAILURES)('%s → %s at line %d', (fixture, code, line, message) => {
    const text = read(fixture);
    const err = thrown(() => parseRequirements(text, fixture));
    expect(err.code).toBe(code);
    expect(err.file).toBe(`${fixture}:${line}`);
    expect(err.message).toMatch(message);
  });

  it('requirements-continuation-ok.txt passes: continuations, comments, markers, extras', () => {
    const text = read('requirements-continuation-ok.txt');
    const hashAt = (n: number) => /sha256:([0-9a-f]{64})/.exec(text.split('\n')[n - 1]!)![1]!;
    expect(parseRequirements(text, 'requirements-continuation-ok.txt')).toEqual([
      { name: 'certifi', version: '2024.8.30', marker: '', hashes: [hashAt(7)], line: 6 },
      {
        name: 'idna-extra-pkg',
        version: '3.7',
        marker: 'python_version >= "3.8" and sys_platform != \'win32\'',
        hashes: [hashAt(10), hashAt(11)].sort(),
        line: 9,
      },
      { name: 'urllib3', version: '2.2.3', marker: '', hashes: [hashAt(15)], line: 15 },
    ]);
  });

  it('reads CRLF files with the same line numbers', () => {
    const crlf = read('requirements-unhashed.txt').replace(/\n/g, '\r\n');
    expect(thrown(() => parseRequirements(crlf, 'r.txt')).file).toBe('r.txt:6');
    const ok = read('requirements-continuation-ok.txt').replace(/\n/g, '\r\n');
    expect(parseRequirements(ok, 'ok.txt').map((r) => [r.name, r.line])).toEqual([['certifi', 6], ['idna-extra-pkg', 9], ['urllib3', 15]]);
  });
});

/**
 * LOCK_SYNTAX: text the readers cannot make sense of at all, in a
 * requirements file (a requirement that does not start with a name), in
 * uv.lock and in pyproject.toml (not TOML, or no project name).
 */
describe('LOCK_SYNTAX', () => {
  const H = 'a'.repeat(64);
  const parsers = {
    requirements: (text: string, file: string) => parseRequirements(text, file),
    'uv.lock': (text: string, file: string) => parseUvLock(text, file, 'helix-studio'),
    'pyproject.toml': (text: string, file: string) => readPyprojectDependencies(text, file),
  };
  it.each<[what: string, parser: keyof typeof parsers, text: string, file: string, message: RegExp]>([
    ['a requirement starting with _', 'requirements', `# header\n_idna==3.7 --hash=sha256:${H}\n`, 'req.txt:2', /^cannot read requirement "_idna==3\.7"$/],
    ['a bare version with no name', 'requirements', `# header\n==3.7 --hash=sha256:${H}\n`, 'req.txt:2', /^cannot read requirement "==3\.7"$/],
    ['a marker with no requirement', 'requirements', `# a\n# b\n; python_version >= "3.8" --hash=sha256:${H}\n`, 'req.txt:3', /^cannot read requirement "; python_version >= \\"3\.8\\""$/],
    ['an extra before the name, on a continued line', 'requirements', `certifi==2024.8.30 --hash=sha256:${H}\n[socks]urllib3==2.2.3 \\\n    --hash=sha256:${H}\n`, 'req.txt:2', /^cannot read requirement "\[socks\]urllib3==2\.2\.3"$/],
    ['uv.lock that is not TOML', 'uv.lock', 'version = 1\n[[package]\nname = "idna"\n', 'apps/studio/uv.lock', /^not valid TOML: .+; run `uv lock`$/s],
    ['uv.lock with a key twice', 'uv.lock', 'version = 1\nversion = 2\n', 'apps/studio/uv.lock', /^not valid TOML: .+; run `uv lock`$/s],
    ['pyproject.toml that is not TOML', 'pyproject.toml', '[project]\nname = "helix-studio\n', 'apps/studio/pyproject.toml', /^not valid TOML: /],
    ['pyproject.toml without a [project] name', 'pyproject.toml', '[project]\nversion = "1.0.0"\ndependencies = []\n', 'apps/studio/pyproject.toml', /^\[project\] needs a name$/],
    ['pyproject.toml without [project]', 'pyproject.toml', '[tool.uv]\npackage = false\n', 'apps/studio/pyproject.toml', /^\[project\] needs a name$/],
  ])('%s', (_what, parser, text, file, message) => {
    const err = thrown(() => parsers[parser](text, file.replace(/:\d+$/, '')));
    expect(err.code, err.message).toBe('LOCK_SYNTAX');
    expect(err.file).toBe(file);
    expect(err.message).toMatch(message);
  });

  it('reads the well-formed neighbours of those rows', () => {
    expect(parseRequirements(`idna==3.7 --hash=sha256:${H}\nurllib3[socks]==2.2.3 --hash=sha256:${H}\n`, 'req.txt').map((r) => r.name)).toEqual(['idna', 'urllib3']);
    expect(readPyprojectDependencies('[project]\nname = "helix-studio"\ndependencies = ["idna==3.7"]\n', 'pyproject.toml').name).toBe('helix-studio');
    expect(parseUvLock('version = 1\n[[package]]\nname = "idna"\nversion = "3.7"\nsource = { registry = "https://pypi.org/simple" }\n', 'uv.lock', 'helix-studio').packages.map((p) => p.name)).toEqual(['idna']);
  });
});

describe('parseRequirements, inline cases', () => {
  const H = 'a'.repeat(64);
  it.each<[string, string, string]>([
    ['an http index', '--index-url http://pypi.example.org/simple\n', 'LOCK_UNSUPPORTED_OPTION'],
    ['--find-links', '--find-links ./wheels\n', 'LOCK_UNSUPPORTED_OPTION'],
    ['--editable spelled out', '--editable ./pkg\n', 'LOCK_EDITABLE'],
    ['a short sha256', `idna==3.7 --hash=sha256:${'a'.repeat(63)}\n`, 'LOCK_BAD_HASH'],
    ['junk after the requirement', `idna==3.7 --no-deps --hash=sha256:${H}\n`, 'LOCK_UNSUPPORTED_OPTION'],
    ['no version at all', `idna --hash=sha256:${H}\n`, 'LOCK_UNPINNED'],
    ['arbitrary equality', `idna===3.7 --hash=sha256:${H}\n`, 'LOCK_UNPINNED'],
    ['a file URL', `file:///tmp/idna.whl --hash=sha256:${H}\n`, 'LOCK_URL_REQUIREMENT'],
    ['a Windows path', `C:\\wheels\\idna.whl --hash=sha256:${H}\n`, 'LOCK_URL_REQUIREMENT'],
  ])('refuses %s', (_what, text, code) => {
    const err = thrown(() => parseRequirements(`# header\n${text}`, 'req.txt'));
    expect(err.code).toBe(code);
    expect(err.file).toBe('req.txt:2');
  });

  it.each<[string, string]>([
    ['an https index with =', '--index-url=https://pypi.org/simple\n'],
    ['-i', '-i https://pypi.org/simple\n'],
    ['--require-hashes', '--require-hashes\n'],
    ['spaces around ==', `idna == 3.7 --hash=sha256:${H}\n`],
    ['an uppercase digest (lowercased)', `idna==3.7 --hash=sha256:${H.toUpperCase()}\n`],
  ])('accepts %s', (_what, text) => {
    expect(() => parseRequirements(text, 'req.txt')).not.toThrow();
  });

  it('allows the same name under different markers', () => {
    const text = `numpy==1.26.4 ; python_version < "3.12" --hash=sha256:${H}\nnumpy==2.1.0 ; python_version >= "3.12" --hash=sha256:${H}\n`;
    expect(parseRequirements(text, 'req.txt').map((r) => `${r.name}==${r.version}`)).toEqual(['numpy==1.26.4', 'numpy==2.1.0']);
  });

  it.each([
    ['Foo_Bar', 'foo-bar'],
    ['foo.bar', 'foo-bar'],
    ['FOO--_.bar', 'foo-bar'],
    ['cffi', 'cffi'],
  ])('normaliseName(%s) = %s', (name, expected) => {
    expect(normaliseName(name)).toBe(expected);
  });
});
