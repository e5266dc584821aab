/**
 * Stage `plugin-zip`: one plugin folder → `dist/release/plugins/<name>-<version>.zip`,
 * reproducible and signed.
 *
 * Refused, naming the file: a symlink leading outside the folder, a name
 * that is absolute or contains `..`, two names that differ only in case, a
 * source file called SIGNATURE.ed25519, and an invalid plugin.json.
 * Symlinks inside the folder are stored as copies (the format has no links).
 */
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  collectFolderEntries,
  describeReleaseFile,
  isReleaseError,
  sha256File,
  sha256Hex,
  validateZipInputs,
  writeReproducibleZip,
  writeStageRecord,
  type ReleaseArtifact,
  type StageContext,
  type ZipInput,
} from '@helix-release/core';
import { PluginZipError } from './errors';
import { SIGNATURE_ENTRY, checkPluginMetadata, manifestText, parseJsonUnique, signatureFileText } from '@helix-release/format';
import { PLUGIN_KEY_ENV, loadPluginSigningKey, signEd25519, type PluginSigningKey } from './keys';

/** plugin.json as the format requires it. */
export interface PluginMetadata {
  name: string;
  version: string;
  /** `module:function`, e.g. `hello_plugin:run`. */
  entry: string;
  description?: string;
}

/** Files that are build byproducts, never part of a plugin. */
function isByproduct(rel: string): boolean {
  return /(^|\/)__pycache__(\/|$)/.test(rel) || /\.py[co]$/.test(rel) || /(^|\/)\.DS_Store$/.test(rel);
}

/** Reads and checks `<folder>/plugin.json`. */
export async function readPluginMetadata(folder: string): Promise<PluginMetadata> {
  const file = join(folder, 'plugin.json');
  let meta: Record<string, unknown>;
  try {
    // The file is packaged as it is, so a key given twice (which every verifier refuses) is refused here.
    meta = parseJsonUnique(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (cause) {
    throw new PluginZipError('PLUGIN_METADATA_INVALID', `cannot read plugin.json: ${(cause as Error).message}`, { file, cause });
  }
  for (const key of ['name', 'version', 'entry'] as const) {
    if (typeof meta[key] !== 'string' || meta[key] === '') {
      throw new PluginZipError('PLUGIN_METADATA_INVALID', `"${key}" must be a non-empty string`, { file });
    }
  }
  // The grammar every verifier applies: what they would refuse is never packaged.
  const problem = checkPluginMetadata(meta, (entry) => existsSync(join(folder, entry)));
  if (problem) throw new PluginZipError('PLUGIN_METADATA_INVALID', `${problem} (see the plugin.json grammar in packages/plugin-zip/README.md)`, { file });
  const description = meta['description'];
  return {
    ...meta,
    name: meta['name'] as string,
    version: meta['version'] as string,
    entry: meta['entry'] as string,
    ...(typeof description === 'string' ? { description } : {}),
  };
}

/** Builds the zip entries of a plugin folder, checked and (when a key is given) signed. */
export async function pluginEntries(folder: string, key: PluginSigningKey | undefined): Promise<ZipInput[]> {
  let entries: ZipInput[];
  try {
    entries = await collectFolderEntries(folder, { symlinks: 'dereference', exclude: isByproduct });
    validateZipInputs(entries, folder);
  } catch (err) {
    if (isReleaseError(err)) throw new PluginZipError('PLUGIN_SOURCE_UNSAFE', err.message, { file: err.file ?? folder, cause: err });
    throw err;
  }
  if (entries.some((e) => e.name === SIGNATURE_ENTRY)) {
    throw new PluginZipError('PLUGIN_SOURCE_UNSAFE', `${SIGNATURE_ENTRY} is written by the build; remove it from the source folder`, { file: join(folder, SIGNATURE_ENTRY) });
  }
  if (!key) return entries;
  const lines = await Promise.all(
    entries.map(async (e) => ({
      path: e.name,
      sha256: e.kind === 'file' ? await sha256File(e.sourcePath) : e.kind === 'buffer' ? sha256Hex(e.data) : sha256Hex(e.target),
    })),
  );
  const manifest = manifestText(lines);
  const signature = await signEd25519(key.seed, Buffer.from(manifest, 'utf8'));
  const text = signatureFileText(key.name, signature, manifest);
  return [...entries, { name: SIGNATURE_ENTRY, kind: 'buffer', data: Buffer.from(text, 'utf8') }];
}

/** Runs the stage for the plugin folder `ctx.projectRoot`. */
export async function pluginZipStage(ctx: StageContext): Promise<ReleaseArtifact> {
  const meta = await readPluginMetadata(ctx.projectRoot);
  const path = `plugins/${meta.name}-${meta.version}.zip`;
  const out = join(ctx.releaseDir, path);
  await rm(out, { force: true });

  const key = await loadPluginSigningKey(ctx);
  const required = ctx.config.plugins?.requireSigned ?? true;
  if (!key && required) {
    throw new PluginZipError('PLUGIN_KEY_MISSING', `plugins must be signed (plugins.requireSigned) but ${PLUGIN_KEY_ENV} is not set; export the PKCS#8 PEM Ed25519 key into it`, {
      file: ctx.config.file,
    });
  }
  if (!key) {
    ctx.logger.notice(`${path} is packaged UNSIGNED: no ${PLUGIN_KEY_ENV} and plugins.requireSigned is false.\nAn app that requires signed plugins (the Studio with OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=1) will refuse it.`);
  } else if (key.origin === 'development-key-file') {
    ctx.logger.notice(`${path} is signed with the DEVELOPMENT plugin key (${ctx.config.plugins?.developmentKeyFile}).\nEveryone has that key: set ${PLUGIN_KEY_ENV} for a real release.`);
  }
  const entries = await pluginEntries(ctx.projectRoot, key);
  await writeReproducibleZip(out, entries, ctx.sourceDateEpoch.seconds);
  const artifact = await describeReleaseFile(ctx.releaseDir, path, 'plugin', { sbom: true, name: meta.name, version: meta.version });
  await writeStageRecord(ctx.workspaceRoot, {
    stage: 'plugin-zip',
    project: ctx.project,
    artifacts: [artifact],
    data: { signed: Boolean(key), keyName: key?.name, publicKey: key ? Buffer.from(key.publicKey).toString('base64') : undefined },
  });
  ctx.logger.info(`${path}: ${entries.length} entries${key ? `, signed by ${key.name}` : ', unsigned'}, sha256 ${artifact.sha256}`);
  return artifact;
}
