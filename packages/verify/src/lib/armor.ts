/**
 * Strict reading of OpenPGP ASCII armour (RFC 4880 §6). OpenPGP.js ignores the
 * armour checksum and accepts non-canonical base64, so a changed byte in a part
 * no signature covers (an unhashed subpacket, the padding bits of the last
 * base64 digit) would pass; gpg and the Python verifier refuse such files, and
 * so do we.
 */

import { decodeBase64 } from '@helix-release/format';

function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/**
 * Undefined when every armour block of `text` is well formed; otherwise why
 * not. The grammar the Python verifier reads too: trailing spaces, tabs and CR
 * are no part of a line (RFC 9580 §6.2), nothing else is ignored; header lines
 * `Key: value` up to a blank line; the tail line exactly `-----END PGP <kind>-----`;
 * nothing but that line after the checksum.
 */
export function armorProblem(text: string): string | undefined {
  const lines = text.split('\n').map((l) => l.replace(/[ \t\r]+$/, ''));
  let blocks = 0;
  for (let i = 0; i < lines.length; i++) {
    const begin = /^-----BEGIN PGP ([A-Z ,0-9/]+)-----$/.exec(lines[i]!);
    if (!begin) continue;
    blocks++;
    const tail = `-----END PGP ${begin[1]}-----`;
    let j = i + 1;
    while (j < lines.length && lines[j] !== '' && /^[A-Za-z][A-Za-z0-9-]*: /.test(lines[j]!)) j++;
    if (lines[j] === '') j++;
    const body: string[] = [];
    let checksum: string | undefined;
    let ended = false;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line === tail) {
        ended = true;
        break;
      }
      if (line.startsWith('-----')) return `the ${begin[1]} block has a malformed END line (expected ${tail})`;
      if (checksum !== undefined) return 'text after the armour checksum';
      if (/^=.{4}$/.test(line)) checksum = line.slice(1);
      else body.push(line);
    }
    if (!ended) return `the ${begin[1]} block has no END line`;
    const data = decodeBase64(body.join(''), { canonical: true });
    if (!data) return 'the armour is not canonical base64';
    if (checksum !== undefined) {
      const expected = decodeBase64(checksum, { canonical: true });
      if (!expected) return 'the armour checksum line is unreadable';
      if (expected.readUIntBE(0, 3) !== crc24(data)) return 'the armour checksum (CRC-24) does not match: the file was changed or damaged';
    }
    i = j;
  }
  return blocks ? undefined : 'no armoured OpenPGP block';
}
