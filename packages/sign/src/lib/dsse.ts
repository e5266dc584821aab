/**
 * DSSE envelopes (`<file>.dsse.json`) beside the OpenPGP signatures, made with
 * the same key: the OpenPGP signing (sub)key's raw material, turned into a
 * Node `crypto` key. Ed25519 and RSASSA-PKCS1-v1_5 over SHA-256 are both
 * deterministic, so re-signing a release gives byte-identical envelopes.
 */
import { createPrivateKey, createPublicKey, sign as cryptoSign, constants, type KeyObject } from 'node:crypto';
import { stableJson } from '@helix-release/core';
import { DSSE_PAYLOAD_TYPE, dssePae, openpgpJwk, sbomStatement, type DsseEnvelope, type DsseScheme, type SbomFormat } from '@helix-release/format';
import { SignError } from './errors';
import type { SigningKey } from './key';

/** The DSSE half of a signing key. */
export interface DsseKey {
  /** The signing (sub)key's fingerprint, lower-case hex: the envelopes' keyid. */
  keyid: string;
  scheme: DsseScheme;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The signing (sub)key's material as Node keys; SIGN_KEY_UNUSABLE when it is neither Ed25519 nor RSA. */
export function dsseKeyOf(key: SigningKey): DsseKey {
  const sub = key.signingSubkey;
  const { algorithm, curve } = sub.getAlgorithmInfo() as { algorithm: string; curve?: string };
  // OpenPGP.js types the params as `object`: openpgpJwk checks each value it reads.
  const publicParams: Record<string, unknown> = { ...sub.keyPacket.publicParams };
  const secret = 'privateParams' in sub.keyPacket ? (sub.keyPacket.privateParams as object | null) : null;
  const made = openpgpJwk(algorithm, curve, publicParams, secret ? { ...secret } : undefined);
  if (typeof made === 'string' || !secret) {
    throw new SignError('SIGN_KEY_UNUSABLE', `the key ${key.fingerprint} cannot sign DSSE envelopes: ${typeof made === 'string' ? made : 'its secret material is not decrypted'}`);
  }
  try {
    const privateKey = createPrivateKey({ key: made.jwk, format: 'jwk' });
    return { keyid: sub.getFingerprint().toLowerCase(), scheme: made.scheme, privateKey, publicKey: createPublicKey(privateKey) };
  } catch (err) {
    // Never quote the key: only what Node says about it.
    throw new SignError('SIGN_KEY_UNUSABLE', `the key ${key.fingerprint} cannot sign DSSE envelopes: ${(err as Error).message}`);
  }
}

/** The signature of `data` in the key's scheme. */
function signBytes(key: DsseKey, data: Uint8Array): Buffer {
  return key.scheme === 'ed25519' ? cryptoSign(null, data, key.privateKey) : cryptoSign('sha256', data, { key: key.privateKey, padding: constants.RSA_PKCS1_PADDING });
}

/** The envelope JSON (stableJson: sorted keys, so the same payload gives the same bytes) of an in-toto payload. */
export function dsseEnvelope(key: DsseKey, payload: Uint8Array): string {
  const envelope: DsseEnvelope = {
    payload: Buffer.from(payload).toString('base64'),
    payloadType: DSSE_PAYLOAD_TYPE,
    signatures: [{ keyid: key.keyid, sig: signBytes(key, dssePae(DSSE_PAYLOAD_TYPE, payload)).toString('base64') }],
  };
  return stableJson(envelope);
}

/** The payload of an SBOM's envelope: the Statement (sbomStatement) about `artifact`, for the SBOM's format, as stableJson bytes. */
export function sbomStatementPayload(artifact: { path: string; sha256: string }, sbom: unknown, format: SbomFormat = 'spdx'): Buffer {
  return Buffer.from(stableJson(sbomStatement(artifact, sbom, format)), 'utf8');
}

/** `release-signing-public-key.pem`: the signing (sub)key as SubjectPublicKeyInfo PEM. */
export function publicKeyPem(key: DsseKey): string {
  return key.publicKey.export({ type: 'spki', format: 'pem' }).toString();
}
