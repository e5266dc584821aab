/**
 * The release configuration: `release.config.ts` at the workspace root,
 * loaded with cosmiconfig and checked key by key. `SCHEMA` below is the one
 * definition: the types, the defaults and the error messages all come from it.
 */
import { isAbsolute, join, normalize } from 'node:path';
import { cosmiconfig } from 'cosmiconfig';
import { z } from 'zod';
import { ReleaseError } from './errors';
import { canonicalJson } from './canonical-json';
import { sha256Hex } from './hash';

/** `string "x"`, `an array`, ...: what a message says was found instead. */
function typeName(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value)}`;
}

const got = (iss: { input?: unknown }): string => `got ${typeName(iss.input)}`;

/** A non-empty string; `hint` completes `"..." is not <hint>` when `pattern` fails. */
function str(pattern?: RegExp, hint?: string) {
  const s = z.string({ error: (iss) => `expected a non-empty string, ${got(iss)}` }).min(1, { error: (iss) => `expected a non-empty string, ${got(iss)}`, abort: true });
  return pattern ? s.regex(pattern, { error: (iss) => `${JSON.stringify(iss.input)} is not ${hint}` }) : s;
}

const bool = () => z.boolean({ error: (iss) => `expected true or false, ${got(iss)}` });

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: (iss) => `expected one of ${values.map((v) => JSON.stringify(v)).join(', ')}, ${got(iss)}` });
}

function list<T extends z.ZodType>(of: T) {
  return z.array(of, { error: (iss) => `expected an array, ${got(iss)}` });
}

function record<K extends z.core.$ZodRecordKey, V extends z.ZodType>(key: K, value: V, badKey = 'a valid key') {
  return z.record(key, value, {
    error: (iss) => (iss.code === 'invalid_key' ? `${JSON.stringify(iss.input)} is not ${badKey}` : `expected an object, ${got(iss)}`),
  });
}

/** Every declared key present, `undefined` where optional and absent. */
type Filled<T> = { [K in keyof Required<T>]: T[K] };

/**
 * A strict object (unknown keys are errors). Its output has every declared
 * key, `undefined` where absent, as the resolved config always had; declare
 * required keys first: the order is the order of checks and of "known keys".
 */
function strict<S extends z.ZodRawShape>(shape: S) {
  const blank = Object.fromEntries(Object.keys(shape).map((key) => [key, undefined]));
  return z
    .strictObject(shape, { error: (iss) => (iss.code === 'invalid_type' ? `expected an object, ${got(iss)}` : undefined) })
    .transform((value) => ({ ...blank, ...value }) as Filled<typeof value>);
}

const relPath = str(/^(?!\/)(?![A-Za-z]:)(?!.*(^|\/)\.\.(\/|$)).+$/, 'a path relative to the workspace root, without ..');
const releasePath = str(/^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\\\n\r\t:*?"<>|]+$/, 'a path inside the release folder, with / separators')
  // `reports//a.txt` and `reports/a.txt` are one file: record one spelling.
  .transform((path) => normalize(path).split('\\').join('/'));

const stageSlot = oneOf(['build', 'conformance']);

const stageOutput = strict({
  /** Path relative to the release folder, e.g. `THIRD_PARTY_LICENSES.txt`. */
  path: releasePath,
  /** `custom` for reports and metadata; `installer` or `plugin` for shippable artifacts. Default `custom`. */
  kind: oneOf(['custom', 'installer', 'plugin']).default('custom'),
  /** Whether the sbom stage writes an SBOM for it. Default: true for installers and plugins. */
  sbom: bool().optional(),
}).transform((o) => ({ ...o, sbom: o.sbom ?? o.kind !== 'custom' }));

const customStage = strict({
  /** Target name on the `release` project, e.g. `license-report`. */
  name: str(/^[a-z][a-z0-9-]*$/, 'lowercase letters, digits and -'),
  /** The Nx executor, `<package>:<executor>`. */
  executor: str(/^[^:\s]+:[^:\s]+$/, '<package>:<executor>'),
  /** `build`: after the apps and plugins are built; `conformance`: after conformance. */
  after: stageSlot,
  /** Files it adds to the release; the evidence stages cover them. */
  outputs: list(stageOutput),
  /** Options passed to the executor. Default `{}`. */
  options: record(z.string(), z.unknown()).default(() => ({})),
  /** Extra Nx inputs (file sets) besides the executor's own sources. Default `[]`. */
  inputs: list(str()).default(() => []),
});

/** Environment variables for an app: names of letters, digits and _; resolved as undefined when empty, so that configs without it keep their digest. */
function envRecord() {
  return record(str(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string({ error: (iss) => `expected a string, ${got(iss)}` }), 'an environment variable name (letters, digits and _, not starting with a digit)')
    .optional()
    .transform((env) => (env && Object.keys(env).length > 0 ? env : undefined));
}

/** The schema of release.config.ts: the one definition of keys, types, defaults and messages. */
const SCHEMA = strict({
  /** Applications: every folder below `root` holding a PyInstaller `*.spec` is one. */
  apps: strict({
    root: relPath,
    /**
     * Environment variables the built app runs with in its smoke test and in
     * conformance, e.g. `{ OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED: '1' }`. Default `{}`.
     */
    env: envRecord(),
    /**
     * Settings of one app, by its project name (its pyproject.toml name):
     * `env` for that app only, over `env`; `conformance`, a pack of cases for
     * that app only, merged into the release's pack. Default `{}`.
     */
    settings: record(str(/^[A-Za-z0-9][A-Za-z0-9._+-]*$/), strict({ env: envRecord(), conformance: relPath.optional() }), 'an app name')
      .optional()
      .transform((settings) => (settings && Object.keys(settings).length > 0 ? settings : undefined)),
  }),
  /** Release folder, relative to the workspace root. Default `dist/release`. */
  releaseDir: relPath.default('dist/release'),
  /** Python interpreter that builds the apps. Default `python3`. */
  python: str().default('python3'),
  /** Plugins: every folder below `root` holding a `plugin.json` is one. */
  plugins: strict({
    root: relPath,
    /** When true (the default), a missing plugin signing key fails the build. */
    requireSigned: bool().default(true),
    /** Name of the signing key as it appears in trust stores. Default `release-plugins`. */
    keyName: str(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ -').default('release-plugins'),
    /** Key used when HELIX_PLUGIN_SIGNING_KEY is unset; for development only. */
    developmentKeyFile: relPath.optional(),
  }).optional(),
  /** The trust store the verifier and conformance pack use for plugins. */
  trustStore: relPath.optional(),
  /** The conformance pack. */
  conformance: strict({ pack: relPath }).optional(),
  /** Release signing with OpenPGP. */
  sign: strict({
    /** When true, a release without a key fails instead of being published unsigned. Default false. */
    required: bool().default(false),
    /** Key used when GPG_PRIVATE_KEY is unset; for development only. */
    developmentKey: strict({
      privateKeyFile: relPath,
      passphraseFile: relPath,
      fingerprint: str(/^[0-9A-Fa-f]{40}$|^[0-9A-Fa-f]{64}$/, 'a 40- or 64-digit hex fingerprint'),
    }).optional(),
  }).prefault({}),
  /** Custom stages. Default `[]`. */
  stages: list(customStage)
    .superRefine((stages, ctx) => {
      const names = new Set<string>();
      for (const [i, { name }] of stages.entries()) {
        if (names.has(name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], input: name, message: `${JSON.stringify(name)} is used twice` });
        names.add(name);
      }
    })
    .default(() => []),
  /**
   * The release's version. Default: the app's version when there is one app
   * (or all apps share one). On a tag build the tag must be this version
   * (`v1.4.0` or `1.4.0`), or the release stops before any stage runs.
   */
  version: str(/^[0-9][0-9A-Za-z.+_-]*$/, 'a version such as 1.4.0').optional(),
  /**
   * The organisation that releases the apps and plugins: the supplier of each
   * installer and plugin (its SBOM's root package) and, with helix-release,
   * the creator of every SBOM (`Organization: <organization>`). Default: the
   * artifact's own product name (the app's or plugin's name).
   */
  organization: str(/^[^()\n\r]+$/, 'a name without parentheses or line breaks').optional(),
});

/** Where a custom stage runs in the release order. */
export type CustomStageSlot = z.output<typeof stageSlot>;

/** A file a custom stage adds to the release. */
export type CustomStageOutput = z.input<typeof stageOutput>;

/** A team's own stage, run as an Nx executor inside `release:all`. */
export type CustomStageConfig = z.input<typeof customStage>;

/** A custom stage with defaults applied. */
export type ResolvedCustomStage = z.output<typeof customStage>;

/** The user-facing configuration, as written in release.config.ts. */
export type ReleaseConfig = z.input<typeof SCHEMA>;

/** The configuration with every default applied. */
export interface ResolvedConfig extends z.output<typeof SCHEMA> {
  /** sha256 of the canonical JSON of this object without `digest`; recorded in provenance. */
  digest: string;
  /** The file it was loaded from, relative to the workspace root. */
  file: string;
}

/** Identity helper that gives release.config.ts its types. */
export function defineConfig(config: ReleaseConfig): ReleaseConfig {
  return config;
}

/** The object schema that `path` leads to in SCHEMA, if it leads to one. */
function objectAt(path: readonly PropertyKey[]): z.ZodObject | undefined {
  let schema: unknown = SCHEMA;
  for (let i = 0; ; i++) {
    while (schema instanceof z.ZodPipe || schema instanceof z.ZodOptional || schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault) {
      schema = schema instanceof z.ZodPipe ? schema.in : schema.unwrap();
    }
    if (i === path.length) return schema instanceof z.ZodObject ? schema : undefined;
    const key = path[i]!;
    if (schema instanceof z.ZodObject) schema = (schema.shape as Record<PropertyKey, unknown>)[key];
    else if (schema instanceof z.ZodArray) schema = schema.element;
    else if (schema instanceof z.ZodRecord) schema = schema.valueType;
    else return undefined;
  }
}

const keyPath = (path: readonly PropertyKey[]): string =>
  path.reduce<string>((out, key) => (typeof key === 'number' ? `${out}[${key}]` : out ? `${out}.${String(key)}` : String(key)), '') || '(top level)';

/** One line per problem, each starting with its key path, in the order a reader goes through the file. */
function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  const within = (outer: readonly PropertyKey[], inner: readonly PropertyKey[]) => outer.every((key, i) => inner[i] === key);
  // zod reports an object's unknown keys after the problems inside it; put
  // them first, as they most likely explain the rest (a misspelt key).
  const rank = (issue: z.core.$ZodIssue, i: number) =>
    issue.code === 'unrecognized_keys' ? issues.findIndex((other) => within(issue.path, other.path)) - 1 / (issue.path.length + 2) : i;
  const ordered = issues.map((issue, i) => ({ issue, rank: rank(issue, i) })).sort((a, b) => a.rank - b.rank);
  return ordered
    .flatMap(({ issue }) => {
      const parent = issue.path.slice(0, -1);
      const key = issue.path.at(-1);
      if (issue.code === 'unrecognized_keys') {
        const known = Object.keys(objectAt(issue.path)?.shape ?? {}).join(', ');
        return issue.keys.map((unknown) => `${keyPath([...issue.path, unknown])}: unknown key (known keys here: ${known})`);
      }
      if (issue.code === 'invalid_key') return [`${keyPath(parent)}: ${issue.message}`];
      if (issue.input === undefined && typeof key === 'string' && objectAt(parent)) return [`${keyPath(parent)}: missing required key ${JSON.stringify(key)}`];
      return [`${keyPath(issue.path)}: ${issue.message}`];
    })
    .join('\n');
}

/**
 * Checks a raw config object and applies defaults. Throws CONFIG_INVALID
 * with one line per problem, each naming the key path (e.g. `stages[0].after`)
 * and what was expected.
 */
export function resolveConfig(raw: unknown, file = 'release.config.ts'): ResolvedConfig {
  // reportInput: the messages name what was found, and a missing key is told by its undefined input.
  const result = SCHEMA.safeParse(raw, { reportInput: true });
  if (!result.success) throw new ReleaseError('CONFIG_INVALID', describeIssues(result.error.issues), { file });
  const resolved = { ...result.data, file };
  return { ...resolved, digest: sha256Hex(canonicalJson(resolved)) };
}

/** Config file names searched at the workspace root, in order. */
export const CONFIG_FILES = ['release.config.ts', 'release.config.js', 'release.config.cjs'] as const;

function requireTs(file: string): unknown {
  // Nx (or our entry points) registered a TypeScript loader before it loaded
  // our code; a bare Node process (vitest's children, a script) gets the light one.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (!require.extensions['.ts']) require('../source-loader.cjs');
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

/** The environment an app runs with once installed (smoke test, conformance): `apps.env`, then its own `apps.settings[app].env`. */
export function appEnv(config: Pick<ResolvedConfig, 'apps'>, app: string): Record<string, string> {
  return { ...(config.apps.env ?? {}), ...(config.apps.settings?.[app]?.env ?? {}) };
}
