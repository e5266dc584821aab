/**
 * The release configuration: `release.config.ts` at the workspace root,
 * loaded with cosmiconfig and checked key by key.
 */
import { isAbsolute, join, normalize } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { ReleaseError } from './errors';
import { canonicalJson } from './canonical-json';
import { sha256Hex } from './hash';

/** Where a custom stage runs in the release order. */
export type CustomStageSlot = 'build' | 'conformance';

/** A file a custom stage adds to the release. */
export interface CustomStageOutput {
  /** Path relative to the release folder, e.g. `THIRD_PARTY_LICENSES.txt`. */
  path: string;
  /** `custom` for reports and metadata; `installer` or `plugin` for shippable artifacts. Default `custom`. */
  kind?: 'custom' | 'installer' | 'plugin';
  /** Whether the sbom stage writes an SBOM for it. Default: true for installers and plugins. */
  sbom?: boolean;
}

/** A team's own stage, run as an Nx executor inside `release:all`. */
export interface CustomStageConfig {
  /** Target name on the `release` project, e.g. `license-report`. */
  name: string;
  /** The Nx executor, `<package>:<executor>`. */
  executor: string;
  /** `build`: after the apps and plugins are built; `conformance`: after conformance. */
  after: CustomStageSlot;
  /** Files it adds to the release; the evidence stages cover them. */
  outputs: CustomStageOutput[];
  /** Options passed to the executor. */
  options?: Record<string, unknown>;
  /** Extra Nx inputs (file sets) besides the executor's own sources. */
  inputs?: string[];
}

/** The user-facing configuration, as written in release.config.ts. */
export interface ReleaseConfig {
  /** Release folder, relative to the workspace root. Default `dist/release`. */
  releaseDir?: string;
  /** Python interpreter that builds the apps. Default `python3`. */
  python?: string;
  /** Applications: every folder below `root` holding a PyInstaller `*.spec` is one. */
  apps: { root: string };
  /** Plugins: every folder below `root` holding a `plugin.json` is one. */
  plugins?: {
    root: string;
    /** When true (the default), a missing plugin signing key fails the build. */
    requireSigned?: boolean;
    /** Name of the signing key as it appears in trust stores. */
    keyName?: string;
    /** Key used when HELIX_PLUGIN_SIGNING_KEY is unset; for development only. */
    developmentKeyFile?: string;
  };
  /** The trust store the verifier and conformance pack use for plugins. */
  trustStore?: string;
  /** The conformance pack. */
  conformance?: { pack: string };
  /** Release signing with OpenPGP. */
  sign?: {
    /** When true, a release without a key fails instead of being published unsigned. */
    required?: boolean;
    /** Key used when GPG_PRIVATE_KEY is unset; for development only. */
    developmentKey?: { privateKeyFile: string; passphraseFile: string; fingerprint: string };
  };
  /** Custom stages. */
  stages?: CustomStageConfig[];
}

/** The configuration with every default applied. */
export interface ResolvedConfig {
  releaseDir: string;
  python: string;
  apps: { root: string };
  plugins: { root: string; requireSigned: boolean; keyName: string; developmentKeyFile: string | undefined } | undefined;
  trustStore: string | undefined;
  conformance: { pack: string } | undefined;
  sign: {
    required: boolean;
    developmentKey: { privateKeyFile: string; passphraseFile: string; fingerprint: string } | undefined;
  };
  stages: ResolvedCustomStage[];
  /** sha256 of the canonical JSON of this object without `digest`; recorded in provenance. */
  digest: string;
  /** The file it was loaded from, relative to the workspace root. */
  file: string;
}

/** A custom stage with defaults applied. */
export interface ResolvedCustomStage {
  name: string;
  executor: string;
  after: CustomStageSlot;
  outputs: Required<CustomStageOutput>[];
  options: Record<string, unknown>;
  inputs: string[];
}

/** Identity helper that gives release.config.ts its types. */
export function defineConfig(config: ReleaseConfig): ReleaseConfig {
  return config;
}

/** Targets that custom stages may not take, because the release already uses them. */
export const RESERVED_TARGETS = [
  'toolchain', 'lock', 'package', 'plugin-zip', 'conformance', 'sbom', 'checksums', 'build-meta',
  'provenance', 'sign', 'all', 'clean',
] as const;

type Shape =
  | { t: 'string'; pattern?: RegExp; hint?: string }
  | { t: 'boolean' }
  | { t: 'enum'; values: readonly string[] }
  | { t: 'record' }
  | { t: 'array'; of: Shape }
  | { t: 'object'; required: Record<string, Shape>; optional: Record<string, Shape> };

const relPath: Shape = { t: 'string', pattern: /^(?!\/)(?![A-Za-z]:)(?!.*(^|\/)\.\.(\/|$)).+$/, hint: 'a path relative to the workspace root, without ..' };
const releasePath: Shape = { t: 'string', pattern: /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\\\n\r\t:*?"<>|]+$/, hint: 'a path inside the release folder, with / separators' };

const SCHEMA: Shape = {
  t: 'object',
  required: { apps: { t: 'object', required: { root: relPath }, optional: {} } },
  optional: {
    releaseDir: relPath,
    python: { t: 'string' },
    plugins: {
      t: 'object',
      required: { root: relPath },
      optional: { requireSigned: { t: 'boolean' }, keyName: { t: 'string', pattern: /^[A-Za-z0-9._-]+$/, hint: 'letters, digits, . _ -' }, developmentKeyFile: relPath },
    },
    trustStore: relPath,
    conformance: { t: 'object', required: { pack: relPath }, optional: {} },
    sign: {
      t: 'object',
      required: {},
      optional: {
        required: { t: 'boolean' },
        developmentKey: {
          t: 'object',
          required: { privateKeyFile: relPath, passphraseFile: relPath, fingerprint: { t: 'string', pattern: /^[0-9A-Fa-f]{40}$|^[0-9A-Fa-f]{64}$/, hint: 'a 40- or 64-digit hex fingerprint' } },
          optional: {},
        },
      },
    },
    stages: {
      t: 'array',
      of: {
        t: 'object',
        required: {
          name: { t: 'string', pattern: /^[a-z][a-z0-9-]*$/, hint: 'lowercase letters, digits and -' },
          executor: { t: 'string', pattern: /^[^:\s]+:[^:\s]+$/, hint: '<package>:<executor>' },
          after: { t: 'enum', values: ['build', 'conformance'] },
          outputs: {
            t: 'array',
            of: { t: 'object', required: { path: releasePath }, optional: { kind: { t: 'enum', values: ['custom', 'installer', 'plugin'] }, sbom: { t: 'boolean' } } },
          },
        },
        optional: { options: { t: 'record' }, inputs: { t: 'array', of: { t: 'string' } } },
      },
    },
  },
};

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

function check(value: unknown, shape: Shape, path: string, file: string): void {
  const fail = (why: string): never => {
    throw new ReleaseError('CONFIG_INVALID', `${path || '(top level)'}: ${why}`, { file });
  };
  switch (shape.t) {
    case 'string':
      if (typeof value !== 'string' || value === '') fail(`expected a non-empty string, got ${typeName(value)}`);
      if (shape.pattern && !shape.pattern.test(value as string)) fail(`${JSON.stringify(value)} is not ${shape.hint ?? 'valid'}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(`expected true or false, got ${typeName(value)}`);
      return;
    case 'enum':
      if (typeof value !== 'string' || !shape.values.includes(value)) {
        fail(`expected one of ${shape.values.map((v) => JSON.stringify(v)).join(', ')}, got ${typeName(value)}`);
      }
      return;
    case 'record':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`expected an object, got ${typeName(value)}`);
      return;
    case 'array':
      if (!Array.isArray(value)) fail(`expected an array, got ${typeName(value)}`);
      (value as unknown[]).forEach((item, i) => check(item, shape.of, `${path}[${i}]`, file));
      return;
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`expected an object, got ${typeName(value)}`);
      const obj = value as Record<string, unknown>;
      const known = [...Object.keys(shape.required), ...Object.keys(shape.optional)];
      for (const key of Object.keys(obj)) {
        if (!known.includes(key)) {
          const where = path ? `${path}.${key}` : key;
          throw new ReleaseError('CONFIG_INVALID', `${where}: unknown key (known keys here: ${known.join(', ')})`, { file });
        }
      }
      for (const [key, sub] of Object.entries(shape.required)) {
        if (obj[key] === undefined) fail(`missing required key ${JSON.stringify(key)}`);
        check(obj[key], sub, path ? `${path}.${key}` : key, file);
      }
      for (const [key, sub] of Object.entries(shape.optional)) {
        if (obj[key] !== undefined) check(obj[key], sub, path ? `${path}.${key}` : key, file);
      }
    }
  }
}

/**
 * Checks a raw config object and applies defaults. Throws CONFIG_INVALID
 * naming the key path (e.g. `stages[0].after`) and what was expected.
 */
export function resolveConfig(raw: unknown, file = 'release.config.ts'): ResolvedConfig {
  check(raw, SCHEMA, '', file);
  const config = raw as ReleaseConfig;
  const stages = (config.stages ?? []).map((stage, i): ResolvedCustomStage => {
    if ((RESERVED_TARGETS as readonly string[]).includes(stage.name)) {
      throw new ReleaseError('CONFIG_INVALID', `stages[${i}].name: ${JSON.stringify(stage.name)} is a built-in stage; pick another name`, { file });
    }
    return {
      name: stage.name,
      executor: stage.executor,
      after: stage.after,
      options: stage.options ?? {},
      inputs: stage.inputs ?? [],
      outputs: stage.outputs.map((o) => {
        const kind = o.kind ?? 'custom';
        return { path: normalize(o.path).split('\\').join('/'), kind, sbom: o.sbom ?? kind !== 'custom' };
      }),
    };
  });
  const names = new Set<string>();
  for (const [i, stage] of stages.entries()) {
    if (names.has(stage.name)) throw new ReleaseError('CONFIG_INVALID', `stages[${i}].name: ${JSON.stringify(stage.name)} is used twice`, { file });
    names.add(stage.name);
  }
  const resolved = {
    releaseDir: config.releaseDir ?? 'dist/release',
    python: config.python ?? 'python3',
    apps: { root: config.apps.root },
    plugins: config.plugins && {
      root: config.plugins.root,
      requireSigned: config.plugins.requireSigned ?? true,
      keyName: config.plugins.keyName ?? 'release-plugins',
      developmentKeyFile: config.plugins.developmentKeyFile,
    },
    trustStore: config.trustStore,
    conformance: config.conformance,
    sign: { required: config.sign?.required ?? false, developmentKey: config.sign?.developmentKey },
    stages,
    file,
  };
  return { ...resolved, digest: sha256Hex(canonicalJson(resolved)) } as ResolvedConfig;
}

/** Config file names searched at the workspace root, in order. */
export const CONFIG_FILES = ['release.config.ts', 'release.config.js', 'release.config.cjs'] as const;

function requireTs(file: string): unknown {
  // Nx registers swc-node before it loads our executors and plugins; a bare
  // Node process (the CLI, vitest) registers it here.
  if (!require.extensions['.ts']) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { register } = require('@swc-node/register/register') as { register: (o: object) => void };
    register({ module: 1 /* CommonJS */, target: 9 /* ES2022 */, esModuleInterop: true, sourceMap: true });
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as { default?: unknown };
  return mod.default ?? mod;
}

/**
 * Loads and resolves the release config from `workspaceRoot`. Throws
 * CONFIG_NOT_FOUND, CONFIG_LOAD_FAILED or CONFIG_INVALID.
 */
export async function loadConfig(workspaceRoot: string): Promise<ResolvedConfig> {
  const explorer = cosmiconfig('release', {
    searchPlaces: [...CONFIG_FILES],
    searchStrategy: 'none',
    cache: false,
    loaders: { '.ts': (file: string) => requireTs(file) },
  });
  let result;
  try {
    result = await explorer.search(workspaceRoot);
  } catch (cause) {
    const file = (cause as { filepath?: string }).filepath ?? join(workspaceRoot, CONFIG_FILES[0]);
    throw new ReleaseError('CONFIG_LOAD_FAILED', `cannot load the release config: ${(cause as Error).message}`, { file, cause });
  }
  if (!result || result.isEmpty) {
    throw new ReleaseError(
      'CONFIG_NOT_FOUND',
      `no ${CONFIG_FILES.join(' / ')} at ${workspaceRoot}; create one that exports defineConfig({ apps: { root: '...' } })`,
      { file: join(workspaceRoot, CONFIG_FILES[0]) },
    );
  }
  const rel = isAbsolute(result.filepath) ? result.filepath.slice(workspaceRoot.length + 1) : result.filepath;
  return resolveConfig(result.config, rel);
}

/**
 * Set to `1` (as the tag workflow does) to make every stage refuse the
 * development keys of release.config.ts, so a real release cannot fall back
 * to them when a secret is missing.
 */
export const FORBID_DEVELOPMENT_KEYS_ENV = 'HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS';
