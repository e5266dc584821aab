/**
 * pluginZipStage on temporary plugin folders, one scenario per row: what it
 * refuses (the plugin.json, the source folder, the signing key), each with its
 * code, the file it names and what it says; and, as controls, the plugins it
 * packages, whose SIGNATURE.ed25519 must verify with the key's public half.
 * A refused run writes no zip.
 */
import { generateKeyPairSync } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger, readZipDirectory, readZipEntry, resolveConfig, type ReleaseArtifact, type StageContext } from '@helix-release/core';
import { SIGNATURE_ENTRY, parseSignatureFile, verifyEd25519 } from '@helix-release/format';
import { PluginZipError, type PluginZipErrorCode } from './errors';
import { publicKeyOf, seedFromPem } from './keys';
import { pluginZipStage } from './plugin-zip';

const REPO_ROOT = resolve(__dirname, '..', '..', '..', '..');
const DEV_KEY = join(REPO_ROOT, 'workspace-fixtures', 'keys', 'DEVELOPMENT-ONLY-plugin-signing-key.pem');
const SDE = 1_700_000_000;

const pem = (key: { export(o: { type: 'pkcs8' | 'spki'; format: 'pem' }): string | Buffer }, type: 'pkcs8' | 'spki' = 'pkcs8') => String(key.export({ type, format: 'pem' }));
/** Keys made for this file: a good Ed25519 one and keys of the wrong kind. */
const ED = generateKeyPairSync('ed25519');
const ED_PEM = pem(ED.privateKey);
const ED_PUBLIC_PEM = pem(ED.publicKey, 'spki');
const EC_PEM = pem(generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey);
const X25519_PEM = pem(generateKeyPairSync('x25519').privateKey);

const PLUGIN_JSON = `${JSON.stringify({ name: 'tiny', version: '1.0.0', entry: 'tiny_plugin:run' })}\n`;
const SOURCE = { 'plugin.json': PLUGIN_JSON, 'tiny_plugin.py': 'def run(args):\n    return 0\n' };

interface Layout {
  /** The plugin folder (the stage's projectRoot). */
  folder: string;
  /** The workspace root of the case. */
  root: string;
}

interface Case {
  name: string;
  /** Files of the plugin folder, relative to it. */
  files: Record<string, string>;
  /** More set-up: symlinks, files outside the folder. */
  setup?: (l: Layout) => Promise<void>;
  plugins?: { requireSigned?: boolean; developmentKeyFile?: string };
  env?: NodeJS.ProcessEnv;
  expect: 'PASS' | PluginZipErrorCode;
  /** The file the error must name (undefined: it names none). */
  file?: (l: Layout) => string | undefined;
  /** Substrings the message must contain. */
  message?: string[];
  /** For a PASS: whether the zip must be signed. */
  signed?: boolean;
}

const withKey: NodeJS.ProcessEnv = { HELIX_PLUGIN_SIGNING_KEY: ED_PEM };
const pluginJson = (l: Layout) => join(l.folder, 'plugin.json');

const cases: Case[] = [
  // Controls: what the stage does package.
  { name: 'a plugin signed with HELIX_PLUGIN_SIGNING_KEY', files: SOURCE, env: withKey, expect: 'PASS', signed: true },
  {
    name: 'a plugin signed with the development key file',
    files: SOURCE,
    setup: async (l) => {
      await mkdir(join(l.root, 'keys'), { recursive: true });
      await copyFile(DEV_KEY, join(l.root, 'keys', 'dev.pem'));
    },
    plugins: { developmentKeyFile: 'keys/dev.pem' },
    expect: 'PASS',
    signed: true,
  },
  { name: 'no key, plugins.requireSigned false: unsigned', files: SOURCE, plugins: { requireSigned: false }, expect: 'PASS', signed: false },
  { name: 'a symlink to a file inside the folder (stored as a copy)', files: SOURCE, setup: (l) => symlink('tiny_plugin.py', join(l.folder, 'alias.py')), env: withKey, expect: 'PASS', signed: true },

  // PLUGIN_METADATA_INVALID
  { name: 'no plugin.json', files: { 'tiny_plugin.py': 'x = 1\n' }, env: withKey, expect: 'PLUGIN_METADATA_INVALID', file: pluginJson, message: ['cannot read plugin.json', 'ENOENT'] },
  { name: 'plugin.json that is not JSON', files: { ...SOURCE, 'plugin.json': '{"name": "tiny",' }, env: withKey, expect: 'PLUGIN_METADATA_INVALID', file: pluginJson, message: ['cannot read plugin.json', 'JSON'] },
  {
    name: 'plugin.json that gives a key twice (packaged as is, so every verifier would refuse it)',
    files: { ...SOURCE, 'plugin.json': '{"name": "../x", "name": "tiny", "version": "1.0.0", "entry": "tiny_plugin:run"}' },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['cannot read plugin.json', 'the key "name" is given twice in one object'],
  },
  {
    name: 'plugin.json without "entry"',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: 'tiny', version: '1.0.0' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['"entry" must be a non-empty string'],
  },
  {
    name: 'plugin.json with a numeric version',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: 'tiny', version: 1, entry: 'tiny_plugin:run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['"version" must be a non-empty string'],
  },
  {
    name: 'plugin.json with an empty name',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: '', version: '1.0.0', entry: 'tiny_plugin:run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['"name" must be a non-empty string'],
  },
  {
    name: 'a name that would lead the zip out of plugins/',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: '../../evil', version: '1.0.0', entry: 'tiny_plugin:run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['name must be 1 to 64 letters, digits, ".", "_" or "-"', 'plugin.json grammar'],
  },
  {
    name: 'a version with a slash',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: 'tiny', version: '1.0/2', entry: 'tiny_plugin:run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['version must be 1 to 64 letters, digits, ".", "_" or "+", starting with a digit'],
  },
  {
    name: 'an entry that is not module:function',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: 'tiny', version: '1.0.0', entry: 'tiny_plugin.run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ["entry must be 'module:function' of ASCII identifiers"],
  },
  {
    name: 'an entry whose module is not in the folder',
    files: { ...SOURCE, 'plugin.json': JSON.stringify({ name: 'tiny', version: '1.0.0', entry: 'tiny.absent:run' }) },
    env: withKey,
    expect: 'PLUGIN_METADATA_INVALID',
    file: pluginJson,
    message: ['entry module tiny/absent.py is not in the plugin'],
  },

  // PLUGIN_SOURCE_UNSAFE
  {
    name: 'a SIGNATURE.ed25519 in the source folder',
    files: { ...SOURCE, 'SIGNATURE.ed25519': 'helix-plugin-signature v1\nkey: forged\n' },
    env: withKey,
    expect: 'PLUGIN_SOURCE_UNSAFE',
    file: (l) => join(l.folder, 'SIGNATURE.ed25519'),
    message: ['SIGNATURE.ed25519 is written by the build; remove it from the source folder'],
  },
  {
    name: 'a symlink leading outside the folder',
    files: SOURCE,
    setup: async (l) => {
      await writeFile(join(l.root, 'secret.txt'), 'not part of the plugin\n');
      await symlink(join(l.root, 'secret.txt'), join(l.folder, 'leak.txt'));
    },
    env: withKey,
    expect: 'PLUGIN_SOURCE_UNSAFE',
    file: (l) => join(l.folder, 'leak.txt'),
    message: ['leads outside', 'replace it with a copy'],
  },
  {
    name: 'a relative symlink climbing out with ..',
    files: SOURCE,
    setup: async (l) => {
      await writeFile(join(l.root, 'plugins', 'shared.py'), 'SHARED = 1\n');
      await mkdir(join(l.folder, 'sub'));
      await symlink('../../shared.py', join(l.folder, 'sub', 'shared.py'));
    },
    env: withKey,
    expect: 'PLUGIN_SOURCE_UNSAFE',
    file: (l) => join(l.folder, 'sub', 'shared.py'),
    message: ['symlink to ../../shared.py leads outside'],
  },
  {
    name: 'a dangling symlink',
    files: SOURCE,
    setup: (l) => symlink('no-such-file.py', join(l.folder, 'gone.py')),
    env: withKey,
    expect: 'PLUGIN_SOURCE_UNSAFE',
    file: (l) => join(l.folder, 'gone.py'),
    message: ['symlink to no-such-file.py is dangling'],
  },
  {
    name: 'two names that differ only in case',
    files: { ...SOURCE, 'README.md': 'upper\n', 'Readme.md': 'mixed\n' },
    env: withKey,
    expect: 'PLUGIN_SOURCE_UNSAFE',
    file: (l) => l.folder,
    message: ['only in case', 'collide on Windows and macOS'],
  },

  // PLUGIN_KEY_INVALID
  {
    name: 'HELIX_PLUGIN_SIGNING_KEY that is not PEM',
    files: SOURCE,
    env: { HELIX_PLUGIN_SIGNING_KEY: 'not a key at all' },
    expect: 'PLUGIN_KEY_INVALID',
    file: () => undefined,
    message: ['HELIX_PLUGIN_SIGNING_KEY is not a PEM private key', 'PKCS#8 Ed25519'],
  },
  {
    name: 'HELIX_PLUGIN_SIGNING_KEY holding the public key',
    files: SOURCE,
    env: { HELIX_PLUGIN_SIGNING_KEY: ED_PUBLIC_PEM },
    expect: 'PLUGIN_KEY_INVALID',
    file: () => undefined,
    message: ['HELIX_PLUGIN_SIGNING_KEY is not a PEM private key'],
  },
  {
    name: 'HELIX_PLUGIN_SIGNING_KEY holding a P-256 key',
    files: SOURCE,
    env: { HELIX_PLUGIN_SIGNING_KEY: EC_PEM },
    expect: 'PLUGIN_KEY_INVALID',
    file: () => undefined,
    message: ['HELIX_PLUGIN_SIGNING_KEY holds a ec key; plugin signing needs Ed25519'],
  },
  {
    name: 'HELIX_PLUGIN_SIGNING_KEY holding an X25519 key',
    files: SOURCE,
    env: { HELIX_PLUGIN_SIGNING_KEY: X25519_PEM },
    expect: 'PLUGIN_KEY_INVALID',
    file: () => undefined,
    message: ['holds a x25519 key'],
  },
  {
    name: 'a development key file that is not a key (named in the message)',
    files: SOURCE,
    setup: async (l) => {
      await mkdir(join(l.root, 'keys'), { recursive: true });
      // A PEM frame around bytes that are no key (the label spelt in parts: secret scanners flag the whole header).
      const label = ['PRIVATE', 'KEY'].join(' ');
      await writeFile(join(l.root, 'keys', 'dev.pem'), `-----BEGIN ${label}-----\nbm90IGEga2V5\n-----END ${label}-----\n`);
    },
    plugins: { developmentKeyFile: 'keys/dev.pem' },
    expect: 'PLUGIN_KEY_INVALID',
    file: () => undefined,
    message: ['keys/dev.pem is not a PEM private key'],
  },

  // PLUGIN_KEY_MISSING
  {
    name: 'no key and plugins.requireSigned (the default)',
    files: SOURCE,
    expect: 'PLUGIN_KEY_MISSING',
    file: () => 'release.config.ts',
    message: ['plugins must be signed (plugins.requireSigned) but HELIX_PLUGIN_SIGNING_KEY is not set'],
  },
  {
    name: 'the development key forbidden by HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS=1',
    files: SOURCE,
    setup: async (l) => {
      await mkdir(join(l.root, 'keys'), { recursive: true });
      await copyFile(DEV_KEY, join(l.root, 'keys', 'dev.pem'));
    },
    plugins: { developmentKeyFile: 'keys/dev.pem', requireSigned: false },
    env: { HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS: '1' },
    expect: 'PLUGIN_KEY_MISSING',
    file: () => undefined,
    message: ['HELIX_PLUGIN_SIGNING_KEY is not set and HELIX_RELEASE_FORBID_DEVELOPMENT_KEYS=1 forbids the development key'],
  },
  {
    name: 'a development key file that is not there',
    files: SOURCE,
    plugins: { developmentKeyFile: 'keys/missing.pem' },
    expect: 'PLUGIN_KEY_MISSING',
    file: (l) => join(l.root, 'keys', 'missing.pem'),
    message: ['cannot read the development plugin key', 'plugins.developmentKeyFile'],
  },
];

let ws = '';
let counter = 0;
beforeAll(async () => {
  ws = await mkdtemp(join(tmpdir(), 'helix-plugin-zip-'));
});
afterAll(async () => {
  if (ws) await rm(ws, { recursive: true, force: true });
});

/** Builds the case's workspace and runs the stage; the outcome is the artifact or the error. */
async function run(c: Case): Promise<{ layout: Layout; ctx: StageContext; outcome: unknown }> {
  const root = join(ws, `case-${++counter}`);
  const layout: Layout = { root, folder: join(root, 'plugins', 'tiny') };
  await mkdir(layout.folder, { recursive: true });
  for (const [rel, text] of Object.entries(c.files)) {
    await mkdir(dirname(join(layout.folder, rel)), { recursive: true });
    await writeFile(join(layout.folder, rel), text);
  }
  await c.setup?.(layout);
  const config = resolveConfig({ apps: { root: 'apps' }, plugins: { root: 'plugins', keyName: 'test-plugins', ...c.plugins } });
  const ctx: StageContext = {
    stage: 'plugin-zip',
    project: 'plugin-tiny',
    workspaceRoot: root,
    projectRoot: layout.folder,
    config,
    releaseDir: join(root, config.releaseDir),
    workDir: join(root, 'dist', 'work', 'plugin-tiny', 'plugin-zip'),
    sourceDateEpoch: { seconds: SDE, origin: 'environment' },
    variant: 'build',
    env: c.env ?? {},
    logger: memoryLogger(),
  };
  const outcome = await pluginZipStage(ctx).catch((err: unknown) => err);
  return { layout, ctx, outcome };
}

describe('pluginZipStage', () => {
  it.each(cases)('$name → $expect', async (c) => {
    const { layout, ctx, outcome } = await run(c);
    const zips = await readdir(join(ctx.releaseDir, 'plugins')).catch(() => [] as string[]);
    if (c.expect === 'PASS') {
      expect(outcome, outcome instanceof Error ? outcome.message : '').not.toBeInstanceOf(Error);
      const artifact = outcome as ReleaseArtifact;
      expect(artifact).toMatchObject({ path: 'plugins/tiny-1.0.0.zip', kind: 'plugin', name: 'tiny', version: '1.0.0' });
      expect(zips).toEqual(['tiny-1.0.0.zip']);
      const zip = await readFile(join(ctx.releaseDir, artifact.path));
      const entries = readZipDirectory(zip, artifact.path);
      const signature = entries.find((e) => e.name === SIGNATURE_ENTRY);
      expect(Boolean(signature)).toBe(c.signed);
      if (signature) {
        const parsed = parseSignatureFile(readZipEntry(zip, signature, artifact.path).toString('utf8'));
        if (typeof parsed === 'string') throw new Error(`SIGNATURE.ed25519 is malformed: ${parsed}`);
        expect(parsed.keyName).toBe('test-plugins');
        const keyPem = ctx.env['HELIX_PLUGIN_SIGNING_KEY'] ?? (await readFile(DEV_KEY, 'utf8'));
        const publicKey = await publicKeyOf(seedFromPem(keyPem, 'the test key'));
        expect(await verifyEd25519(publicKey, parsed.signature, parsed.signed)).toBe(true);
        expect(parsed.manifest.map((l) => l.path)).toEqual(entries.filter((e) => e.name !== SIGNATURE_ENTRY).map((e) => e.name).sort());
      }
      return;
    }
    expect(outcome).toBeInstanceOf(PluginZipError);
    const err = outcome as PluginZipError;
    expect(err.code, err.format()).toBe(c.expect);
    expect(err.file).toBe(c.file!(layout));
    for (const part of c.message ?? []) expect(err.message).toContain(part);
    expect(zips, 'a refused plugin leaves no zip').toEqual([]);
    // Never the key material itself.
    for (const secret of [ED_PEM, EC_PEM, X25519_PEM]) for (const line of secret.split('\n').filter((l) => l.length > 20)) expect(err.format()).not.toContain(line);
  });

  it('covers every error code of the stage', () => {
    const codes = new Set(cases.map((c) => c.expect));
    for (const code of ['PASS', 'PLUGIN_METADATA_INVALID', 'PLUGIN_SOURCE_UNSAFE', 'PLUGIN_KEY_INVALID', 'PLUGIN_KEY_MISSING'] as const) expect(codes).toContain(code);
  });
});
