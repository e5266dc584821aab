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

/**
 * The first object key that occurs twice in one object of the JSON `text`
 * (compared decoded, so `"a"` and `"\u0061"` are one key), or undefined.
 * `text` must already parse. Iterative, for hostile nesting.
 */
export function duplicateJsonKey(text: string): string | undefined {
  const stack: { keys: Set<string> | undefined; expectKey: boolean }[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys && top.expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.keys.has(key)) return key;
        top.keys.add(key);
        top.expectKey = false;
      }
      i = j;
    } else if (c === '{') {
      stack.push({ keys: new Set(), expectKey: true });
    } else if (c === '[') {
      stack.push({ keys: undefined, expectKey: false });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (c === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys) top.expectKey = true;
    }
  }
  return undefined;
}

/**
 * JSON.parse for the release's own files, refusing an object key given twice
 * (JSON.parse keeps the last, other readers the first): the same rule as
 * load_json in tools/release_verify_lib.py. Throws SyntaxError.
 */
export function parseJsonUnique(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const twice = duplicateJsonKey(text);
  if (twice !== undefined) throw new SyntaxError(`the key ${JSON.stringify(twice)} is given twice in one object`);
  return value;
}
