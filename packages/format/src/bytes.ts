/** Byte-level helpers the formats are defined in terms of. */

/** Orders strings by their UTF-8 bytes (what `LC_ALL=C sort` does). */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Decodes strict base64 (RFC 4648 alphabet, `=` padding, length a multiple of
 * 4); undefined when `text` is not. With `canonical`, the unused bits of the
 * last digit must be zero too, so that exactly one text encodes the bytes
 * (the armour check needs it; the plugin and trust-store formats, which the
 * Python loader reads with `b64decode(validate=True)`, do not).
 */
export function decodeBase64(text: string, options: { canonical?: boolean } = {}): Buffer | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const data = Buffer.from(text, 'base64');
  if (options.canonical && data.toString('base64') !== text) return undefined;
  return data;
}
