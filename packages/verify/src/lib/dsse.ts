/**
 * The DSSE half of the release key: the pinned OpenPGP key's signing (sub)keys
 * as Node keys, to check the `<file>.dsse.json` envelopes and
 * `release-signing-public-key.pem` (as dsse_signers in
 * tools/verify_release_signatures.py).
 */
import { createPublicKey, verify as cryptoVerify, constants, type KeyObject } from 'node:crypto';
import * as openpgp from 'openpgp';
import { decodeBase64, openpgpJwk, type DsseScheme } from '@helix-release/format';

/** One signing (sub)key of the release key. */
export interface DsseSigner {
  /** Its fingerprint, lower-case hex (an envelope's keyid). */
  keyid: string;
  scheme: DsseScheme;
  publicKey: KeyObject;
  /** SubjectPublicKeyInfo DER, to compare with the PEM export. */
  spki: Buffer;
}

/**
 * Every (sub)key of `key` that can sign (time aside: each signature of the
 * release is judged as of when it was made, and a DSSE signature states no
 * time) and is Ed25519 or RSA, by keyid.
 */
export async function dsseSigners(key: openpgp.Key): Promise<Map<string, DsseSigner>> {
  const out = new Map<string, DsseSigner>();
  for (const k of [key, ...key.getSubkeys()]) {
    const signs = await key.getSigningKey(k.getKeyID(), null).then(
      (s) => s.getFingerprint() === k.getFingerprint(),
      () => false,
    );
    if (!signs) continue;
    const { algorithm, curve } = k.getAlgorithmInfo() as { algorithm: string; curve?: string };
    const made = openpgpJwk(algorithm, curve, { ...k.keyPacket.publicParams });
    if (typeof made === 'string') continue;
    try {
      const publicKey = createPublicKey({ key: made.jwk, format: 'jwk' });
      out.set(k.getFingerprint().toLowerCase(), { keyid: k.getFingerprint().toLowerCase(), scheme: made.scheme, publicKey, spki: publicKey.export({ type: 'spki', format: 'der' }) });
    } catch {
      /* not a key Node can use: no envelope can be checked with it */
    }
  }
  return out;
}

/** True when `sig` is `signer`'s signature of `data`. */
export function dsseSignatureValid(signer: DsseSigner, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    return signer.scheme === 'ed25519' ? cryptoVerify(null, data, signer.publicKey, sig) : cryptoVerify('sha256', data, { key: signer.publicKey, padding: constants.RSA_PKCS1_PADDING }, sig);
  } catch {
    return false;
  }
}

const PEM = /^-----BEGIN PUBLIC KEY-----\n((?:[A-Za-z0-9+/=]{1,64}\n)+)-----END PUBLIC KEY-----\n$/;

/** The DER of a PEM `PUBLIC KEY` block (LF line endings, lines of at most 64 base64 digits), or undefined when `text` is not exactly one. */
export function pemDer(text: string): Buffer | undefined {
  const m = PEM.exec(text);
  if (!m) return undefined;
  return decodeBase64(m[1]!.replace(/\n/g, ''), { canonical: true }) || undefined;
}
