/** The names a release may hold: what SHA256SUMS.txt, zips and the verifiers accept. */

/** Why `name` is not a safe relative zip entry or release path, or undefined when it is. */
export function checkEntryName(name: string): string | undefined {
  if (name === '') return 'empty entry name';
  if (/[\\:\0]/.test(name)) return 'backslash, colon or NUL in the name';
  if (name.startsWith('/')) return 'absolute name';
  const parts = name.split('/');
  if (parts.includes('..')) return "name contains '..'";
  if (parts.some((p) => p === '' || p === '.')) return "name has an empty or '.' component";
  if (parts.some((p) => p.endsWith('.') || p.endsWith(' '))) return 'a name component ends with a dot or a space (Windows drops it)';
  // What every file system holds: 255 bytes a component (ext4, APFS, NTFS in UTF-16 units, fewer than bytes).
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `name longer than ${MAX_NAME_BYTES} bytes`;
  if (parts.some((p) => Buffer.byteLength(p, 'utf8') > MAX_COMPONENT_BYTES)) return `a name component longer than ${MAX_COMPONENT_BYTES} bytes`;
  return undefined;
}

/** Bounds of an entry or release name, in UTF-8 bytes (the same in the Python verifiers). */
export const MAX_NAME_BYTES = 1024;
export const MAX_COMPONENT_BYTES = 255;

/**
 * Checks a release path: relative, `/`-separated, no `.`/`..`, no control
 * characters (a newline would forge a SHA256SUMS.txt line), no backslash.
 */
export function checkReleasePath(path: string): string | undefined {
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'control character (newline, tab, …) in the name';
  return checkEntryName(path);
}

/**
 * `text` with control, format, line- and paragraph-separator characters and
 * lone surrogates escaped (`\x0a`, `\u202e`, `\U000e0001`), exactly as
 * `printable` in tools/release_verify_lib.py. Names come from the release
 * (hostile input): a newline in one must not forge an output line such as
 * "verification PASSED", nor a bidi override or byte-order mark hide a character.
 */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu, (ch) => {
    const o = ch.codePointAt(0)!;
    return o < 0x100 ? `\\x${o.toString(16).padStart(2, '0')}` : o < 0x10000 ? `\\u${o.toString(16).padStart(4, '0')}` : `\\U${o.toString(16).padStart(8, '0')}`;
  });
}
