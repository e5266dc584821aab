/**
 * The plugin signing key: an Ed25519 private key in PKCS#8 PEM
 * (`openssl genpkey -algorithm ed25519`), from HELIX_PLUGIN_SIGNING_KEY, or
 * for development from the file named in release.config.ts. Nothing here ever
 * prints key material.
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FORBID_DEVELOPMENT_KEYS_ENV, type StageContext } from '@helix-release/core';
import { PluginZipError } from './errors';
import * as ed from '@noble/ed25519';

/** The environment variable holding the plugin signing key (PKCS#8 PEM text). */
export const PLUGIN_KEY_ENV = 'HELIX_PLUGIN_SIGNING_KEY';
/** Optional override of the key name written into SIGNATURE.ed25519. */
export const PLUGIN_KEY_NAME_ENV = 'HELIX_PLUGIN_SIGNING_KEY_NAME';

/** A loaded signing key. */
export interface PluginSigningKey {
  name: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
  /** Where it came from, for the log (never the key itself). */
  origin: 'environment' | 'development-key-file';
}

/** Parses a PKCS#8 PEM Ed25519 private key into its 32-byte seed. */
export function seedFromPem(pem: string, where: string): Uint8Array {
  let jwk;
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'ed25519') {
      throw new PluginZipError('PLUGIN_KEY_INVALID', `${where} holds a ${key.asymmetricKeyType} key; plugin signing needs Ed25519 (openssl genpkey -algorithm ed25519)`);
    }
    jwk = key.export({ format: 'jwk' });
  } catch (err) {
    if (err instanceof PluginZipError) throw err;
    throw new PluginZipError('PLUGIN_KEY_INVALID', `${where} is not a PEM private key (expected a PKCS#8 Ed25519 "PRIVATE KEY" PEM block, as openssl genpkey -algorithm ed25519 writes)`);
  }
  const seed = Buffer.from(String(jwk.d), 'base64url');
  if (seed.length !== 32) throw new PluginZipError('PLUGIN_KEY_INVALID', `${where}: unexpected Ed25519 key length`);
  return new Uint8Array(seed);
}

/** Loads the signing key per the config, or returns undefined when there is none. */
export async function loadPluginSigningKey(ctx: Pick<StageContext, 'env' | 'config' | 'workspaceRoot'>): Promise<PluginSigningKey | undefined> {
  const plugins = ctx.config.plugins;
  const name = ctx.env[PLUGIN_KEY_NAME_ENV] || plugins?.keyName || 'release-plugins';
  const fromEnv = ctx.env[PLUGIN_KEY_ENV];
  if (fromEnv) {
    const seed = seedFromPem(fromEnv, PLUGIN_KEY_ENV);
    return { name, seed, publicKey: await publicKeyOf(seed), origin: 'environment' };
  }
  if (plugins?.developmentKeyFile) {
    if (ctx.env[FORBID_DEVELOPMENT_KEYS_ENV] === '1') {
      throw new PluginZipError('PLUGIN_KEY_MISSING', `${PLUGIN_KEY_ENV} is not set and ${FORBID_DEVELOPMENT_KEYS_ENV}=1 forbids the development key; pass the real key`);
    }
    const file = join(ctx.workspaceRoot, plugins.developmentKeyFile);
    let pem: string;
    try {
      pem = await readFile(file, 'utf8');
    } catch (cause) {
      throw new PluginZipError('PLUGIN_KEY_MISSING', `cannot read the development plugin key; set ${PLUGIN_KEY_ENV} or fix plugins.developmentKeyFile`, { file, cause });
    }
    const seed = seedFromPem(pem, plugins.developmentKeyFile);
    return { name, seed, publicKey: await publicKeyOf(seed), origin: 'development-key-file' };
  }
  return undefined;
}

/** Ed25519 signature of `message` with a 32-byte private seed. */
export async function signEd25519(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  return ed.signAsync(message, seed);
}

/** The public key of a 32-byte seed. */
export async function publicKeyOf(seed: Uint8Array): Promise<Uint8Array> {
  return ed.getPublicKeyAsync(seed);
}
