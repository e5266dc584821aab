/**
 * JSON with one spelling per value, so that equal data gives equal bytes.
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function normalise(value: unknown, path: string): Json {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError(`${path}: ${value} has no JSON form`);
    return value;
  }
  if (Array.isArray(value)) return value.map((item, i) => normalise(item, `${path}[${i}]`));
  if (typeof value === 'object') {
    const out: { [key: string]: Json } = {};
    // Code-unit order, as RFC 8785 asks; undefined members are dropped as JSON.stringify does.
    for (const key of Object.keys(value as object).sort()) {
      const member = (value as Record<string, unknown>)[key];
      if (member !== undefined) out[key] = normalise(member, `${path}.${key}`);
    }
    return out;
  }
  throw new TypeError(`${path}: a ${typeof value} has no JSON form`);
}

/**
 * Canonical JSON in the manner of RFC 8785: object keys sorted, no white space.
 * Used for digests (e.g. of the resolved release config).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(normalise(value, '$'));
}

/**
 * Stable, human-readable JSON: keys sorted, two-space indent, one trailing
 * newline. Every JSON file a stage writes uses this.
 */
export function stableJson(value: unknown): string {
  return `${JSON.stringify(normalise(value, '$'), null, 2)}\n`;
}
