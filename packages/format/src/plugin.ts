/**
 * The helix plugin format (specified in packages/plugin-zip/README.md):
 *
 *   SIGNATURE.ed25519 =
 *     "helix-plugin-signature v1\n"
 *     "key: <key name>\n"
 *     "ed25519: <base64 of the 64-byte signature>\n"
 *     "\n"
 *     <signed manifest>
 *
 *   signed manifest =
 *     "helix-plugin-manifest v1\n"
 *     one "<sha256 hex>  <entry name>\n" per other entry, sorted by the UTF-8
 *     bytes of the name
 *
 * The signature is plain Ed25519 (RFC 8032) over the bytes of the signed
 * manifest, so `openssl pkeyutl -verify -rawin` checks it.
 */
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { compareBytes, decodeBase64 } from './bytes';

/** Name of the signature entry inside a plugin zip. */
export const SIGNATURE_ENTRY = 'SIGNATURE.ed25519';
/** First line of SIGNATURE.ed25519. */
export const SIGNATURE_HEADER = 'helix-plugin-signature v1';
/** First line of the signed manifest. */
export const MANIFEST_HEADER = 'helix-plugin-manifest v1';

/** One manifest line. */
export interface ManifestLine {
  path: string;
  sha256: string;
}

/** The signed manifest text for a set of entries (sorted here). */
export function manifestText(lines: readonly ManifestLine[]): string {
  const sorted = [...lines].sort((a, b) => compareBytes(a.path, b.path));
  return `${MANIFEST_HEADER}\n${sorted.map((l) => `${l.sha256}  ${l.path}\n`).join('')}`;
}

/** The whole SIGNATURE.ed25519 text. */
export function signatureFileText(keyName: string, signature: Uint8Array, manifest: string): string {
  return `${SIGNATURE_HEADER}\nkey: ${keyName}\ned25519: ${Buffer.from(signature).toString('base64')}\n\n${manifest}`;
}

/** A parsed SIGNATURE.ed25519. */
export interface ParsedSignature {
  keyName: string;
  signature: Uint8Array;
  /** The exact signed bytes. */
  signed: Uint8Array;
  manifest: ManifestLine[];
}

/** Parses SIGNATURE.ed25519; returns a reason string when it is malformed. */
export function parseSignatureFile(text: string): ParsedSignature | string {
  const split = text.indexOf('\n\n');
  if (split < 0) return 'no blank line between header and manifest';
  const head = text.slice(0, split).split('\n');
  const signedText = text.slice(split + 2);
  if (head.length !== 3 || head[0] !== SIGNATURE_HEADER) return `header must be '${SIGNATURE_HEADER}', key and ed25519 lines`;
  if (!head[1]!.startsWith('key: ') || !head[2]!.startsWith('ed25519: ')) return "expected 'key: <name>' then 'ed25519: <base64>'";
  const b64 = head[2]!.slice('ed25519: '.length);
  const signature = decodeBase64(b64);
  if (!signature) return 'signature is not base64';
  if (signature.length !== 64) return 'an Ed25519 signature is 64 bytes';
  const lines = signedText.split('\n');
  if (lines[0] !== MANIFEST_HEADER || lines[lines.length - 1] !== '') return `manifest must start with '${MANIFEST_HEADER}' and end with a newline`;
  const manifest: ManifestLine[] = [];
  for (const line of lines.slice(1, -1)) {
    // `s`: a name may hold any character but \n (e.g. \r or U+2028), as the writer allows.
    const m = /^([0-9a-f]{64}) {2}(.+)$/s.exec(line);
    if (!m) return `bad manifest line ${JSON.stringify(line)}`;
    manifest.push({ sha256: m[1]!, path: m[2]! });
  }
  const paths = manifest.map((l) => l.path);
  const sortedUnique = [...new Set(paths)].sort(compareBytes);
  if (sortedUnique.length !== paths.length || sortedUnique.some((p, i) => p !== paths[i])) return 'manifest paths must be unique and sorted by byte value';
  return { keyName: head[1]!.slice('key: '.length), signature: new Uint8Array(signature), signed: new Uint8Array(Buffer.from(signedText, 'utf8')), manifest };
}

/**
 * Ed25519 verification as RFC 8032 §5.1.7 without the cofactor (what OpenSSL,
 * `openssl pkeyutl -verify` and the Studio's `cryptography` do). Not noble's
 * default, which follows ZIP-215 and accepts signatures with a small-order
 * component that OpenSSL rejects; the two verifiers must agree.
 */
export async function verifyEd25519(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  try {
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') }, format: 'jwk' });
    return cryptoVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/**
 * The grammar of plugin.json's required fields (packages/plugin-zip/README.md,
 * "plugin.json"); the Studio's loader and tools/verify_release_signatures.py
 * use the same patterns. A name and a version are safe as one file-name
 * component each (`<name>-<version>.zip`, split at the last `-`: a version has
 * none), and start and end with a letter or digit. An entry is
 * `module:function` of ASCII identifiers, so it never names a path.
 */
export const PLUGIN_NAME_PATTERN = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?$/;
export const PLUGIN_VERSION_PATTERN = /^[0-9](?:[A-Za-z0-9._+]{0,62}[A-Za-z0-9])?$/;
export const PLUGIN_ENTRY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}:[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** The entry that holds an entry point's module: `a.b:run` → `a/b.py`. */
export function entryModuleFile(entry: string): string {
  return `${entry.slice(0, entry.indexOf(':')).split('.').join('/')}.py`;
}

/**
 * Why plugin.json's `name`, `version` and `entry` break the grammar, or
 * undefined; `has` tells whether the zip holds an entry (the entry module must
 * be one). Checked after the signature, before anything is written anywhere.
 */
export function checkPluginMetadata(meta: unknown, has: (entry: string) => boolean): string | undefined {
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return 'needs a non-empty string "name"';
  const fields = meta as Record<string, unknown>;
  for (const key of ['name', 'version', 'entry']) {
    if (typeof fields[key] !== 'string' || fields[key] === '') return `needs a non-empty string "${key}"`;
  }
  const [name, version, entry] = [fields['name'], fields['version'], fields['entry']] as string[];
  if (!PLUGIN_NAME_PATTERN.test(name!)) return 'name must be 1 to 64 letters, digits, ".", "_" or "-", starting and ending with a letter or digit';
  if (!PLUGIN_VERSION_PATTERN.test(version!)) return 'version must be 1 to 64 letters, digits, ".", "_" or "+", starting with a digit and ending with a letter or digit';
  if (!PLUGIN_ENTRY_PATTERN.test(entry!)) return "entry must be 'module:function' of ASCII identifiers (module dotted, at most 8 parts)";
  if (!has(entryModuleFile(entry!))) return `entry module ${entryModuleFile(entry!)} is not in the plugin`;
  return undefined;
}

