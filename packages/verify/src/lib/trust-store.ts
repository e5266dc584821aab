/**
 * Trust stores: named Ed25519 public keys that plugins may be signed with.
 * Format (documented in packages/plugin-zip/README.md):
 *
 *   { "schema": "helix-trust-store/v1",
 *     "keys": [ { "name": "...", "ed25519": "<base64 of the raw 32-byte key>", "comment": "..." } ] }
 */
import { readFile, stat } from 'node:fs/promises';
import { Point } from '@noble/ed25519';
import { ReleaseError, decodeBase64, parseJsonUnique } from '@helix-release/format';

/** A trust store is read whole, up to this size. */
const MAX_TRUST_STORE_BYTES = 16 * 1024 * 1024;

/** Keys by name. */
export type TrustStore = Map<string, Uint8Array>;

/** Parses trust-store JSON text; `file` names it in errors. */
export function parseTrustStore(text: string, file: string): TrustStore {
  let data: { schema?: unknown; keys?: unknown };
  try {
    data = parseJsonUnique(text) as typeof data;
  } catch (cause) {
    throw new ReleaseError('TRUST_STORE_INVALID', `not JSON: ${(cause as Error).message}`, { file, cause });
  }
  if (data?.schema !== 'helix-trust-store/v1') {
    throw new ReleaseError('TRUST_STORE_INVALID', 'not a trust store (expected "schema": "helix-trust-store/v1")', { file });
  }
  if (data.keys !== undefined && !Array.isArray(data.keys)) throw new ReleaseError('TRUST_STORE_INVALID', 'keys must be an array', { file });
  const store: TrustStore = new Map();
  const keys = (data.keys ?? []) as { name?: unknown; ed25519?: unknown }[];
  keys.forEach((item: { name?: unknown; ed25519?: unknown }, index: number) => {
    if (typeof item?.name !== 'string' || typeof item?.ed25519 !== 'string') {
      throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] needs string fields name and ed25519`, { file });
    }
    const raw = decodeBase64(item.ed25519);
    if (!raw) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] (${item.name}): ed25519 is not base64`, { file });
    if (raw.length !== 32) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] (${item.name}): ed25519 key must be 32 bytes, got ${raw.length}`, { file });
    const fault = publicKeyFault(raw);
    if (fault) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] (${item.name}): ed25519 key is ${fault}; remove it and ask its owner for their real public key`, { file });
    if (store.has(item.name)) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}]: duplicate key name ${JSON.stringify(item.name)}`, { file });
    store.set(item.name, new Uint8Array(raw));
  });
  return store;
}

/**
 * Why a raw Ed25519 public key must not be trusted, or undefined. Refused: an
 * encoding that is not the canonical one of a curve point (y >= p, or x = 0
 * with the sign bit set), a point of small order (the identity and the other
 * seven: with such a key a signature made with no private key verifies for
 * any content), and a point with a small-order component (no key pair makes
 * one; verifiers with and without the cofactor disagree on its signatures).
 * The Studio's plugin_zip.py and tools/verify_release_signatures.py refuse the same.
 */
export function publicKeyFault(raw: Uint8Array): string | undefined {
  let point: Point;
  try {
    point = Point.fromBytes(raw);
  } catch {
    return 'not the canonical encoding of a curve point';
  }
  if (point.isSmallOrder()) return 'a point of small order (a degenerate key: a signature made without any private key would verify)';
  if (!point.isTorsionFree()) return 'not in the prime-order subgroup (it has a small-order component; no key pair makes one)';
  return undefined;
}

/** Reads a trust store file. */
export async function loadTrustStore(file: string): Promise<TrustStore> {
  let text: string;
  try {
    // A regular file of at most 16 MiB, read whole as UTF-8, as the Python verifiers read it (a byte-order mark is not JSON).
    const info = await stat(file);
    if (!info.isFile()) throw new ReleaseError('TRUST_STORE_INVALID', 'not a regular file', { file });
    if (info.size > MAX_TRUST_STORE_BYTES) throw new ReleaseError('TRUST_STORE_INVALID', `larger than ${MAX_TRUST_STORE_BYTES / (1024 * 1024)} MiB`, { file });
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(await readFile(file));
  } catch (cause) {
    if (cause instanceof ReleaseError) throw cause;
    if (cause instanceof TypeError) throw new ReleaseError('TRUST_STORE_INVALID', 'not UTF-8', { file });
    throw new ReleaseError('TRUST_STORE_INVALID', 'cannot read the trust store', { file, cause });
  }
  return parseTrustStore(text, file);
}
