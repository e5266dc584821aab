/**
 * The release signing key: armoured OpenPGP v4 private key from
 * GPG_PRIVATE_KEY, its passphrase from GPG_PASSPHRASE, and the expected
 * fingerprint from GPG_PUBLIC_KEY_FINGERPRINT; for development, the key files
 * named in release.config.ts. Every failure is a clear error that never
 * quotes the key or the passphrase.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as openpgp from 'openpgp';
import { FORBID_DEVELOPMENT_KEYS_ENV, type StageContext } from '@helix-release/core';
import { SignError } from './errors';

/** Environment variables of the signing key (the names come from the source document). */
export const KEY_ENV = { key: 'GPG_PRIVATE_KEY', passphrase: 'GPG_PASSPHRASE', fingerprint: 'GPG_PUBLIC_KEY_FINGERPRINT' } as const;

/** A decrypted signing key, ready to sign. */
export interface SigningKey {
  key: openpgp.PrivateKey;
  /** Uppercase hex fingerprint of the primary key. */
  fingerprint: string;
  /** Creation time of the (sub)key that signs. */
  signingKeyCreated: Date;
  /** The (sub)key that signs: its raw material also signs the DSSE envelopes. */
  signingSubkey: openpgp.PrivateKey | openpgp.Subkey;
  origin: 'environment' | 'development-key';
}

/** Raw key material and where it came from. */
export interface KeySource {
  armoredKey: string;
  passphrase: string | undefined;
  expectedFingerprint: string | undefined;
  origin: SigningKey['origin'];
  /** For error messages: the variable or file the key came from. */
  where: string;
}

/** Finds the key source per the environment and config; undefined when there is none. */
export async function findKeySource(ctx: Pick<StageContext, 'env' | 'config' | 'workspaceRoot'>): Promise<KeySource | undefined> {
  const armoredKey = ctx.env[KEY_ENV.key];
  if (armoredKey) {
    return {
      armoredKey,
      passphrase: ctx.env[KEY_ENV.passphrase] || undefined,
      expectedFingerprint: ctx.env[KEY_ENV.fingerprint] || undefined,
      origin: 'environment',
      where: KEY_ENV.key,
    };
  }
  const dev = ctx.config.sign.developmentKey;
  if (!dev) return undefined;
  if (ctx.env[FORBID_DEVELOPMENT_KEYS_ENV] === '1') return undefined;
  const read = async (file: string) => {
    try {
      return await readFile(join(ctx.workspaceRoot, file), 'utf8');
    } catch (cause) {
      throw new SignError('SIGN_KEY_MALFORMED', 'cannot read the development signing key file', { file, cause });
    }
  };
  return {
    armoredKey: await read(dev.privateKeyFile),
    passphrase: (await read(dev.passphraseFile)).replace(/\r?\n$/, ''),
    expectedFingerprint: dev.fingerprint,
    origin: 'development-key',
    where: dev.privateKeyFile,
  };
}

function normaliseFingerprint(value: string): string {
  return value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
}

/**
 * Reads, checks and decrypts the key. `date` is when it will sign: the key
 * must be valid (not expired, not revoked) then.
 */
export async function loadSigningKey(source: KeySource, signingSeconds: number): Promise<SigningKey> {
  let parsed: openpgp.Key;
  try {
    parsed = await openpgp.readKey({ armoredKey: source.armoredKey });
  } catch {
    throw new SignError('SIGN_KEY_MALFORMED', `${source.where} is not an armoured OpenPGP key (expected an armoured "PGP PRIVATE KEY BLOCK", e.g. from gpg --armor --export-secret-keys)`);
  }
  const fingerprint = parsed.getFingerprint().toUpperCase();
  if (!parsed.isPrivate()) {
    throw new SignError('SIGN_KEY_NOT_PRIVATE', `${source.where} holds a public key (${fingerprint}); signing needs the private key (gpg --armor --export-secret-keys ${fingerprint})`);
  }
  if (!source.expectedFingerprint) {
    throw new SignError('SIGN_FINGERPRINT_MISSING', `${KEY_ENV.fingerprint} is not set; set it to the fingerprint you expect (the key in ${source.where} is ${fingerprint}), so a swapped key cannot sign`);
  }
  const expected = normaliseFingerprint(source.expectedFingerprint);
  if (expected !== fingerprint) {
    throw new SignError('SIGN_FINGERPRINT_MISMATCH', `${KEY_ENV.fingerprint} is ${expected} but the key in ${source.where} is ${fingerprint}; nothing was signed`);
  }
  const at = new Date(signingSeconds * 1000);
  if (await parsed.isRevoked(undefined, undefined, at)) {
    throw new SignError('SIGN_KEY_REVOKED', `the key ${fingerprint} is revoked; sign with another key`);
  }
  const expires = await parsed.getExpirationTime();
  if (expires instanceof Date && expires.getTime() <= Math.max(at.getTime(), parsed.getCreationTime().getTime())) {
    throw new SignError('SIGN_KEY_EXPIRED', `the key ${fingerprint} expired on ${expires.toISOString()}; extend it (gpg --quick-set-expire) or use another key`);
  }
  // Valid at the release's clock is not enough: gpg, sqv and our verifiers judge the key as of the
  // day they run, so a key expired or revoked by now would give a release nobody can verify.
  const now = new Date();
  if (expires instanceof Date && expires.getTime() <= now.getTime()) {
    throw new SignError(
      'SIGN_KEY_EXPIRED',
      `the key ${fingerprint} was valid at the release's clock (${at.toISOString()}) but expired on ${expires.toISOString()}, and verifiers check it as of today; extend it (gpg --quick-set-expire ${fingerprint} 2y, then export it again) or use another key`,
    );
  }
  if (await parsed.isRevoked(undefined, undefined, now)) {
    throw new SignError('SIGN_KEY_REVOKED', `the key ${fingerprint} has been revoked since the release's clock (${at.toISOString()}); sign with another key`);
  }
  let key = parsed as openpgp.PrivateKey;
  if (!key.isDecrypted()) {
    if (source.passphrase === undefined) {
      throw new SignError('SIGN_BAD_PASSPHRASE', `the key ${fingerprint} is protected by a passphrase but ${KEY_ENV.passphrase} is not set`);
    }
    try {
      key = await openpgp.decryptKey({ privateKey: key, passphrase: source.passphrase });
    } catch {
      throw new SignError('SIGN_BAD_PASSPHRASE', `${KEY_ENV.passphrase} does not unlock the key ${fingerprint}`);
    }
  }
  // The signature date is SOURCE_DATE_EPOCH, but never before the signing
  // (sub)key existed: an OpenPGP signature older than its key is invalid.
  let signingKey;
  try {
    signingKey = await key.getSigningKey(undefined, new Date(Math.max(at.getTime(), key.getCreationTime().getTime())));
    // The signing subkey must still be valid today too (see above).
    await key.getSigningKey(signingKey.getKeyID(), now);
  } catch (err) {
    const why = (err as Error).message;
    if (/expired/i.test(why)) throw new SignError('SIGN_KEY_EXPIRED', `the key ${fingerprint} has no signing key valid at the release date (${why})`);
    if (/revoked/i.test(why)) throw new SignError('SIGN_KEY_REVOKED', `the key ${fingerprint} has no unrevoked signing key (${why})`);
    throw new SignError('SIGN_KEY_UNUSABLE', `the key ${fingerprint} cannot sign: ${why}`);
  }
  return { key, fingerprint, signingKeyCreated: signingKey.getCreationTime(), signingSubkey: signingKey as openpgp.PrivateKey | openpgp.Subkey, origin: source.origin };
}
