import { describe, it, expect } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { canonicalJson } from './canonical-json';
import { appEnv, loadConfig, resolveConfig, type ReleaseConfig } from './config';
import { sha256Hex } from './hash';

const TESTDATA = resolve(__dirname, '..', 'testdata');

const stage = (over: Record<string, unknown> = {}) => ({
  name: 'license-report',
  executor: '@acme/license:report',
  after: 'build',
  outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }],
  ...over,
});

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): { code?: string; message: string; file?: string } {
  try {
    fn();
  } catch (err) {
    return err as { code?: string; message: string; file?: string };
  }
  throw new Error('expected an error, nothing was thrown');
}

describe('resolveConfig refuses a bad config with CONFIG_INVALID naming the key path', () => {
  it.each<[string, unknown, RegExp]>([
    ['not an object', 'apps', /^\(top level\): expected an object, got string "apps"/],
    ['missing apps', {}, /^\(top level\): missing required key "apps"/],
    ['unknown top-level key', { apps: { root: 'apps' }, relaseDir: 'out' }, /^relaseDir: unknown key \(known keys here: apps, releaseDir, /],
    ['unknown nested key', { apps: { root: 'apps' }, plugins: { root: 'plugins', reqireSigned: false } }, /^plugins\.reqireSigned: unknown key \(known keys here: root, requireSigned, keyName, developmentKeyFile\)/],
    ['wrong type', { apps: { root: 'apps' }, sign: { required: 'yes' } }, /^sign\.required: expected true or false, got string "yes"/],
    ['bad enum', { apps: { root: 'apps' }, stages: [stage({ after: 'sign' })] }, /^stages\[0\]\.after: expected one of "build", "conformance", got string "sign"/],
    ['bad enum in a nested array', { apps: { root: 'apps' }, stages: [stage({ outputs: [{ path: 'a.txt', kind: 'binary' }] })] }, /^stages\[0\]\.outputs\[0\]\.kind: expected one of "custom", "installer", "plugin"/],
    ['duplicate stage name', { apps: { root: 'apps' }, stages: [stage(), stage({ outputs: [{ path: 'other.txt' }] })] }, /^stages\[1\]\.name: "license-report" is used twice/],
    ['bad stage name', { apps: { root: 'apps' }, stages: [stage({ name: 'License Report' })] }, /^stages\[0\]\.name: "License Report" is not lowercase letters, digits and -/],
    ['bad executor', { apps: { root: 'apps' }, stages: [stage({ executor: 'no-colon' })] }, /^stages\[0\]\.executor: "no-colon" is not <package>:<executor>/],
    ['path with .. (apps.root)', { apps: { root: '../outside' } }, /^apps\.root: "\.\.\/outside" is not a path relative to the workspace root, without \.\./],
    ['path with .. in the middle', { apps: { root: 'apps' }, releaseDir: 'dist/../..' }, /^releaseDir: "dist\/\.\.\/\.\." is not a path relative/],
    ['absolute path', { apps: { root: 'apps' }, trustStore: '/etc/trust.json' }, /^trustStore: "\/etc\/trust\.json" is not a path relative/],
    ['output path with ..', { apps: { root: 'apps' }, stages: [stage({ outputs: [{ path: '../escape.txt' }] })] }, /^stages\[0\]\.outputs\[0\]\.path: "\.\.\/escape\.txt" is not a path inside the release folder/],
    ['output path with a . component', { apps: { root: 'apps' }, stages: [stage({ outputs: [{ path: 'reports/./a.txt' }] })] }, /^stages\[0\]\.outputs\[0\]\.path: "reports\/\.\/a\.txt" is not a path inside the release folder/],
    ['output path with a backslash', { apps: { root: 'apps' }, stages: [stage({ outputs: [{ path: 'a\\b.txt' }] })] }, /^stages\[0\]\.outputs\[0\]\.path: .* is not a path inside the release folder/],
    ['empty string', { apps: { root: '' } }, /^apps\.root: expected a non-empty string, got string ""/],
    ['bad fingerprint', { apps: { root: 'apps' }, sign: { developmentKey: { privateKeyFile: 'k.asc', passphraseFile: 'k.pass', fingerprint: 'abc' } } }, /^sign\.developmentKey\.fingerprint: "abc" is not a 40- or 64-digit hex fingerprint/],
    ['options not an object', { apps: { root: 'apps' }, stages: [stage({ options: [] })] }, /^stages\[0\]\.options: expected an object, got an array/],
  ])('%s', (_what, raw, message) => {
    const err = thrown(() => resolveConfig(raw, 'release.config.ts'));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.file).toBe('release.config.ts');
    expect(err.message).toMatch(message);
  });

  it('lists every problem, one per line, an object\'s unknown keys before the problems inside it', () => {
    const err = thrown(() => resolveConfig({ apps: {}, python: '', plugins: { root: '/abs', reqireSigned: false }, stages: [stage({ after: 'later' })], extra: 1 }));
    expect(err.message.split('\n')).toEqual([
      'extra: unknown key (known keys here: apps, releaseDir, python, plugins, trustStore, conformance, sign, stages, version, organization)',
      'apps: missing required key "root"',
      'python: expected a non-empty string, got string ""',
      'plugins.reqireSigned: unknown key (known keys here: root, requireSigned, keyName, developmentKeyFile)',
      'plugins.root: "/abs" is not a path relative to the workspace root, without ..',
      'stages[0].after: expected one of "build", "conformance", got string "later"',
    ]);
  });

  it('names a missing key of a stage and checks a stage name only once the stages are otherwise valid', () => {
    const { outputs: _, ...noOutputs } = stage();
    expect(thrown(() => resolveConfig({ apps: { root: 'apps' }, stages: [noOutputs, stage()] })).message).toBe('stages[0]: missing required key "outputs"');
  });
});

describe('resolveConfig defaults', () => {
  it('applies every default to a minimal config', () => {
    const config = resolveConfig({ apps: { root: 'apps' } }, 'release.config.ts');
    const { digest, ...rest } = config;
    expect(rest).toEqual({
      releaseDir: 'dist/release',
      python: 'python3',
      apps: { root: 'apps' },
      plugins: undefined,
      trustStore: undefined,
      conformance: undefined,
      sign: { required: false, developmentKey: undefined },
      stages: [],
      file: 'release.config.ts',
    });
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // The digest is over the canonical JSON of everything but itself.
    expect(digest).toBe(sha256Hex(canonicalJson(rest)));
  });

  it('fills plugin and stage defaults and normalises output paths', () => {
    const config = resolveConfig({
      apps: { root: 'apps' },
      plugins: { root: 'plugins' },
      stages: [
        stage({ outputs: [{ path: 'reports//licenses.txt' }, { path: 'extra-installer.zip', kind: 'installer' }, { path: 'p.zip', kind: 'plugin', sbom: false }] }),
        stage({ name: 'late', after: 'conformance', options: { level: 2 }, inputs: ['{workspaceRoot}/LICENSE'] }),
      ],
    });
    expect(config.plugins).toEqual({ root: 'plugins', requireSigned: true, keyName: 'release-plugins', developmentKeyFile: undefined });
    expect(config.stages).toEqual([
      {
        name: 'license-report',
        executor: '@acme/license:report',
        after: 'build',
        options: {},
        inputs: [],
        outputs: [
          { path: 'reports/licenses.txt', kind: 'custom', sbom: false },
          { path: 'extra-installer.zip', kind: 'installer', sbom: true },
          { path: 'p.zip', kind: 'plugin', sbom: false },
        ],
      },
      {
        name: 'late',
        executor: '@acme/license:report',
        after: 'conformance',
        options: { level: 2 },
        inputs: ['{workspaceRoot}/LICENSE'],
        outputs: [{ path: 'THIRD_PARTY_LICENSES.txt', kind: 'custom', sbom: false }],
      },
    ]);
  });

  it('keeps values that are given', () => {
    const config = resolveConfig({ apps: { root: 'apps' }, releaseDir: 'out/rel', python: 'python3.11', plugins: { root: 'p', requireSigned: false, keyName: 'k' }, sign: { required: true } });
    expect(config).toMatchObject({ releaseDir: 'out/rel', python: 'python3.11', plugins: { requireSigned: false, keyName: 'k' }, sign: { required: true } });
  });
});

describe('apps.env', () => {
  const studio = { root: 'workspace-fixtures/studio', env: { OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED: '1' } };

  it('keeps the variables the app runs with', () => {
    expect(resolveConfig({ apps: studio }).apps).toEqual(studio);
  });

  it('is left out when absent or empty, so the digest of a config without it is unchanged', () => {
    const without = resolveConfig({ apps: { root: 'apps' } });
    expect(without.apps.env).toBeUndefined();
    expect(canonicalJson(without.apps)).toBe('{"root":"apps"}');
    expect(resolveConfig({ apps: { root: 'apps', env: {} } }).digest).toBe(without.digest);
    expect(resolveConfig({ apps: studio }).digest).not.toBe(resolveConfig({ apps: { root: studio.root } }).digest);
  });

  it.each<[string, unknown, RegExp]>([
    ['a bad variable name', { A_1: 'x', '1BAD': 'x' }, /^apps\.env: "1BAD" is not an environment variable name \(letters, digits and _, not starting with a digit\)$/],
    ['a name with a dash', { 'MY-VAR': 'x' }, /^apps\.env: "MY-VAR" is not an environment variable name/],
    ['a value that is not a string', { LEVEL: 1 }, /^apps\.env\.LEVEL: expected a string, got number 1$/],
    ['an unset value', { LEVEL: undefined }, /^apps\.env\.LEVEL: expected a string, got undefined$/],
    ['not an object', ['A=1'], /^apps\.env: expected an object, got an array$/],
  ])('refuses %s', (_what, env, message) => {
    const err = thrown(() => resolveConfig({ apps: { root: 'apps', env } }));
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(message);
  });
});

describe('resolveConfig digest', () => {
  const base: ReleaseConfig = { apps: { root: 'apps' }, plugins: { root: 'plugins', keyName: 'k' }, stages: [{ name: 'x', executor: 'a:b', after: 'build', outputs: [{ path: 'x.txt' }] }] };

  it('is the same for equal configs, whatever the key order or spelled-out defaults', () => {
    const reordered = { stages: [{ outputs: [{ path: 'x.txt' }], after: 'build', executor: 'a:b', name: 'x' }], plugins: { keyName: 'k', root: 'plugins' }, apps: { root: 'apps' } };
    const explicit = { ...base, releaseDir: 'dist/release', plugins: { root: 'plugins', keyName: 'k', requireSigned: true } };
    const digest = resolveConfig(base).digest;
    expect(resolveConfig(reordered).digest).toBe(digest);
    expect(resolveConfig(explicit).digest).toBe(digest);
    expect(resolveConfig(structuredClone(base)).digest).toBe(digest);
  });

  it.each<[string, ReleaseConfig]>([
    ['another apps root', { ...base, apps: { root: 'apps2' } }],
    ['another release folder', { ...base, releaseDir: 'out' }],
    ['signing required', { ...base, sign: { required: true } }],
    ['unsigned plugins allowed', { ...base, plugins: { root: 'plugins', keyName: 'k', requireSigned: false } }],
    ['another stage slot', { ...base, stages: [{ ...base.stages![0]!, after: 'conformance' }] }],
    ['a stage option', { ...base, stages: [{ ...base.stages![0]!, options: { a: 1 } }] }],
  ])('differs for %s', (_what, other) => {
    expect(resolveConfig(other).digest).not.toBe(resolveConfig(base).digest);
  });

  it('differs when loaded from another file name', () => {
    expect(resolveConfig(base, 'release.config.js').digest).not.toBe(resolveConfig(base, 'release.config.ts').digest);
  });
});

describe('loadConfig', () => {
  it('loads release.config.ts that imports defineConfig from @helix-release/core', async () => {
    const config = await loadConfig(join(TESTDATA, 'config-ok'));
    expect(config.file).toBe('release.config.ts');
    expect(config.apps).toEqual({ root: 'apps' });
    expect(config.plugins).toEqual({ root: 'plugins', requireSigned: true, keyName: 'fixture-plugins', developmentKeyFile: undefined });
    expect(config.stages.map((s) => s.name)).toEqual(['license-report']);
    // Loading gives the same result as resolving the same object by hand.
    expect(config.digest).toBe(
      resolveConfig({
        apps: { root: 'apps' },
        plugins: { root: 'plugins', keyName: 'fixture-plugins' },
        stages: [{ name: 'license-report', executor: '@acme/license:report', after: 'build', outputs: [{ path: 'THIRD_PARTY_LICENSES.txt' }] }],
      }).digest,
    );
  });

  it('checks a loaded config: CONFIG_INVALID naming the key and the file', async () => {
    await expect(loadConfig(join(TESTDATA, 'config-invalid'))).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      file: 'release.config.ts',
      message: expect.stringMatching(/^plugins\.reqireSigned: unknown key/),
    });
  });

  it('reports a config that throws as CONFIG_LOAD_FAILED', async () => {
    await expect(loadConfig(join(TESTDATA, 'config-throws'))).rejects.toMatchObject({
      code: 'CONFIG_LOAD_FAILED',
      message: expect.stringContaining('boom while loading the config'),
    });
  });

  it('reports a folder without a config as CONFIG_NOT_FOUND', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'helix-config-'));
    try {
      await expect(loadConfig(dir)).rejects.toMatchObject({
        code: 'CONFIG_NOT_FOUND',
        file: join(dir, 'release.config.ts'),
        message: expect.stringContaining('defineConfig'),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('appEnv', () => {
  it('gives apps.env under the app\'s own apps.settings env, and nothing of another app\'s', () => {
    const config = resolveConfig({ apps: { root: 'apps', env: { SHARED: '1', MODE: 'all' }, settings: { studio: { env: { MODE: 'studio', SIGNED: '1' } } } } });
    expect(appEnv(config, 'studio')).toEqual({ SHARED: '1', MODE: 'studio', SIGNED: '1' });
    expect(appEnv(config, 'greeter')).toEqual({ SHARED: '1', MODE: 'all' });
    expect(appEnv(resolveConfig({ apps: { root: 'apps' } }), 'greeter')).toEqual({});
  });

  it('refuses a setting that is not env, naming the key', () => {
    expect(() => resolveConfig({ apps: { root: 'apps', settings: { studio: { spec: 'x.spec' } } } } as never)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('apps.settings.studio') }));
  });
});
