/**
 * Trust stores: named Ed25519 public keys that plugins may be signed with.
 * Format (documented in packages/plugin-zip/README.md):
 *
 *   { "schema": "helix-trust-store/v1",
 *     "keys": [ { "name": "...", "ed25519": "<base64 of the raw 32-byte key>", "comment": "..." } ] }
 */
import { readFile } from 'node:fs/promises';
import { ReleaseError, decodeBase64 } from '@helix-release/format';

/** Keys by name. */
export type TrustStore = Map<string, Uint8Array>;

/** Parses trust-store JSON text; `file` names it in errors. */
export function parseTrustStore(text: string, file: string): TrustStore {
  let data: { schema?: unknown; keys?: unknown };
  try {
    data = JSON.parse(text) as typeof data;
  } catch (cause) {
    throw new ReleaseError('TRUST_STORE_INVALID', `not JSON: ${(cause as Error).message}`, { file, cause });
  }
  if (data?.schema !== 'helix-trust-store/v1') {
    throw new ReleaseError('TRUST_STORE_INVALID', 'not a trust store (expected "schema": "helix-trust-store/v1")', { file });
  }
  const store: TrustStore = new Map();
  const keys = Array.isArray(data.keys) ? data.keys : [];
  keys.forEach((item: { name?: unknown; ed25519?: unknown }, index: number) => {
    if (typeof item?.name !== 'string' || typeof item?.ed25519 !== 'string') {
      throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] needs string fields name and ed25519`, { file });
    }
    const raw = decodeBase64(item.ed25519);
    if (!raw) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] (${item.name}): ed25519 is not base64`, { file });
    if (raw.length !== 32) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}] (${item.name}): ed25519 key must be 32 bytes, got ${raw.length}`, { file });
    if (store.has(item.name)) throw new ReleaseError('TRUST_STORE_INVALID', `keys[${index}]: duplicate key name ${JSON.stringify(item.name)}`, { file });
    store.set(item.name, new Uint8Array(raw));
  });
  return store;
}

/** Reads a trust store file. */
export async function loadTrustStore(file: string): Promise<TrustStore> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new ReleaseError('TRUST_STORE_INVALID', 'cannot read the trust store', { file, cause });
  }
  return parseTrustStore(text, file);
}
