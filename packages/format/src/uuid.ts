/** Name-based UUIDs (RFC 9562 version 5), for identifiers that must not vary between builds. */
import { createHash } from 'node:crypto';

/** The namespace of helix-release's own UUIDv5s: uuidv5(DNS namespace, "helix-release.invalid"). */
export const HELIX_UUID_NAMESPACE = '78532c39-8439-5dc7-a4d7-9434eb53091b';

/** UUIDv5 of `name` in `namespace`. */
export function uuidV5(name: string, namespace: string = HELIX_UUID_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  if (ns.length !== 16) throw new TypeError(`not a UUID: ${namespace}`);
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
