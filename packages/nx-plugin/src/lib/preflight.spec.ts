import { describe, expect, it } from 'vitest';
import { releaseVersionOf, resolveConfig } from '@helix-release/core';
import { checkArtifactNames, checkReleaseTag, checkSourceCommit, releaseVersion, supersededFiles } from './preflight';

const config = (extra: Record<string, unknown> = {}) => resolveConfig({ apps: { root: 'apps' }, ...extra });

describe('releaseVersion', () => {
  it.each<[string, Record<string, unknown>, { project: string; version: string }[], string]>([
    ["the one app's version", {}, [{ project: 'helix-studio', version: '1.4.0' }], '1.4.0'],
    ['the version apps share', {}, [{ project: 'a', version: '2.0.0' }, { project: 'b', version: '2.0.0' }], '2.0.0'],
    ["the config's version over the apps'", { version: '3.1.0' }, [{ project: 'a', version: '1.0.0' }, { project: 'b', version: '2.0.0' }], '3.1.0'],
  ])('%s', (_what, extra, apps, expected) => {
    expect(releaseVersion(config(extra), apps)).toBe(expected);
  });

  it('asks for the version when the apps disagree, naming them', () => {
    expect(() => releaseVersion(config(), [{ project: 'a', version: '1.0.0' }, { project: 'b', version: '2.0.0' }])).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', file: 'release.config.ts', message: "version: the apps have different versions (a 1.0.0, b 2.0.0); set the release's own version in release.config.ts" }),
    );
  });

  it('refuses a config version that is not one', () => {
    expect(() => config({ version: 'latest' })).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^version: "latest" is not a version such as 1\.4\.0/) }));
  });
});

describe('checkReleaseTag', () => {
  it.each([[undefined], ['1.4.0'], ['v1.4.0']])('accepts HEAD tagged %s for 1.4.0', (tag) => {
    expect(() => checkReleaseTag(tag, '1.4.0', 'release.config.ts')).not.toThrow();
  });

  it.each([['v9.9.9'], ['1.4.1'], ['v1.4.0-rc1'], ['nightly']])('refuses HEAD tagged %s for 1.4.0, naming both', (tag) => {
    expect(() => checkReleaseTag(tag, '1.4.0', 'release.config.ts')).toThrow(
      expect.objectContaining({ code: 'RELEASE_TAG_MISMATCH', file: 'release.config.ts', message: expect.stringContaining(`HEAD is tagged ${tag}, but the release version is 1.4.0`) }),
    );
  });
});

describe('releaseVersionOf (the version BUILD_META and the provenance record)', () => {
  const installer = (name: string, version: string) => ({ kind: 'installer', name, version });
  it.each<[string, Record<string, unknown>, { kind: string; name?: string; version?: string }[], string]>([
    ['the one version of the installers', {}, [installer('a', '1.0.0'), installer('a', '1.0.0'), { kind: 'plugin', name: 'p', version: '9.9.9' }], '1.0.0'],
    ['the config version over the installers', { version: '2.0.0' }, [installer('a', '1.0.0'), installer('b', '0.3.1')], '2.0.0'],
    ['unknown without installers or a config version', {}, [{ kind: 'plugin', name: 'p', version: '1.0.0' }], 'unknown'],
  ])('gives %s', (_what, extra, artifacts, expected) => {
    expect(releaseVersionOf(resolveConfig({ apps: { root: 'apps' }, ...extra }), artifacts)).toBe(expected);
  });

  it('refuses installers of different versions without a config version', () => {
    expect(() => releaseVersionOf(resolveConfig({ apps: { root: 'apps' } }), [installer('a', '1.0.0'), installer('b', '0.3.1')])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });
});

describe('supersededFiles (what a version bump leaves behind)', () => {
  const P = 'linux-x86_64';
  const current = [
    { kind: 'app' as const, name: 'helix-studio', artifact: `helix-studio-1.4.1-${P}.zip` },
    { kind: 'app' as const, name: 'helix', artifact: `helix-2.0.0-${P}.zip` },
    { kind: 'plugin' as const, name: 'hello', artifact: 'plugins/hello-1.1.0.zip' },
  ];
  it('takes the earlier versions of current apps and plugins, with their SBOMs and signatures', () => {
    const files = [
      `helix-studio-1.4.0-${P}.zip`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json.asc`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json.dsse.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json.asc`,
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json.dsse.json`,
      `helix-studio-1.4.1-${P}.zip`,
      'plugins/hello-1.0.0.zip',
      'SBOM-hello-1.0.0.zip.spdx.json',
      'SBOM-hello-1.0.0.zip.cdx.json',
      'plugins/hello-1.1.0.zip',
      'SHA256SUMS.txt',
    ];
    expect(supersededFiles(files, current, P)).toEqual([
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json.asc`,
      `SBOM-helix-studio-1.4.0-${P}.zip.cdx.json.dsse.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json.asc`,
      `SBOM-helix-studio-1.4.0-${P}.zip.spdx.json.dsse.json`,
      'SBOM-hello-1.0.0.zip.cdx.json',
      'SBOM-hello-1.0.0.zip.spdx.json',
      `helix-studio-1.4.0-${P}.zip`,
      'plugins/hello-1.0.0.zip',
    ]);
  });

  it('leaves everything else: the current artifacts, other platforms, other apps that share a prefix, strays', () => {
    const files = [
      `helix-studio-1.4.1-${P}.zip`,
      'helix-studio-1.4.0-windows-x86_64.zip',
      // App "helix" must not take helix-studio's installer, nor helix-studio take helix's.
      `helix-2.0.0-${P}.zip`,
      `helix-studio-extra-1.0.0-${P}.zip`,
      'plugins/hello-world-1.0.0.zip',
      'plugins/goodbye-1.0.0.zip',
      'stray.txt',
      `SBOM-helix-studio-1.4.1-${P}.zip.spdx.json`,
      `SBOM-helix-studio-1.4.1-${P}.zip.cdx.json`,
    ];
    expect(supersededFiles(files, current, P)).toEqual([]);
  });
});

describe('checkSourceCommit', () => {
  it('accepts a SHA-1 or SHA-256 commit', () => {
    expect(() => checkSourceCommit('a'.repeat(40), '/ws')).not.toThrow();
    expect(() => checkSourceCommit('b'.repeat(64), '/ws')).not.toThrow();
  });
  it.each([['no .git (git printed nothing)', ''], ['something that is no commit', 'HEAD']])('refuses %s, naming the workspace and the fix', (_name, commit) => {
    expect(() => checkSourceCommit(commit, '/ws')).toThrow(expect.objectContaining({ code: 'SOURCE_COMMIT_MISSING', file: '/ws', message: expect.stringContaining('git init && git add -A && git commit') }));
  });
});

describe('checkArtifactNames', () => {
  it('accepts distinct names', () => {
    expect(() => checkArtifactNames([{ artifact: 'plugins/hello-1.0.0.zip' }, { artifact: 'plugins/wordcount-2.1.0.zip' }, { artifact: 'helix-studio-1.4.0-linux-x86_64.zip' }], 'release.config.ts')).not.toThrow();
  });
  it.each([
    ['in case', 'plugins/hello-1.0.0.zip', 'plugins/Hello-1.0.0.zip'],
    ['in Unicode form (NFC and NFD)', 'plugins/caf\u00e9-1.0.0.zip', 'plugins/cafe\u0301-1.0.0.zip'],
  ])('refuses two artifacts that differ only %s, naming both', (_how, a, b) => {
    expect(() => checkArtifactNames([{ artifact: a }, { artifact: b }], 'release.config.ts')).toThrow(
      expect.objectContaining({ code: 'ARTIFACT_NAME_CLASH', file: 'release.config.ts', message: expect.stringContaining(`${a} and ${b} differ only in case or Unicode form`) }),
    );
  });
});
