/**
 * DSSE envelopes (https://github.com/secure-systems-lab/dsse, v1.0), as the
 * sign stage writes them beside the OpenPGP signatures: `<file>.dsse.json`
 * for the provenance, the conformance results and every SBOM, signed with the
 * same key as the `.asc` files (its signing (sub)key's raw Ed25519 or RSA
 * material), so that cosign and in-toto/DSSE libraries can read the release's
 * attestations. The rules both verifiers apply are in docs/release-format.md.
 */
import type { JsonWebKey } from 'node:crypto';
import { STATEMENT_TYPE } from './statements';
import { RELEASE_FILES, DSSE_SUFFIX, type SbomFormat } from './files';
import { compareBytes, decodeBase64, parseJsonUnique } from './bytes';

/** The payloadType of every envelope of the release: an in-toto Statement. */
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** predicateType of the Statement an SPDX SBOM's envelope carries (the SBOM itself is its predicate). */
export const SPDX_DOCUMENT_V23 = 'https://spdx.dev/Document/v2.3';

/** predicateType of the Statement a CycloneDX SBOM's envelope carries (in-toto's predicate type for CycloneDX BOMs). */
export const CYCLONEDX_BOM = 'https://cyclonedx.org/bom';

/** The predicateType of an SBOM envelope's Statement, by the SBOM's format. */
export const SBOM_PREDICATE_TYPES: Readonly<Record<SbomFormat, string>> = { spdx: SPDX_DOCUMENT_V23, cyclonedx: CYCLONEDX_BOM };

/** A DSSE envelope as the release publishes it: one signature, standard base64. */
export interface DsseEnvelope {
  payload: string;
  payloadType: string;
  signatures: { keyid: string; sig: string }[];
}

/** An SBOM's file name, SPDX or CycloneDX, any character between the ends (as SBOM_RE, re.S, in the Python tools). */
const SBOM_NAME = /^SBOM-[\s\S]*\.(?:spdx|cdx)\.json$/;

/** What the envelope of `path` attests, by the file's role; undefined for a file the release has no envelope of. */
export function dsseTargetKind(path: string): 'provenance' | 'conformance' | 'sbom' | undefined {
  if (path === RELEASE_FILES.provenance) return 'provenance';
  if (path === RELEASE_FILES.conformanceResults) return 'conformance';
  if (SBOM_NAME.test(path.split('/').pop()!)) return 'sbom';
  return undefined;
}

/**
 * The files of a release (`present`) that must have an envelope, sorted by
 * UTF-8 bytes: the provenance (present or not), the conformance results when
 * present, every SBOM at the top of the folder.
 */
export function dsseRequiredFiles(present: readonly string[]): string[] {
  const required = new Set<string>([RELEASE_FILES.provenance]);
  for (const f of present) if (f === RELEASE_FILES.conformanceResults || (!f.includes('/') && SBOM_NAME.test(f))) required.add(f);
  return [...required].sort(compareBytes);
}

/** The envelope file of `path`. */
export function dsseName(path: string): string {
  return `${path}${DSSE_SUFFIX}`;
}

/**
 * DSSE's pre-authentication encoding, the bytes that are signed:
 * `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`, lengths in ASCII
 * decimal of byte lengths.
 */
export function dssePae(payloadType: string, payload: Uint8Array): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `, 'ascii'), type, Buffer.from(` ${payload.length} `, 'ascii'), payload]);
}

/**
 * The in-toto Statement v1 an SBOM's envelope carries: its subject is the
 * artifact the SBOM describes (name and sha256 as in SHA256SUMS.txt), its
 * predicate the SBOM document itself, its predicateType that of the SBOM's
 * format (SBOM_PREDICATE_TYPES).
 */
export function sbomStatement(artifact: { path: string; sha256: string }, sbom: unknown, format: SbomFormat = 'spdx'): Record<string, unknown> {
  return { _type: STATEMENT_TYPE, subject: [{ name: artifact.path, digest: { sha256: artifact.sha256 } }], predicateType: SBOM_PREDICATE_TYPES[format], predicate: sbom };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const sameKeys = (v: Record<string, unknown>, keys: string[]) => Object.keys(v).sort().join(',') === [...keys].sort().join(',');

/**
 * The envelope of `text` and its decoded payload and signature, or why it is
 * not one of the release's (as parse_envelope in tools/verify_release_signatures.py):
 * JSON with every key once, exactly `payload`, `payloadType` and `signatures`,
 * one signature of exactly `keyid` and `sig`, canonical standard base64.
 */
export function parseDsseEnvelope(text: string): { envelope: DsseEnvelope; payload: Buffer; sig: Buffer } | string {
  let value: unknown;
  try {
    value = parseJsonUnique(text);
  } catch (err) {
    return `not JSON: ${(err as Error).message}`;
  }
  if (!isObject(value) || !sameKeys(value, ['payload', 'payloadType', 'signatures'])) return 'not a DSSE envelope: an object of exactly payload, payloadType and signatures';
  if (typeof value['payload'] !== 'string' || typeof value['payloadType'] !== 'string') return 'payload and payloadType must be strings';
  const payload = decodeBase64(value['payload'], { canonical: true });
  if (!payload) return 'payload is not canonical base64';
  const sigs = value['signatures'];
  if (!Array.isArray(sigs) || sigs.length !== 1) return 'signatures must hold exactly one signature';
  const one: unknown = sigs[0];
  if (!isObject(one) || !sameKeys(one, ['keyid', 'sig']) || typeof one['keyid'] !== 'string' || typeof one['sig'] !== 'string') return 'the signature must be an object of exactly keyid and sig, both strings';
  const sig = decodeBase64(one['sig'], { canonical: true });
  if (!sig || sig.length === 0) return 'sig is not canonical base64';
  const envelope: DsseEnvelope = { payload: value['payload'], payloadType: value['payloadType'], signatures: [{ keyid: one['keyid'], sig: one['sig'] }] };
  return { envelope, payload, sig };
}

const b64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');
const toBig = (bytes: Uint8Array) => (bytes.length ? BigInt(`0x${Buffer.from(bytes).toString('hex')}`) : 0n);
const fromBig = (n: bigint) => {
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
};
function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a % m, m, 1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  return ((s0 % m) + m) % m;
}
/** 32 bytes, left-padded: an OpenPGP MPI drops leading zero bytes. */
const pad32 = (bytes: Uint8Array) => Buffer.concat([Buffer.alloc(Math.max(0, 32 - bytes.length)), Buffer.from(bytes)]);

/** Which DSSE signature scheme a key makes: Ed25519, or RSASSA-PKCS1-v1_5 with SHA-256. */
export type DsseScheme = 'ed25519' | 'rsa-pkcs1v15-sha256';

/**
 * The JSON Web Key of an OpenPGP key's material, as OpenPGP.js holds it
 * (`keyPacket.publicParams` / `privateParams`; `algorithm` and `curve` from
 * `getAlgorithmInfo()`): the public half, or the private one with `priv`.
 * EdDSA legacy over Ed25519 (algorithm 22) and Ed25519 (27) become an OKP
 * key; RSA (1, 3) becomes an RSA key, whose CRT values JWK needs computed
 * (OpenPGP keeps p < q and u = p⁻¹ mod q; JWK wants qi = q⁻¹ mod p).
 * A string says why the key cannot sign a DSSE envelope.
 */
export function openpgpJwk(algorithm: string, curve: string | undefined, pub: Record<string, unknown>, priv?: Record<string, unknown>): { jwk: JsonWebKey; scheme: DsseScheme } | string {
  const bytes = (v: unknown) => (v instanceof Uint8Array ? v : undefined);
  if ((algorithm === 'eddsaLegacy' && curve === 'ed25519Legacy') || algorithm === 'ed25519') {
    const q = bytes(pub['Q']) ?? bytes(pub['A']);
    const x = algorithm === 'ed25519' ? q : q && q.length === 33 && q[0] === 0x40 ? q.subarray(1) : undefined;
    if (!x || x.length !== 32) return 'its Ed25519 public point is not 32 bytes';
    const jwk: JsonWebKey = { kty: 'OKP', crv: 'Ed25519', x: b64url(x) };
    if (priv) {
      const seed = bytes(priv['seed']);
      if (!seed || seed.length > 32) return 'its Ed25519 secret is missing';
      jwk.d = b64url(pad32(seed));
    }
    return { jwk, scheme: 'ed25519' };
  }
  if (algorithm === 'rsaEncryptSign' || algorithm === 'rsaSign') {
    const n = bytes(pub['n']);
    const e = bytes(pub['e']);
    if (!n || !e) return 'its RSA modulus or exponent is missing';
    const jwk: JsonWebKey = { kty: 'RSA', n: b64url(fromBig(toBig(n))), e: b64url(fromBig(toBig(e))) };
    if (priv) {
      const [d, p, q] = [bytes(priv['d']), bytes(priv['p']), bytes(priv['q'])].map((v) => (v ? toBig(v) : 0n)) as [bigint, bigint, bigint];
      if (!d || !p || !q) return 'its RSA secret is missing';
      Object.assign(jwk, {
        d: b64url(fromBig(d)),
        p: b64url(fromBig(p)),
        q: b64url(fromBig(q)),
        dp: b64url(fromBig(d % (p - 1n))),
        dq: b64url(fromBig(d % (q - 1n))),
        qi: b64url(fromBig(modInverse(q, p))),
      });
    }
    return { jwk, scheme: 'rsa-pkcs1v15-sha256' };
  }
  return `a ${algorithm}${curve ? ` (${curve})` : ''} key; DSSE envelopes are made with Ed25519 or RSA keys only`;
}
