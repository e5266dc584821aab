#!/usr/bin/env python3
"""Verifies the OpenPGP signatures of a helix-release release folder, and its plugins.

Usage:

    python3 tools/verify_release_signatures.py [FOLDER | --dir FOLDER] (--fingerprint FPR | --tofu)
                                               [--trust-store FILE] [--json]
    python3 tools/verify_release_signatures.py --check-plugin ZIP [ZIP ...] --trust-store FILE [--json]

Runs the checks `key`, `signature`, `dsse` (the DSSE envelopes `<file>.dsse.json`
and `release-signing-public-key.pem`) and (with --trust-store) `plugin` of
docs/release-format.md over the release folder DIR (default: the current
folder); tools/verify_release_provenance.py runs the others. Needs Python 3
(standard library only, with tools/release_verify_lib.py beside this file) and
the `gpg` binary (GnuPG 2.2 or later); works offline. Nothing outside a
temporary GnuPG home is written: only `release-signing-public-key.asc` is
imported there, and the home is removed afterwards, so the user's own keyring
plays no part.

  FOLDER, --dir DIR   the release folder (default .), as the TypeScript CLI takes it
  --fingerprint FPR   the signing key's full fingerprint (40 hex digits), as
                      published by the project through another channel
  --tofu              trust on first use: accept the fingerprint written in
                      release-signing-key-fingerprint.txt (said in the output)
  --trust-store FILE  a helix-trust-store/v1 JSON file: every plugin zip of the
                      release must verify against it (PLUGIN_OK)
  --check-plugin ZIP  check only these plugin zips against --trust-store, one
                      line per zip (no gpg needed, no release folder needed)
  --json              print a JSON array of {status, check, code, file, reason}

Prints one line per check result:

    PASSED <check>: <file>
    FAILED <CODE>: <file>: <why>
    SKIPPED <check>: <why>

Exit status: 0 when no line is FAILED, 1 when one is, 2 on a usage error
(bad arguments, unreadable trust store, no gpg).

The plugin checks are a standard-library port of the Studio's loader
(helix_studio/plugin_zip.py) in the same order with the same PLUGIN_* codes;
Ed25519 is verified in pure Python exactly as OpenSSL does it (RFC 8032
§5.1.7 without the cofactor); so are the DSSE envelopes' Ed25519 signatures, and
their RSA ones (RSASSA-PKCS1-v1_5, SHA-256) by modular exponentiation.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import dataclasses
import decimal
import hashlib
import json
import mmap
import os
import posixpath
import re
import shutil
import stat
import struct
import unicodedata
import subprocess
import sys
import tempfile
import time
import zlib

# The helpers shared with verify_release_provenance.py live beside this file
# (the release's tools/ folder). No bytecode is written: a __pycache__/ there
# would be a stray file in the release.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from release_verify_lib import (
        CHUNK, CONFORMANCE_RESULTS, DEVELOPMENT_KEY_RE, DSSE_SUFFIX, FINGERPRINT, MAX_COMPONENT_BYTES, MAX_JSON_BYTES, MAX_NAME_BYTES, META,
        PROVENANCE, PUBLIC_KEY, PUBLIC_KEY_PEM, SBOM_RE, SUMS, Report, UsageError,
        add_folder_arguments, is_regular_file, list_files, load_json, main, not_regular, parse_json_strictly, parse_sums, read_capped,
        release_folder, release_path_problem, run_checks, sbom_format, sbom_name, utf8_key,
    )
except ImportError as _err:  # the kit is incomplete: a usage error, not a traceback
    sys.stderr.write("verify_release_signatures.py: error: needs release_verify_lib.py beside it in %s: %s\n" % (os.path.dirname(os.path.abspath(__file__)), _err))
    sys.exit(2)

# Size limits for files this script reads whole (hostile input must not exhaust memory).
MAX_KEY_BYTES = 4 * 1024 * 1024
MAX_SIGNATURE_BYTES = 1024 * 1024
GPG_TIMEOUT = 120


# --------------------------------------------------------------------------
# Ed25519 (RFC 8032), verification only, exactly as OpenSSL does it
# --------------------------------------------------------------------------

_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_D2 = 2 * _D % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)


def _point_add(p1: tuple, p2: tuple) -> tuple:
    """Sum of two points in extended coordinates (X, Y, Z, T), a = -1 (add-2008-hwcd-3)."""
    x1, y1, z1, t1 = p1
    x2, y2, z2, t2 = p2
    a = (y1 - x1) * (y2 - x2) % _P
    b = (y1 + x1) * (y2 + x2) % _P
    c = t1 * _D2 * t2 % _P
    d = 2 * z1 * z2 % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _recover_x(y: int, sign: int) -> int | None:
    """The x of the point with this y (already < p) and sign bit, as OpenSSL's ge_frombytes_vartime finds it."""
    u = (y * y - 1) % _P
    v = (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    vxx = v * x * x % _P
    if vxx != u:
        if vxx != (-u) % _P:
            return None
        x = x * _SQRT_M1 % _P
    if (x & 1) != sign:
        # For x = 0 with the sign bit set this stays 0: OpenSSL accepts that
        # encoding of a public key, so this verifier does too.
        x = (-x) % _P
    return x


def _decode_public_key(data: bytes) -> tuple | None:
    """A public key point, or None when `data` is not on the curve.

    Like OpenSSL (which the TypeScript verifier and the Studio's `cryptography`
    use), y is read modulo p; the public key comes from the trust store, not
    from the signature.
    """
    value = int.from_bytes(data, "little")
    sign = value >> 255
    y = (value & ((1 << 255) - 1)) % _P
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % _P)


def _encode_point(point: tuple) -> bytes:
    """Canonical 32-byte encoding of a point."""
    x, y, z, _t = point
    zinv = pow(z, _P - 2, _P)
    x = x * zinv % _P
    y = y * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


_BASE_Y = 4 * pow(5, _P - 2, _P) % _P
_BASE_X = _recover_x(_BASE_Y, 0)
_BASE = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _P)
_IDENTITY = (0, 1, 1, 0)


def _double_scalar_mult(a: int, p1: tuple, b: int, p2: tuple) -> tuple:
    """[a]p1 + [b]p2 (Straus-Shamir; variable time is fine for public data)."""
    both = _point_add(p1, p2)
    acc = _IDENTITY
    for i in range(max(a.bit_length(), b.bit_length()) - 1, -1, -1):
        acc = _point_add(acc, acc)
        bits = ((a >> i) & 1, (b >> i) & 1)
        if bits == (1, 1):
            acc = _point_add(acc, both)
        elif bits == (1, 0):
            acc = _point_add(acc, p1)
        elif bits == (0, 1):
            acc = _point_add(acc, p2)
    return acc


def _multiply(n: int, point: tuple) -> tuple:
    """[n]point by double-and-add (public data: variable time is fine)."""
    acc = _IDENTITY
    for i in range(n.bit_length() - 1, -1, -1):
        acc = _point_add(acc, acc)
        if (n >> i) & 1:
            acc = _point_add(acc, point)
    return acc


def public_key_fault(data: bytes) -> str | None:
    """Why a trust-store key must not be trusted, or None (as publicKeyFault in packages/verify).

    Refused: an encoding that is not the canonical one of a curve point (y >= p,
    or x = 0 with the sign bit set); a point of small order (with one, a
    signature made without any private key verifies for any content); a point
    with a small-order component (no key pair makes one).
    """
    value = int.from_bytes(data, "little")
    sign = value >> 255
    y = value & ((1 << 255) - 1)
    x = _recover_x(y, sign) if y < _P else None
    if x is None or (x == 0 and sign == 1):
        return "not the canonical encoding of a curve point"
    point = (x, y, 1, x * y % _P)
    if _encode_point(_multiply(8, point)) == _encode_point(_IDENTITY):
        return "a point of small order (a degenerate key: a signature made without any private key would verify)"
    if _encode_point(_multiply(_L, point)) != _encode_point(_IDENTITY):
        return "not in the prime-order subgroup (it has a small-order component; no key pair makes one)"
    return None


def ed25519_verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Plain Ed25519 verification, RFC 8032 §5.1.7 without the cofactor.

    S must be below L; R must be the canonical encoding of [S]B - [k]A with
    k = SHA-512(R || A || M) mod L. A non-canonical R, an R with a small-order
    component and an S >= L all fail, as with OpenSSL.
    """
    if len(public_key) != 32 or len(signature) != 64:
        return False
    r_bytes = bytes(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    a = _decode_public_key(bytes(public_key))
    if a is None:
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + bytes(public_key) + bytes(message)).digest(), "little") % _L
    minus_a = ((-a[0]) % _P, a[1], a[2], (-a[3]) % _P)
    return _encode_point(_double_scalar_mult(s, _BASE, k, minus_a)) == r_bytes


# --------------------------------------------------------------------------
# Plugin zips: a port of helix_studio/plugin_zip.py (same checks, same order)
# --------------------------------------------------------------------------

SIGNATURE_NAME = "SIGNATURE.ed25519"
SIGNATURE_HEADER = "helix-plugin-signature v1"
MANIFEST_HEADER = "helix-plugin-manifest v1"
MAX_ENTRIES = 10000
MAX_TOTAL_UNCOMPRESSED = 256 * 1024 * 1024
# No plugin zip is larger (its entries hold at most MAX_TOTAL_UNCOMPRESSED bytes); checked before reading.
MAX_PLUGIN_FILE_BYTES = 2 * MAX_TOTAL_UNCOMPRESSED
MAX_ENTRY_UNCOMPRESSED = 64 * 1024 * 1024
RATIO_CHECK_MIN_SIZE = 1024 * 1024
MAX_RATIO = 100
MAX_METADATA_DEPTH = 64
# Entry names are bounded like release paths: MAX_NAME_BYTES and MAX_COMPONENT_BYTES of release_verify_lib.py.
# The grammar of plugin.json's required fields (packages/plugin-zip/README.md); the same
# patterns as packages/format/src/plugin.ts. ASCII only, so that no name, version or entry
# point can name a path, a control character or a look-alike.
PLUGIN_NAME_PATTERN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,62}[A-Za-z0-9])?")
PLUGIN_VERSION_PATTERN = re.compile(r"[0-9](?:[A-Za-z0-9._+]{0,62}[A-Za-z0-9])?")
PLUGIN_ENTRY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}(?:\.[A-Za-z_][A-Za-z0-9_]{0,63}){0,7}:[A-Za-z_][A-Za-z0-9_]{0,63}")


def entry_module_file(entry: str) -> str:
    """The zip entry holding an entry point's module: "a.b:run" -> "a/b.py"."""
    return entry.partition(":")[0].replace(".", "/") + ".py"


def check_plugin_metadata(meta: object, files) -> str | None:
    """Why plugin.json's name, version and entry break the grammar (None when they do not).

    `files` holds the zip's entry names; the entry module must be one of them.
    """
    if not isinstance(meta, dict):
        return "needs a non-empty string 'name'"
    for key in ("name", "version", "entry"):
        if not isinstance(meta.get(key), str) or not meta[key]:
            return "needs a non-empty string %r" % key
    if not PLUGIN_NAME_PATTERN.fullmatch(meta["name"]):
        return 'name must be 1 to 64 letters, digits, ".", "_" or "-", starting and ending with a letter or digit'
    if not PLUGIN_VERSION_PATTERN.fullmatch(meta["version"]):
        return 'version must be 1 to 64 letters, digits, ".", "_" or "+", starting with a digit and ending with a letter or digit'
    if not PLUGIN_ENTRY_PATTERN.fullmatch(meta["entry"]):
        return "entry must be 'module:function' of ASCII identifiers (module dotted, at most 8 parts)"
    module = entry_module_file(meta["entry"])
    if module not in files:
        return "entry module %s is not in the plugin" % module
    return None


class PluginRejected(Exception):
    """A structural fault of a plugin zip; `code` is one of the PLUGIN_* codes."""

    def __init__(self, code: str, entry: str | None, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.entry = entry
        self.reason = reason


def load_trust_store(path: str) -> dict:
    """Reads a helix-trust-store/v1 file into {key name: raw 32-byte key}; raises UsageError."""
    try:
        data = load_json(path, 16 * 1024 * 1024)
    except ValueError as err:
        raise UsageError("%s: cannot read trust store: %s" % (path, err)) from None
    if not isinstance(data, dict) or data.get("schema") != "helix-trust-store/v1":
        raise UsageError('%s: not a trust store (expected "schema": "helix-trust-store/v1")' % path)
    items = data.get("keys", [])
    if not isinstance(items, list):
        raise UsageError("%s: keys must be an array" % path)
    keys: dict = {}
    for index, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        encoded = item.get("ed25519") if isinstance(item, dict) else None
        if not isinstance(name, str) or not isinstance(encoded, str):
            raise UsageError("%s: keys[%d] needs string fields name and ed25519" % (path, index))
        try:
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise UsageError("%s: keys[%d] (%s): ed25519 is not base64" % (path, index, name)) from None
        if len(raw) != 32:
            raise UsageError("%s: keys[%d] (%s): ed25519 key must be 32 bytes, got %d" % (path, index, name, len(raw)))
        fault = public_key_fault(raw)
        if fault:
            raise UsageError("%s: keys[%d] (%s): ed25519 key is %s; remove it and ask its owner for their real public key" % (path, index, name, fault))
        if name in keys:
            raise UsageError("%s: keys[%d]: duplicate key name %r" % (path, index, name))
        keys[name] = raw
    return keys


def _fold(name: str) -> str:
    """The key under which two names are one file on macOS or Windows: NFC, then lower case (as in packages/verify)."""
    return unicodedata.normalize("NFC", name).lower()


def _unsafe_reason(name: str) -> str | None:
    if name == "":
        return "empty entry name"
    if "\\" in name or "\x00" in name or ":" in name:
        return "backslash, NUL or colon in entry name"
    if name.startswith("/"):
        return "absolute entry name"
    parts = name[:-1].split("/") if name.endswith("/") else name.split("/")
    if ".." in parts:
        return "entry name contains '..'"
    if any(part in ("", ".") for part in parts):
        return "entry name has an empty or '.' component"
    if any(part.endswith((".", " ")) for part in parts):
        return "a name component ends with a dot or a space (Windows drops it)"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return "name longer than %d bytes" % MAX_NAME_BYTES
    if any(len(part.encode("utf-8")) > MAX_COMPONENT_BYTES for part in parts):
        return "a name component longer than %d bytes" % MAX_COMPONENT_BYTES
    return None


class _Entry:
    """One central-directory record."""

    __slots__ = ("name", "method", "flags", "crc", "compressed_size", "file_size", "header_offset", "unix_mode", "raw", "external")

    def __init__(self, name, method, flags, crc, compressed_size, file_size, header_offset, unix_mode, raw=b"", external=0) -> None:
        self.name = name
        self.method = method
        self.flags = flags
        self.crc = crc
        self.compressed_size = compressed_size
        self.file_size = file_size
        self.header_offset = header_offset
        self.unix_mode = unix_mode
        self.raw = raw
        self.external = external


def _read_directory(data) -> list:
    """The central directory, read straight from the bytes (no zipfile: it normalises names)."""
    size = len(data)
    end = _end_record(data)
    if end < 0 or size - end < 22:
        raise PluginRejected("PLUGIN_MALFORMED", None, "not a readable zip: no end-of-central-directory record")
    disk, cd_disk, count_here, count, cd_size, cd_offset = struct.unpack("<HHHHII", data[end + 4 : end + 20])
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise PluginRejected("PLUGIN_MALFORMED", None, "ZIP64 archives are not supported")
    if disk != 0 or cd_disk != 0 or count_here != count:
        raise PluginRejected("PLUGIN_MALFORMED", None, "multi-disk archives are not supported")
    if cd_offset + cd_size > end:
        raise PluginRejected("PLUGIN_MALFORMED", None, "central directory runs past its end record")
    entries = []
    pos = cd_offset
    for index in range(count):
        if pos + 46 > end or data[pos : pos + 4] != b"PK\x01\x02":
            raise PluginRejected("PLUGIN_MALFORMED", None, "central directory record %d is corrupt" % index)
        made_by, _needed, flags, method = struct.unpack("<HHHH", data[pos + 4 : pos + 12])
        crc, compressed_size, file_size, name_len, extra_len, comment_len = struct.unpack("<IIIHHH", data[pos + 16 : pos + 34])
        external, header_offset = struct.unpack("<II", data[pos + 38 : pos + 46])
        if pos + 46 + name_len + extra_len + comment_len > end:
            raise PluginRejected("PLUGIN_MALFORMED", None, "central directory record %d is truncated" % index)
        raw = bytes(data[pos + 46 : pos + 46 + name_len])
        if flags & 0x800:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise PluginRejected("PLUGIN_MALFORMED", None, "entry %d has an invalid UTF-8 name" % index) from None
        elif all(byte < 0x80 for byte in raw):
            name = raw.decode("ascii")
        else:
            raise PluginRejected("PLUGIN_MALFORMED", None, "entry %d has a non-ASCII name without the UTF-8 flag" % index)
        if 0xFFFFFFFF in (compressed_size, file_size, header_offset):
            raise PluginRejected("PLUGIN_MALFORMED", name, "ZIP64 entries are not supported")
        unix_mode = external >> 16 if made_by >> 8 == 3 else None
        entries.append(_Entry(name, method, flags, crc, compressed_size, file_size, header_offset, unix_mode, bytes(raw), external))
        pos += 46 + name_len + extra_len + comment_len
    # The directory is exactly its records, right before its end record (as readZipDirectory in packages/core).
    if pos != cd_offset + cd_size:
        raise PluginRejected("PLUGIN_MALFORMED", None, "not a readable zip: the central directory holds other bytes than its %d records (more entries than the end record counts?)" % count)
    if pos != end:
        raise PluginRejected("PLUGIN_MALFORMED", None, "not a readable zip: bytes between the central directory and its end record (a ZIP64 record, or hidden entries)")
    return entries


def _inflate(data, begin: int, length: int, limit: int):
    """Raw-deflate data[begin:begin+length] in 1 MiB input chunks, stopping at `limit` output bytes.

    Returns (output, reached end of stream); raises zlib.error on bad data.
    """
    inflater = zlib.decompressobj(-15)
    parts = []
    produced = 0
    pos, end = begin, begin + length
    while pos < end and produced < limit and not inflater.eof:
        chunk = data[pos : min(end, pos + CHUNK)]
        pos += len(chunk)
        while chunk and produced < limit and not inflater.eof:
            piece = inflater.decompress(chunk, limit - produced)
            parts.append(piece)
            produced += len(piece)
            chunk = inflater.unconsumed_tail
    return b"".join(parts), inflater.eof


def _end_record(data) -> int:
    """The offset of the end-of-central-directory record (the last one with room for its 22 bytes), or -1."""
    return data.rfind(b"PK\x05\x06", max(0, len(data) - 22 - 0xFFFF), max(0, len(data) - 18))


def _layout_problem(data, entries):
    """(code, entry, reason) when other zip readers could see other entries than the directory lists, else None.

    As zipLayoutProblem in packages/core: each local header agrees with its
    central record (name bytes, flags, method; CRC-32 and sizes, or zeros and a
    data descriptor that agrees); the entries tile the bytes before the
    directory from offset 0 (no prefix, gap or overlap); no mode, under any
    host, names anything but a regular file or a folder.
    """
    expected = 0
    for entry in sorted(entries, key=lambda e: e.header_offset):
        at = entry.header_offset
        shown = json.dumps(entry.name)
        if at != expected:
            return "PLUGIN_MALFORMED", entry.name, "%s: starts at byte %d, not %d (data before it, or entries that overlap)" % (shown, at, expected)
        if at + 30 > len(data) or data[at : at + 4] != b"PK\x03\x04":
            return "PLUGIN_MALFORMED", entry.name, "%s: bad local header" % shown
        flags, method = struct.unpack("<HH", data[at + 6 : at + 10])
        crc, compressed, size, name_len, extra_len = struct.unpack("<IIIHH", data[at + 14 : at + 30])
        if bytes(data[at + 30 : at + 30 + name_len]) != entry.raw:
            return "PLUGIN_MALFORMED", entry.name, "%s: its local header names it otherwise" % shown
        if flags != entry.flags or method != entry.method:
            return "PLUGIN_MALFORMED", entry.name, "%s: its local header has other flags or another method" % shown
        end = at + 30 + name_len + extra_len + entry.compressed_size
        central = (entry.crc, entry.compressed_size, entry.file_size)
        if flags & 0x8:
            if (crc, compressed, size) not in (central, (0, 0, 0)):
                return "PLUGIN_MALFORMED", entry.name, "%s: its local header has another CRC-32 or size" % shown
            signed = 4 if data[end : end + 4] == b"PK\x07\x08" else 0
            if end + signed + 12 > len(data) or struct.unpack("<III", data[end + signed : end + signed + 12]) != central:
                return "PLUGIN_MALFORMED", entry.name, "%s: its data descriptor has another CRC-32 or size" % shown
            end += signed + 12
        elif (crc, compressed, size) != central:
            return "PLUGIN_MALFORMED", entry.name, "%s: its local header has another CRC-32 or size" % shown
        kind = (entry.external >> 16) & 0o170000
        if kind not in (0, 0o100000, 0o040000):
            return "PLUGIN_SYMLINK", entry.name, "%s: mode %o is a link or special file" % (shown, entry.external >> 16)
        expected = end
    directory = struct.unpack("<I", data[_end_record(data) + 16 : _end_record(data) + 20])[0]
    if expected != directory:
        return "PLUGIN_MALFORMED", None, "bytes %d to %d belong to no entry" % (expected, directory)
    return None


def _read_entry(data, entry: _Entry) -> bytes:
    """One entry's content; inflation stops one byte past the declared size."""
    if entry.flags & 0x1:
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "encrypted entries are not supported")
    at = entry.header_offset
    if at + 30 > len(data) or data[at : at + 4] != b"PK\x03\x04":
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "bad local header")
    name_len, extra_len = struct.unpack("<HH", data[at + 26 : at + 30])
    begin = at + 30 + name_len + extra_len
    if begin + entry.compressed_size > len(data):
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "data runs past the end of the file")
    if entry.method == 0:
        # Judged before copying: a stored entry is as long as its compressed size.
        if entry.compressed_size > entry.file_size:
            raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "inflates to more than its declared size")
        content = bytes(data[begin : begin + entry.compressed_size])
    elif entry.method == 8:
        try:
            content, eof = _inflate(data, begin, entry.compressed_size, entry.file_size + 1)
        except zlib.error:
            raise PluginRejected("PLUGIN_MALFORMED", entry.name, "bad deflate data") from None
        if len(content) <= entry.file_size and not eof:
            raise PluginRejected("PLUGIN_MALFORMED", entry.name, "bad deflate data: the stream ends early")
    else:
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "compression method %d is not supported" % entry.method)
    if len(content) > entry.file_size:
        raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "inflates to more than its declared size")
    if len(content) != entry.file_size:
        raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "holds fewer bytes than it declares")
    if zlib.crc32(content) & 0xFFFFFFFF != entry.crc:
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "CRC-32 mismatch (corrupt or tampered)")
    return content


def _parse_signature_file(text: str):
    """Splits SIGNATURE.ed25519 into (key name, signature, signed bytes, manifest [(path, sha256)])."""
    head, sep, signed = text.partition("\n\n")
    if not sep:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "no blank line between header and manifest")
    lines = head.split("\n")
    if len(lines) != 3 or lines[0] != SIGNATURE_HEADER:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "header must be '%s', key and ed25519 lines" % SIGNATURE_HEADER)
    if not lines[1].startswith("key: ") or not lines[2].startswith("ed25519: "):
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "expected 'key: <name>' then 'ed25519: <base64>'")
    key_name = lines[1][len("key: ") :]
    try:
        signature = base64.b64decode(lines[2][len("ed25519: ") :], validate=True)
    except ValueError:  # binascii.Error, or non-ASCII characters
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "signature is not base64") from None
    if len(signature) != 64:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "an Ed25519 signature is 64 bytes")
    manifest_lines = signed.split("\n")
    if manifest_lines[0] != MANIFEST_HEADER or manifest_lines[-1] != "":
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "manifest must start with '%s' and end with a newline" % MANIFEST_HEADER)
    manifest = []
    for line in manifest_lines[1:-1]:
        digest, sep2, path = line.partition("  ")
        if not sep2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not path:
            raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "bad manifest line %r" % line)
        manifest.append((path, digest))
    paths = [path for path, _ in manifest]
    if paths != sorted(paths, key=lambda p: p.encode("utf-8", "surrogatepass")) or len(set(paths)) != len(paths):
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "manifest paths must be unique and sorted by byte value")
    return key_name, signature, signed.encode("utf-8", "surrogatepass"), manifest


def _nesting_depth(value) -> int:
    """How deep `value` nests dicts and lists (a scalar is 0, {} is 1); iterative."""
    deepest = 0
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth + 1)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def _check_trust(files: dict, trust: dict):
    """The trust result (code, entry, reason) of a structurally sound plugin."""
    raw = files.get(SIGNATURE_NAME)
    if raw is None:
        return "PLUGIN_UNSIGNED", None, "no %s in the zip" % SIGNATURE_NAME
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "not UTF-8") from None
    key_name, signature, signed, manifest = _parse_signature_file(text)
    public = trust.get(key_name)
    if public is None:
        return "PLUGIN_UNTRUSTED_KEY", None, "signed by key %r, which is not in the trust store" % key_name
    if not ed25519_verify(public, signature, signed):
        return "PLUGIN_BAD_SIGNATURE", None, "signature does not verify with key %r" % key_name
    listed = dict(manifest)
    for name in sorted(files, key=lambda n: n.encode("utf-8", "surrogatepass")):
        if name != SIGNATURE_NAME and name not in listed:
            raise PluginRejected("PLUGIN_NOT_IN_MANIFEST", name, "entry is not listed in the signed manifest")
    for path, digest in manifest:
        if path not in files:
            return "PLUGIN_MISSING_ENTRY", path, "%s: listed in the signed manifest but not in the zip" % path
        if hashlib.sha256(files[path]).hexdigest() != digest:
            return "PLUGIN_DIGEST_MISMATCH", path, "%s: contents differ from the signed manifest" % path
    return "PLUGIN_OK", None, "signed by trusted key %r" % key_name


def _verify_or_raise(data, trust: dict):
    entries = _read_directory(data)
    if len(entries) > MAX_ENTRIES:
        raise PluginRejected("PLUGIN_ZIP_BOMB", None, "%d entries (limit %d)" % (len(entries), MAX_ENTRIES))
    # Every reader must see the entries that are signed: a hand unzip reads local headers.
    layout = _layout_problem(data, entries)
    if layout:
        raise PluginRejected(layout[0], layout[1], "other zip readers would see other entries: " + layout[2])
    seen = set()
    folded: dict = {}
    for entry in entries:
        name = entry.name
        reason = _unsafe_reason(name)
        if reason:
            raise PluginRejected("PLUGIN_UNSAFE_PATH", name, reason)
        if entry.unix_mode is not None and stat.S_ISLNK(entry.unix_mode):
            raise PluginRejected("PLUGIN_SYMLINK", name, "symbolic link entries are not allowed")
        if name.endswith("/"):
            raise PluginRejected("PLUGIN_NOT_IN_MANIFEST", name, "directory entries are not part of the plugin format")
        if name in seen:
            raise PluginRejected("PLUGIN_DUPLICATE_ENTRY", name, "the name occurs twice")
        key = _fold(name)
        if key in folded:
            raise PluginRejected("PLUGIN_DUPLICATE_ENTRY", name, "differs from %r only in case or Unicode normalisation" % folded[key])
        seen.add(name)
        folded[key] = name
    # A name that is also a folder of another ("a" and "a/b") cannot be extracted, up to case either.
    for entry in entries:
        parts = entry.name.split("/")
        for i in range(1, len(parts)):
            other = folded.get(_fold("/".join(parts[:i])))
            if other is not None:
                raise PluginRejected("PLUGIN_DUPLICATE_ENTRY", entry.name, "%r is a file, so it cannot also be a folder" % other)

    total = 0
    for entry in entries:
        total += entry.file_size
        if entry.file_size > MAX_ENTRY_UNCOMPRESSED:
            raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "%d bytes uncompressed (limit %d)" % (entry.file_size, MAX_ENTRY_UNCOMPRESSED))
        if entry.file_size > RATIO_CHECK_MIN_SIZE and entry.file_size > MAX_RATIO * max(entry.compressed_size, 1):
            raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "compression ratio over %d:1" % MAX_RATIO)
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise PluginRejected("PLUGIN_ZIP_BOMB", None, "%d bytes uncompressed in all (limit %d)" % (total, MAX_TOTAL_UNCOMPRESSED))

    files: dict = {}
    for entry in entries:
        files[entry.name] = _read_entry(data, entry)

    trust_result = _check_trust(files, trust)

    meta_bytes = files.get("plugin.json")
    if meta_bytes is None:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", "missing")
    try:
        meta = parse_json_strictly(meta_bytes.decode("utf-8"), unique_keys=True)
    except RecursionError:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", "nested deeper than %d levels" % MAX_METADATA_DEPTH) from None
    except (UnicodeDecodeError, ValueError) as err:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", "not JSON: %s" % err) from None
    if _nesting_depth(meta) > MAX_METADATA_DEPTH:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", "nested deeper than %d levels" % MAX_METADATA_DEPTH)
    problem = check_plugin_metadata(meta, files)
    if problem:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", problem)
    return trust_result + (meta["name"], meta["version"])


def _too_large(size: int) -> dict:
    return {"code": "PLUGIN_ZIP_BOMB", "entry": None, "reason": "%d bytes: larger than any plugin zip can be (limit %d)" % (size, MAX_PLUGIN_FILE_BYTES), "structural": True}


def verify_plugin_bytes(data, trust: dict) -> dict:
    """Verdict on one plugin zip held in `data` (bytes or mmap): {code, entry, reason, structural}.

    `structural` is True for faults refused under any policy, False for trust
    results (PLUGIN_OK, unsigned, untrusted key, bad signature, digest mismatch,
    missing entry), exactly as in the shared plugin trust-case table.
    """
    if len(data) > MAX_PLUGIN_FILE_BYTES:
        return _too_large(len(data))
    try:
        code, entry, reason, name, version = _verify_or_raise(data, trust)
        return {"code": code, "entry": entry, "reason": reason, "structural": False, "name": name, "version": version}
    except PluginRejected as err:
        return {"code": err.code, "entry": err.entry, "reason": err.reason, "structural": True}
    except MemoryError:
        return {"code": "PLUGIN_ZIP_BOMB", "entry": None, "reason": "needs more memory than this machine has", "structural": True}


def verify_plugin_file(path: str, trust: dict) -> dict:
    """Verdict on the plugin zip at `path`; the file is mapped, not read into memory."""
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return verify_plugin_bytes(b"", trust)
            if size > MAX_PLUGIN_FILE_BYTES:
                return _too_large(size)
            try:
                mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except (OSError, ValueError):
                return verify_plugin_bytes(handle.read(), trust)
            try:
                return verify_plugin_bytes(mapped, trust)
            finally:
                mapped.close()
    except OSError as err:
        return {"code": "PLUGIN_MALFORMED", "entry": None, "reason": "cannot read: %s" % (err.strerror or err), "structural": True}


def plugin_line(report: Report, file: str, verdict: dict) -> None:
    """Adds one plugin verdict to the report (PLUGIN_OK passes)."""
    if verdict["code"] == "PLUGIN_OK":
        report.passed("plugin", file, verdict["reason"], code="PLUGIN_OK")
    else:
        where = "%s: " % verdict["entry"] if verdict["entry"] and not verdict["reason"].startswith(verdict["entry"] + ":") else ""
        report.failed("plugin", verdict["code"], file, "%s%s" % (where, verdict["reason"]))


# --------------------------------------------------------------------------
# OpenPGP packets (enough to see what a file holds before gpg reads it)
# --------------------------------------------------------------------------

ARMOR_BEGIN = re.compile(rb"^-----BEGIN PGP ([A-Z ,0-9/]+)-----[ \t\r]*$", re.M)
ARMOR_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*: ")


def dearmor(data: bytes) -> list:
    """The (block type, binary) of every ASCII-armoured block in `data`; [] when there is none.

    Raises ValueError for a block that does not decode.
    """
    blocks = []
    for match in ARMOR_BEGIN.finditer(data):
        kind = match.group(1).decode("ascii")
        rest = data[match.end() :].split(b"\n")
        body = []
        in_headers = True
        ended = False
        checksum = None
        tail = b"-----END PGP " + match.group(1) + b"-----"
        for raw_line in rest[1:]:
            # Trailing spaces, tabs and CR are no part of a line (RFC 9580 6.2); nothing else is ignored.
            line = raw_line.rstrip(b" \t\r")
            if in_headers:
                if line == b"":
                    in_headers = False
                    continue
                if ARMOR_HEADER.match(line):
                    continue
                in_headers = False  # no header lines and no blank line: the body starts here
            if line == tail:
                ended = True
                break
            if line.startswith(b"-----"):
                raise ValueError("armour block %s has a malformed END line (expected %s)" % (kind, tail.decode("ascii")))
            if checksum is not None:
                raise ValueError("armour block %s has text after its checksum line" % kind)
            if line.startswith(b"=") and len(line) == 5:
                checksum = line[1:]
                continue
            body.append(line)
        if not ended:
            raise ValueError("armour block %s has no END line" % kind)
        try:
            binary = base64.b64decode(b"".join(body), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("armour block %s is not base64" % kind) from None
        # Canonical only: a changed padding bit of the last digit decodes to
        # the same bytes, but the file is no longer the one that was published.
        if base64.b64encode(binary) != b"".join(body):
            raise ValueError("armour block %s is not canonical base64" % kind)
        if checksum is not None:
            try:
                expected = int.from_bytes(base64.b64decode(checksum, validate=True), "big")
            except (binascii.Error, ValueError):
                raise ValueError("armour block %s has an unreadable checksum line" % kind) from None
            if crc24(binary) != expected:
                raise ValueError("the armour checksum (CRC-24) does not match: the file was changed or damaged")
        blocks.append((kind, binary))
    return blocks


def _crc24_table() -> list:
    table = []
    for index in range(256):
        crc = index << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
        table.append(crc & 0xFFFFFF)
    return table


_CRC24_TABLE = _crc24_table()


def crc24(data: bytes) -> int:
    """The CRC-24 of OpenPGP ASCII armour (RFC 4880 §6.1)."""
    crc = 0xB704CE
    table = _CRC24_TABLE
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFF) ^ table[((crc >> 16) ^ byte) & 0xFF]
    return crc


def packets(data: bytes) -> list:
    """The (tag, body) of the OpenPGP packets in `data`, in order; raises ValueError when malformed."""
    out = []
    pos = 0
    size = len(data)
    while pos < size:
        first = data[pos]
        pos += 1
        if not first & 0x80:
            raise ValueError("not an OpenPGP packet at byte %d" % (pos - 1))
        body = b""
        if first & 0x40:  # new format
            tag = first & 0x3F
            while True:
                if pos >= size:
                    raise ValueError("truncated packet header")
                o1 = data[pos]
                if o1 < 192:
                    length, pos, partial = o1, pos + 1, False
                elif o1 < 224:
                    if pos + 1 >= size:
                        raise ValueError("truncated packet header")
                    length, pos, partial = ((o1 - 192) << 8) + data[pos + 1] + 192, pos + 2, False
                elif o1 == 255:
                    if pos + 5 > size:
                        raise ValueError("truncated packet header")
                    length, pos, partial = struct.unpack(">I", data[pos + 1 : pos + 5])[0], pos + 5, False
                else:
                    length, pos, partial = 1 << (o1 & 0x1F), pos + 1, True
                if pos + length > size:
                    raise ValueError("packet runs past the end")
                body += data[pos : pos + length]
                pos += length
                if not partial:
                    break
        else:
            tag = (first >> 2) & 0x0F
            length_type = first & 0x03
            if length_type == 3:
                length = size - pos
            else:
                width = (1, 2, 4)[length_type]
                if pos + width > size:
                    raise ValueError("truncated packet header")
                length = int.from_bytes(data[pos : pos + width], "big")
                pos += width
            if pos + length > size:
                raise ValueError("packet runs past the end")
            body = data[pos : pos + length]
            pos += length
        out.append((tag, body))
    return out


def packet_tags(data: bytes) -> list:
    """The tags of the OpenPGP packets in `data`, in order; raises ValueError when malformed."""
    return [tag for tag, _body in packets(data)]


def openpgp_packets(data: bytes) -> tuple:
    """(armour block types, packet tags) of an armoured or binary OpenPGP file; ValueError if unreadable."""
    blocks = dearmor(data)
    if not blocks:
        return [], packet_tags(data)
    tags = []
    for _kind, binary in blocks:
        tags.extend(packet_tags(binary))
    return [kind for kind, _ in blocks], tags


# --------------------------------------------------------------------------
# gpg
# --------------------------------------------------------------------------


class Gpg:
    """gpg in a private, temporary GNUPGHOME (mode 0700), removed by close()."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.home = tempfile.mkdtemp(prefix="helix-verify-gnupg-")
        os.chmod(self.home, 0o700)
        self.env = dict(os.environ)
        self.env.update({"GNUPGHOME": self.home, "LC_ALL": "C", "LANGUAGE": "C", "TZ": "UTC"})
        self.env.pop("GPG_AGENT_INFO", None)

    def run(self, args: list) -> tuple:
        """Runs gpg; returns (exit code, status lines, stderr). Never reaches a key server or an agent."""
        command = [
            self.binary, "--homedir", self.home, "--batch", "--no-tty", "--no-autostart", "--no-options",
            "--no-auto-key-retrieve", "--no-auto-key-locate", "--trust-model", "always", "--status-fd", "1",
        ] + args
        try:
            done = subprocess.run(command, env=self.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=GPG_TIMEOUT)
        except subprocess.TimeoutExpired:
            return 124, [], "gpg timed out after %d s" % GPG_TIMEOUT
        except OSError as err:
            return 127, [], "cannot run gpg: %s" % err
        status = []
        for line in done.stdout.decode("utf-8", "replace").splitlines():
            if line.startswith("[GNUPG:] "):
                status.append(line[len("[GNUPG:] ") :].split(" "))
        return done.returncode, status, done.stderr.decode("utf-8", "replace")

    def close(self) -> None:
        """Removes the temporary home."""
        shutil.rmtree(self.home, ignore_errors=True)


def find_gpg() -> str:
    """The gpg binary (GnuPG 2.2+), or UsageError."""
    for name in ("gpg", "gpg2"):
        found = shutil.which(name)
        if found:
            return found
    raise UsageError("gpg (GnuPG 2.2 or later) is not on PATH; install it to verify the release signatures")


def normalise_fingerprint(value: str) -> str:
    """Uppercase hex without spaces or a 0x prefix."""
    value = re.sub(r"\s+", "", value)
    if value[:2].lower() == "0x":
        value = value[2:]
    return value.upper()


FPR_RE = re.compile(r"[0-9A-F]{40}|[0-9A-F]{64}")
# OpenPGP hash algorithm ids a release signature must not use (collisions are practical).
WEAK_HASHES = {"1": "MD5", "2": "SHA-1", "3": "RIPEMD-160"}
# OpenPGP reasons for revocation (RFC 4880 5.2.3.23), in the words of the TypeScript verifier.
REVOCATION_REASONS = {0: "no reason given", 1: "key superseded", 2: "key compromised", 3: "key retired"}


# --------------------------------------------------------------------------
# Checks, in the order of the verified install flow (docs/release-format.md)
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """What the checks of one run over a release folder share."""

    root: str
    files: list  # every file of the release (list_files)
    pinned: str | None  # --fingerprint, normalised
    tofu: bool
    trust: dict | None  # --trust-store, or None
    allow_development_key: bool = False  # --allow-development-key
    gpg: Gpg | None = None  # a private gpg home, when a key is pinned or --tofu
    fingerprint: str | None = None  # the trusted key, set by check_key when it passes

    @property
    def unsigned(self) -> bool:
        """True when the release holds no .asc file at all."""
        return not any(f.endswith(".asc") for f in self.files)


def check_key(report: Report, ctx: Context) -> None:
    """The `key` check: the release's public key is the pinned (or --tofu) one; sets ctx.fingerprint."""
    if ctx.unsigned:
        report.failed("key", "UNSIGNED", PUBLIC_KEY, "the release is unsigned: there is no .asc file at all in %s "
                      "(no detached signature, no public key), so nothing in it can be authenticated" % ctx.root)
        return
    ctx.fingerprint = trusted_fingerprint(report, ctx.root, ctx.gpg, ctx.pinned, ctx.tofu, ctx.allow_development_key)


def trusted_fingerprint(report: Report, root: str, gpg: Gpg | None, pinned: str | None, tofu: bool, allow_development_key: bool = False) -> str | None:
    """The body of the `key` check; returns the trusted primary fingerprint, or None when the check failed."""
    key_file = os.path.join(root, PUBLIC_KEY)
    if not is_regular_file(key_file):
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "the release has signatures but no %s (the signing public key)" % PUBLIC_KEY)
        return None
    try:
        data = read_capped(key_file, MAX_KEY_BYTES)
    except (OSError, ValueError) as err:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "cannot read the public key: %s" % err)
        return None
    if b"PRIVATE KEY BLOCK" in data:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "holds SECRET key material (a PGP PRIVATE KEY BLOCK): it was not imported; "
                      "the signing key is compromised, revoke it and publish only the public key (gpg --armor --export)")
        return None
    try:
        kinds, tags = openpgp_packets(data)
    except ValueError as err:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "not a readable OpenPGP public key: %s" % err)
        return None
    if 5 in tags or 7 in tags:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "holds SECRET key packets: it was not imported; the signing key is "
                      "compromised, revoke it and publish only the public key (gpg --armor --export)")
        return None
    if any(kind != "PUBLIC KEY BLOCK" for kind in kinds):
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "holds a PGP %s block; expected one PGP PUBLIC KEY BLOCK" % sorted(set(kinds))[0])
        return None
    primaries = tags.count(6)
    if primaries != 1:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "holds %d public keys; expected exactly one" % primaries)
        return None

    fpr_file = os.path.join(root, FINGERPRINT)
    published = None
    if is_regular_file(fpr_file):
        try:
            text = read_capped(fpr_file, 1024).decode("ascii")
        except (OSError, ValueError, UnicodeDecodeError):
            text = None
        if text is not None:
            published = text[:-1] if text.endswith("\n") else text
    if pinned is None and not tofu:
        report.failed("key", "KEY_NOT_PINNED", PUBLIC_KEY, "no key is pinned: pass --fingerprint <the project's published fingerprint>, "
                      "or --tofu to trust the one in %s%s" % (FINGERPRINT, " (%s)" % published if published and FPR_RE.fullmatch(published) else ""))
        return None
    if gpg is None:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "gpg is not available")
        return None

    code, status, stderr = gpg.run(["--import", key_file])
    if code != 0 or not any(s[0] == "IMPORT_OK" for s in status):
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "gpg could not import the public key: %s" % _gpg_complaint(stderr))
        return None
    listing = _colon_listing(gpg, ["--with-colons", "--fixed-list-mode", "--list-keys"])
    secret = _colon_listing(gpg, ["--with-colons", "--list-secret-keys"])
    if any(line[0] in ("sec", "ssb") for line in secret):
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "holds secret key material; the signing key is compromised")
        return None
    fingerprints = []
    for index, line in enumerate(listing):
        if line[0] == "pub":
            after = [l for l in listing[index + 1 :] if l[0] == "fpr"]
            if after and len(after[0]) > 9:
                fingerprints.append(after[0][9].upper())
    if len(fingerprints) != 1:
        report.failed("key", "KEY_MISSING", PUBLIC_KEY, "gpg sees %d primary keys in it; expected exactly one" % len(fingerprints))
        return None
    actual = fingerprints[0]

    if not tofu and actual != pinned:
        report.failed("key", "KEY_MISMATCH", PUBLIC_KEY, "its fingerprint is %s, not the pinned %s" % (actual, pinned))
        return None
    if published is None:
        report.failed("key", "KEY_MISSING", FINGERPRINT, "missing or unreadable; it must hold the signing key's fingerprint (%s)" % actual)
        return None
    if not FPR_RE.fullmatch(published):
        report.failed("key", "KEY_MISMATCH", FINGERPRINT, "is not one line of 40 uppercase hex digits")
        return None
    if published != actual:
        if tofu:
            report.failed("key", "KEY_MISMATCH", PUBLIC_KEY, "its fingerprint is %s but %s says %s" % (actual, FINGERPRINT, published))
        else:
            report.failed("key", "KEY_MISMATCH", FINGERPRINT, "says %s but the public key's fingerprint is %s" % (published, actual))
        return None
    # A revoked key vouches for nothing, not even what it signed before the revocation (gpg: REVKEYSIG).
    revocation = _revocation(gpg, listing)
    if revocation is not None:
        report.failed("key", "KEY_REVOKED", PUBLIC_KEY, "revoked by its owner on %s (%s): none of its signatures can be trusted, whenever they "
                      "were made; the release must be re-signed with a valid key (check the project's announcement of its new key, "
                      "and pin that fingerprint)" % revocation)
        return None
    # Its signatures still get checked: the verdict on the key is its own line.
    development = [line[9].replace("\\x3a", ":") for line in listing if line[0] == "uid" and len(line) > 9 and DEVELOPMENT_KEY_RE.search(line[9])]
    if development:
        report.refused("key", allow_development_key, "KEY_DEVELOPMENT", PUBLIC_KEY, "signed with a DEVELOPMENT key (%s): its private half is public, "
                       "anyone can sign with it" % development[0], "--allow-development-key")
        if not allow_development_key:
            return actual
    if tofu:
        sys.stderr.write("NOTE: trust on first use (--tofu): accepting the key %s named in %s. It is not pinned: compare it "
                         "with the fingerprint the project publishes elsewhere, then use --fingerprint.\n" % (actual, FINGERPRINT))
        report.passed("key", PUBLIC_KEY, "fingerprint %s, trusted on first use (--tofu) from %s, not pinned" % (actual, FINGERPRINT))
    else:
        report.passed("key", PUBLIC_KEY, "fingerprint %s equals the pinned one" % actual)
    return actual


def _revocation(gpg: Gpg, listing: list) -> tuple | None:
    """(date, reason) of the imported key's own revocation in force (the latest), or None when it is not revoked.

    gpg drops a revocation that does not verify on import; `--check-sigs` marks the ones it kept `!`.
    """
    if not any(line[0] == "pub" and len(line) > 1 and line[1] == "r" for line in listing):
        return None
    latest = None
    for line in _colon_listing(gpg, ["--with-colons", "--fixed-list-mode", "--check-sigs"]):
        if line[0] != "rev" or len(line) <= 10 or line[1] != "!" or not line[10].startswith("20") or not line[5].isdigit():
            continue
        if latest is None or int(line[5]) > int(latest[5]):
            latest = line
    if latest is None:
        return ("an unknown date", "no reason given")
    code = latest[10].partition(",")[2]
    reason = int(code, 16) if re.fullmatch(r"[0-9a-fA-F]{2}", code) else 0
    when = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(int(latest[5])))
    return (when, REVOCATION_REASONS.get(reason, "reason code %d" % reason))


def _colon_listing(gpg: Gpg, args: list) -> list:
    """gpg --with-colons output as field lists (the status-fd lines are left out)."""
    command = [gpg.binary, "--homedir", gpg.home, "--batch", "--no-tty", "--no-autostart", "--no-options"] + args
    try:
        done = subprocess.run(command, env=gpg.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=GPG_TIMEOUT)
    except (subprocess.TimeoutExpired, OSError):
        return []
    return [line.split(":") for line in done.stdout.decode("utf-8", "replace").splitlines() if ":" in line]


def _gpg_complaint(stderr: str) -> str:
    """The gist of gpg's stderr, on one line."""
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    return "; ".join(lines[-3:]) if lines else "no message"


def required_signed_files(root: str, files: list) -> list:
    """The files that must have a `.asc` (docs/release-format.md, check `signature`)."""
    required = [SUMS, META, PROVENANCE]
    required += [f for f in files if "/" not in f and SBOM_RE.fullmatch(f)]
    if CONFORMANCE_RESULTS in files:
        required.append(CONFORMANCE_RESULTS)
    return sorted(set(required), key=utf8_key)


def check_signatures(report: Report, ctx: Context) -> None:
    """The `signature` check: every .asc verifies with the pinned key; the required ones exist."""
    if ctx.unsigned:
        report.skipped("signature", "the release is unsigned")
        return
    root, files, gpg, fingerprint = ctx.root, ctx.files, ctx.gpg, ctx.fingerprint
    present = set(files)
    for target in required_signed_files(root, files):
        if target + ".asc" not in present:
            why = "%s has no detached signature" % target
            if target not in present:
                why += " (and %s itself is missing)" % target
            report.failed("signature", "SIGNATURE_MISSING", target + ".asc", why)
    signatures = [f for f in files if f.endswith(".asc") and f != PUBLIC_KEY]
    if fingerprint is None or gpg is None:
        report.skipped("signature", "%d signature(s) not verified: no trusted key (see the key check)" % len(signatures))
        return
    for asc in signatures:
        verify_one(report, root, asc, gpg, fingerprint)


def verify_one(report: Report, root: str, asc: str, gpg: Gpg, fingerprint: str) -> None:
    """Verifies one detached signature `asc` over the file it names."""
    target = asc[: -len(".asc")]
    asc_path = os.path.join(root, asc)
    target_path = os.path.join(root, target)
    if not is_regular_file(asc_path):
        report.failed("signature", "SIGNATURE_BAD", asc, "not a regular file")
        return
    if target == "" or target.endswith("/") or not is_regular_file(target_path):
        report.failed("signature", "SIGNATURE_BAD", asc, "signs %s, which is not in the release" % (target or "nothing"))
        return
    try:
        data = read_capped(asc_path, MAX_SIGNATURE_BYTES)
        kinds, tags = openpgp_packets(data)
    except (OSError, ValueError) as err:
        report.failed("signature", "SIGNATURE_BAD", asc, "not a readable OpenPGP signature: %s" % err)
        return
    if not kinds:
        report.failed("signature", "SIGNATURE_BAD", asc, "not ASCII-armoured: a .asc of the release is one armoured PGP SIGNATURE block")
        return
    if not tags or any(t != 2 for t in tags) or any(k != "SIGNATURE" for k in kinds):
        report.failed("signature", "SIGNATURE_BAD", asc, "not a detached signature (it holds OpenPGP packets of types %s)"
                      % ", ".join(str(t) for t in sorted(set(tags))) if tags else "holds no OpenPGP signature")
        return
    if len(tags) != 1:
        report.failed("signature", "SIGNATURE_BAD", asc, "it holds %d signature packets; a .asc of the release holds exactly one" % len(tags))
        return
    code, status, stderr = gpg.run(["--verify", "--", asc_path, target_path])
    keywords = [s[0] for s in status]
    bad = [s for s in status if s[0] in ("BADSIG", "ERRSIG", "REVKEYSIG", "NO_PUBKEY", "FAILURE", "NODATA", "UNEXPECTED", "BADARMOR")]
    valid = [s for s in status if s[0] == "VALIDSIG"]
    if bad or not valid or code != 0 or keywords.count("NEWSIG") != len(valid):
        if any(s[0] == "BADSIG" for s in status):
            why = "does not verify over %s: the file or the signature was changed (gpg: BADSIG)" % target
        elif any(s[0] in ("ERRSIG", "NO_PUBKEY") for s in status):
            why = "cannot be checked with the release key %s (gpg: ERRSIG, made by another key or unreadable)" % fingerprint
        elif any(s[0] == "REVKEYSIG" for s in status):
            why = "made by a revoked key (gpg: REVKEYSIG)"
        elif any(s[0] in ("NODATA", "BADARMOR") for s in status):
            why = "gpg finds no readable signature in it (corrupt or not OpenPGP)"
        else:
            why = "gpg does not accept it (exit %d): %s" % (code, _gpg_complaint(stderr))
        report.failed("signature", "SIGNATURE_BAD", asc, why)
        return
    for s in valid:
        primary = s[10].upper() if len(s) > 10 else s[1].upper()
        sig_class = s[9] if len(s) > 9 else ""
        if primary != fingerprint:
            report.failed("signature", "SIGNATURE_BAD", asc, "made by key %s, not the pinned %s" % (primary, fingerprint))
            return
        if sig_class != "00":
            report.failed("signature", "SIGNATURE_BAD", asc, "signature class %s; expected 00 (a binary document signature)" % sig_class)
            return
        if len(s) > 8 and s[8] in WEAK_HASHES:
            report.failed("signature", "SIGNATURE_BAD", asc, "made with the broken hash algorithm %s" % WEAK_HASHES[s[8]])
            return
    report.passed("signature", asc, "verifies over %s with %s" % (target, fingerprint))


# --------------------------------------------------------------------------
# DSSE envelopes (docs/release-format.md, check `dsse`), as packages/verify/src/lib/release.ts
# --------------------------------------------------------------------------

DSSE_PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
SPDX_DOCUMENT_V23 = "https://spdx.dev/Document/v2.3"
CYCLONEDX_BOM = "https://cyclonedx.org/bom"
# The predicateType of an SBOM envelope's Statement, by the SBOM's format (SBOM_PREDICATE_TYPES in packages/format).
SBOM_PREDICATE_TYPES = {"spdx": SPDX_DOCUMENT_V23, "cyclonedx": CYCLONEDX_BOM}
MAX_PEM_BYTES = 1024 * 1024
ED25519_OID = bytes.fromhex("2b06010401da470f01")  # 1.3.6.1.4.1.11591.15.1, EdDSA legacy over Ed25519
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
PEM_RE = re.compile(r"-----BEGIN PUBLIC KEY-----\n((?:[A-Za-z0-9+/=]{1,64}\n)+)-----END PUBLIC KEY-----\n")


def _der(tag: int, content: bytes) -> bytes:
    """One DER TLV."""
    n = len(content)
    if n < 128:
        return bytes([tag, n]) + content
    length = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _der_int(value: int) -> bytes:
    data = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return _der(0x02, b"\x00" + data if data[0] & 0x80 else data)


def _mpi(body: bytes, pos: int) -> tuple:
    """(bytes, next position) of the OpenPGP MPI at `pos`; ValueError when it runs past the end."""
    if pos + 2 > len(body):
        raise ValueError("truncated MPI")
    length = (int.from_bytes(body[pos : pos + 2], "big") + 7) // 8
    if pos + 2 + length > len(body):
        raise ValueError("truncated MPI")
    return body[pos + 2 : pos + 2 + length], pos + 2 + length


def key_material(body: bytes):
    """(scheme, public values, SubjectPublicKeyInfo DER) of a v4 public (sub)key packet body, or None for
    another version or algorithm: EdDSA legacy over Ed25519 (22) and Ed25519 (27), or RSA (1, 3)."""
    if len(body) < 6 or body[0] != 4:
        return None
    algo = body[5]
    try:
        if algo in (1, 3):
            n, pos = _mpi(body, 6)
            e, pos = _mpi(body, pos)
            n_int, e_int = int.from_bytes(n, "big"), int.from_bytes(e, "big")
            algorithm = _der(0x30, bytes.fromhex("06092a864886f70d010101") + b"\x05\x00")
            spki = _der(0x30, algorithm + _der(0x03, b"\x00" + _der(0x30, _der_int(n_int) + _der_int(e_int))))
            return ("rsa", (n_int, e_int), spki)
        if algo == 22:
            oid = body[7 : 7 + body[6]]
            if oid != ED25519_OID:
                return None
            q, _pos = _mpi(body, 7 + body[6])
            if len(q) != 33 or q[0] != 0x40:
                return None
            return ("ed25519", q[1:], ED25519_SPKI_PREFIX + q[1:])
        if algo == 27 and len(body) >= 38:
            return ("ed25519", body[6:38], ED25519_SPKI_PREFIX + body[6:38])
    except (ValueError, IndexError):
        return None
    return None


def dsse_signers(root: str, gpg: Gpg) -> dict:
    """The signing (sub)keys of the imported release key that are Ed25519 or RSA, by keyid (lower-case fingerprint).

    A key signs when gpg lists it with the capability `s` and not revoked or invalid (time aside: a DSSE
    signature states no time, and each signature of the release is judged as of when it was made).
    """
    listing = _colon_listing(gpg, ["--with-colons", "--fixed-list-mode", "--list-keys"])
    signing = set()
    for index, line in enumerate(listing):
        if line[0] in ("pub", "sub") and len(line) > 11 and "s" in line[11] and line[1] not in ("r", "i"):
            after = [l for l in listing[index + 1 :] if l[0] == "fpr"]
            if after and len(after[0]) > 9:
                signing.add(after[0][9].lower())
    try:
        blocks = dearmor(read_capped(os.path.join(root, PUBLIC_KEY), MAX_KEY_BYTES))
        found = [p for _kind, binary in blocks for p in packets(binary)]
    except (OSError, ValueError):
        return {}
    signers = {}
    for tag, body in found:
        if tag not in (6, 14) or len(body) > 0xFFFF:
            continue
        fpr = hashlib.sha1(b"\x99" + len(body).to_bytes(2, "big") + body).hexdigest()
        material = key_material(body)
        if fpr in signing and material is not None:
            signers[fpr] = material
    return signers


def rsa_pkcs1v15_sha256_verify(n: int, e: int, signature: bytes, message: bytes) -> bool:
    """RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2.2): s^e mod n is 00 01 FF.. 00 DigestInfo(sha256(message))."""
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, "big")
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, "big")
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    if k < len(t) + 11:
        return False
    return em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


def dsse_pae(payload_type: bytes, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type, len(payload), payload)


def dsse_signature_valid(material: tuple, data: bytes, signature: bytes) -> bool:
    scheme, values, _spki = material
    if scheme == "ed25519":
        return ed25519_verify(values, signature, data)
    return rsa_pkcs1v15_sha256_verify(values[0], values[1], signature, data)


def dsse_target_kind(target: str) -> str | None:
    """What the envelope of `target` attests, by the file's role (dsseTargetKind in packages/format)."""
    if target == PROVENANCE:
        return "provenance"
    if target == CONFORMANCE_RESULTS:
        return "conformance"
    if SBOM_RE.fullmatch(posixpath.basename(target)):
        return "sbom"
    return None


def required_envelope_files(files: list) -> list:
    """The files that must have a `.dsse.json`: the provenance, the conformance results and every top-level SBOM."""
    required = [PROVENANCE] + [f for f in files if "/" not in f and SBOM_RE.fullmatch(f)]
    if CONFORMANCE_RESULTS in files:
        required.append(CONFORMANCE_RESULTS)
    return sorted(set(required), key=utf8_key)


def canonical_base64(text: str) -> bytes | None:
    """The bytes of strict, canonical standard base64, or None."""
    if not re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", text) or len(text) % 4:
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def parse_envelope(text: str):
    """(payloadType, keyid, payload, sig) of the envelope `text`, or a string saying why it is not one (parseDsseEnvelope)."""
    try:
        value = parse_json_strictly(text, unique_keys=True)
    except RecursionError:
        return "not JSON: nested too deeply"
    except ValueError as err:
        return "not JSON: %s" % err
    if not isinstance(value, dict) or sorted(value) != ["payload", "payloadType", "signatures"]:
        return "not a DSSE envelope: an object of exactly payload, payloadType and signatures"
    if not isinstance(value["payload"], str) or not isinstance(value["payloadType"], str):
        return "payload and payloadType must be strings"
    payload = canonical_base64(value["payload"])
    if payload is None:
        return "payload is not canonical base64"
    sigs = value["signatures"]
    if not isinstance(sigs, list) or len(sigs) != 1:
        return "signatures must hold exactly one signature"
    one = sigs[0]
    if not isinstance(one, dict) or sorted(one) != ["keyid", "sig"] or not isinstance(one["keyid"], str) or not isinstance(one["sig"], str):
        return "the signature must be an object of exactly keyid and sig, both strings"
    sig = canonical_base64(one["sig"])
    if not sig:
        return "sig is not canonical base64"
    return (value["payloadType"], one["keyid"], payload, sig)


def json_equal(a, b) -> bool:
    """Equal JSON values as JavaScript reads them (numbers as doubles; true is no number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float, decimal.Decimal)) and isinstance(b, (int, float, decimal.Decimal)):
        return float(a) == float(b)
    if isinstance(a, (int, float, decimal.Decimal)) or isinstance(b, (int, float, decimal.Decimal)):
        return False
    if isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, list) or isinstance(b, list):
        return isinstance(a, list) and isinstance(b, list) and len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return sorted(a) == sorted(b) and all(json_equal(a[k], b[k]) for k in a)
    return False


def read_sums_loose(root: str):
    """SHA256SUMS.txt's [(path, sha256)], or None when it is missing or malformed (the sums check says which)."""
    path = os.path.join(root, SUMS)
    if not is_regular_file(path):
        return None
    try:
        return parse_sums(read_capped(path, 64 * 1024 * 1024).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None


def sbom_binding_problem(root: str, target: str, payload: bytes, sums: list) -> str | None:
    """Why the SBOM envelope's payload does not bind `target`, or None (sbomBindingProblem in the TypeScript verifier)."""
    try:
        statement = parse_json_strictly(payload.decode("utf-8"), unique_keys=True)
    except (ValueError, RecursionError, UnicodeDecodeError):
        return "its payload is not a JSON Statement (UTF-8, every key once)"
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    fmt = sbom_format(posixpath.basename(target)) or "spdx"
    predicate_type = SBOM_PREDICATE_TYPES[fmt]
    if (not isinstance(statement, dict) or statement.get("_type") != STATEMENT_V1 or statement.get("predicateType") != predicate_type
            or not isinstance(subjects, list) or len(subjects) != 1):
        return "its payload is not an in-toto Statement v1 (%s) with predicateType %s and one subject" % (STATEMENT_V1, predicate_type)
    subject = subjects[0]
    name = subject.get("name") if isinstance(subject, dict) else None
    digest = subject.get("digest") if isinstance(subject, dict) else None
    digest = digest.get("sha256") if isinstance(digest, dict) else None
    if not isinstance(name, str) or not isinstance(digest, str):
        return "its subject needs a name and a digest.sha256"
    listed = dict(sums)
    if name not in listed or sbom_name(name, fmt) != posixpath.basename(target):
        return "its subject %s is not the file of %s that %s describes" % (json.dumps(name, ensure_ascii=False), SUMS, target)
    if listed[name] != digest:
        return "its subject %s has sha256 %s, %s says %s" % (name, digest, SUMS, listed[name])
    try:
        document = load_json(os.path.join(root, target))
    except ValueError:
        return "%s is not JSON (UTF-8, every key once): no predicate can equal it" % target
    try:
        same = "predicate" in statement and json_equal(document, statement["predicate"])
    except RecursionError:
        same = False  # nested deeper than the stack: not shown equal
    if not same:
        return "its predicate is not the document in %s" % target
    return None


def check_pem(report: Report, root: str, signers: dict) -> None:
    """release-signing-public-key.pem holds a signing key of the pinned key (checkPem in the TypeScript verifier)."""
    path = os.path.join(root, PUBLIC_KEY_PEM)
    kind = not_regular(path) if os.path.lexists(path) else "missing"
    if kind == "missing":
        report.failed("dsse", "DSSE_MISSING", PUBLIC_KEY_PEM, "missing; it holds the key of the DSSE envelopes (the signing key of %s)" % PUBLIC_KEY)
        return
    if kind:
        report.failed("dsse", "DSSE_INVALID", PUBLIC_KEY_PEM, "is %s, not a regular file" % kind)
        return
    if os.lstat(path).st_size > MAX_PEM_BYTES:
        report.failed("dsse", "DSSE_INVALID", PUBLIC_KEY_PEM, "larger than %d bytes: not a PEM public key" % MAX_PEM_BYTES)
        return
    match = PEM_RE.fullmatch(read_capped(path, MAX_PEM_BYTES).decode("latin-1"))
    der = canonical_base64(match.group(1).replace("\n", "")) if match else None
    if der is None:
        report.failed("dsse", "DSSE_INVALID", PUBLIC_KEY_PEM, 'not exactly one PEM "PUBLIC KEY" block (SubjectPublicKeyInfo, LF line endings)')
        return
    same = [keyid for keyid, material in signers.items() if material[2] == der]
    if not same:
        report.failed("dsse", "DSSE_MISMATCH", PUBLIC_KEY_PEM, "holds another key than the signing key of %s (%s)" % (PUBLIC_KEY, ", ".join(signers) or "none usable"))
        return
    report.passed("dsse", PUBLIC_KEY_PEM, "the signing key %s of %s" % (same[0], PUBLIC_KEY))


def check_envelope(report: Report, root: str, env: str, signers: dict, sums) -> None:
    """One envelope: well-formed, signed by the pinned key, binding its file (checkEnvelope in the TypeScript verifier)."""
    target = env[: -len(DSSE_SUFFIX)]
    kind = dsse_target_kind(target)
    env_path = os.path.join(root, env)
    target_path = os.path.join(root, target)
    env_kind = not_regular(env_path) if os.path.lexists(env_path) else "missing"
    if env_kind:
        report.failed("dsse", "DSSE_INVALID", env, "is %s, not a regular file" % env_kind)
        return
    if kind is None:
        report.failed("dsse", "DSSE_INVALID", env, "attests %s; a release has DSSE envelopes of its provenance, its conformance results "
                      "and its SBOMs only" % (target or "nothing"))
        return
    if not os.path.lexists(target_path) or not_regular(target_path):
        report.failed("dsse", "DSSE_MISMATCH", env, "attests %s, which is not in the release" % target)
        return
    if os.lstat(env_path).st_size > MAX_JSON_BYTES:
        report.failed("dsse", "DSSE_INVALID", env, "larger than %d bytes" % MAX_JSON_BYTES)
        return
    try:
        text = read_capped(env_path, MAX_JSON_BYTES).decode("utf-8")
    except UnicodeDecodeError:
        report.failed("dsse", "DSSE_INVALID", env, "not UTF-8")
        return
    parsed = parse_envelope(text)
    if isinstance(parsed, str):
        report.failed("dsse", "DSSE_INVALID", env, parsed)
        return
    payload_type, keyid, payload, sig = parsed
    if payload_type != DSSE_PAYLOAD_TYPE:
        report.failed("dsse", "DSSE_INVALID", env, "payloadType is %s, not %s" % (json.dumps(payload_type, ensure_ascii=False), DSSE_PAYLOAD_TYPE))
        return
    material = signers.get(keyid)
    if material is None:
        report.failed("dsse", "DSSE_BAD_SIGNATURE", env, "signed by keyid %s, which is no signing key of the pinned key (%s)"
                      % (json.dumps(keyid, ensure_ascii=False), ", ".join(signers) or "none usable"))
        return
    if not dsse_signature_valid(material, dsse_pae(payload_type.encode("utf-8"), payload), sig):
        report.failed("dsse", "DSSE_BAD_SIGNATURE", env, "its signature does not verify over its payload with %s: the envelope was changed" % keyid)
        return
    if kind == "sbom":
        lines = sums()
        if lines is None:
            report.skipped("dsse", "%s verifies, but is not bound to its artifact: %s is missing or malformed" % (env, SUMS))
            return
        problem = sbom_binding_problem(root, target, payload, lines)
        if problem:
            report.failed("dsse", "DSSE_MISMATCH", env, problem)
            return
    elif os.lstat(target_path).st_size != len(payload) or read_capped(target_path, len(payload)) != payload:
        report.failed("dsse", "DSSE_MISMATCH", env, "its payload is not the bytes of %s" % target)
        return
    report.passed("dsse", env, "%s, signed by %s" % ("a Statement about %s's artifact" % target if kind == "sbom" else target, keyid))


def check_dsse(report: Report, ctx: Context) -> None:
    """The `dsse` check: the required envelopes exist, each verifies with the pinned key and binds its file; the PEM is that key."""
    if ctx.unsigned:
        report.skipped("dsse", "the release is unsigned")
        return
    present = set(ctx.files)
    for target in required_envelope_files(ctx.files):
        if target + DSSE_SUFFIX not in present:
            why = "%s has no DSSE envelope" % target
            if target not in present:
                why += " (and %s itself is missing)" % target
            report.failed("dsse", "DSSE_MISSING", target + DSSE_SUFFIX, why)
    envelopes = sorted((f for f in ctx.files if f.endswith(DSSE_SUFFIX)), key=utf8_key)
    if ctx.fingerprint is None or ctx.gpg is None:
        report.skipped("dsse", "%d DSSE envelope(s) not verified: no trusted key (see the key check)" % len(envelopes))
        return
    signers = dsse_signers(ctx.root, ctx.gpg)
    check_pem(report, ctx.root, signers)
    cache = []

    def sums():
        if not cache:
            cache.append(read_sums_loose(ctx.root))
        return cache[0]

    for env in envelopes:
        check_envelope(report, ctx.root, env, signers, sums)


def plugin_files(root: str, files: list) -> list:
    """The release's plugin zips: the provenance's `plugin` subjects, and every plugins/**.zip."""
    found = set(f for f in files if f.startswith("plugins/") and f.endswith(".zip"))
    statement = None
    if is_regular_file(os.path.join(root, PROVENANCE)):
        try:
            statement = load_json(os.path.join(root, PROVENANCE))
        except ValueError:
            statement = None
    subjects = statement.get("subject") if isinstance(statement, dict) else None
    for subject in subjects if isinstance(subjects, list) else []:
        if not isinstance(subject, dict):
            continue
        annotations = subject.get("annotations")
        name = subject.get("name")
        if isinstance(annotations, dict) and annotations.get("helix.kind") == "plugin" and isinstance(name, str):
            found.add(name)
    return sorted(found, key=utf8_key)


def check_plugins(report: Report, ctx: Context) -> None:
    """The `plugin` check: with a trust store, every plugin zip of the release gives PLUGIN_OK."""
    root, files, trust = ctx.root, ctx.files, ctx.trust
    if trust is None:
        report.skipped("plugin", "no --trust-store given: the plugins' Ed25519 signatures are not checked")
        return
    plugins = plugin_files(root, files)
    if not plugins:
        report.skipped("plugin", "the release has no plugin")
        return
    for path in plugins:
        problem = release_path_problem(path)
        if problem:
            report.failed("plugin", "PLUGIN_MALFORMED", path, "not a release path (%s)" % problem)
            continue
        full = os.path.join(root, path)
        if not is_regular_file(full):
            report.failed("plugin", "PLUGIN_MALFORMED", path, "listed as a plugin but not a file of the release")
            continue
        verdict = verify_plugin_file(full, trust)
        plugin_line(report, path, verdict)
        # The signed plugin.json says which plugin and version this is: the file name must say the same.
        if verdict["code"] == "PLUGIN_OK" and posixpath.basename(path) != "%s-%s.zip" % (verdict["name"], verdict["version"]):
            report.failed("plugin", "VERSION_MISMATCH", path, "its signed plugin.json says %s %s: the file would be %s-%s.zip"
                          % (verdict["name"], verdict["version"], verdict["name"], verdict["version"]))


CHECKS = [
    ("key", check_key),
    ("signature", check_signatures),
    ("dsse", check_dsse),
    ("plugin", check_plugins),
]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list) -> argparse.Namespace:
    """The command line; argparse exits with status 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog="verify_release_signatures.py",
        description="Checks key, signature, dsse and (with --trust-store) plugin of a helix-release release folder "
        "(docs/release-format.md). Prints PASSED/FAILED/SKIPPED lines; exit 0 only when nothing FAILED, 2 on usage errors.",
    )
    add_folder_arguments(parser)
    pin = parser.add_mutually_exclusive_group()
    pin.add_argument("--fingerprint", metavar="FPR", help="the signing key's full fingerprint (40 hex digits), pinned")
    pin.add_argument("--tofu", action="store_true", help="trust on first use: accept release-signing-key-fingerprint.txt")
    parser.add_argument("--trust-store", metavar="FILE", help="helix-trust-store/v1 JSON: every plugin zip must verify against it")
    parser.add_argument("--check-plugin", metavar="ZIP", nargs="+",
                        help="only check these plugin zips against --trust-store (one line each; PLUGIN_OK passes; no gpg needed)")
    parser.add_argument("--allow-development-key", action="store_true",
                        help="accept a release signed with a DEVELOPMENT ONLY key (for testing): a WARN line instead of FAILED")
    parser.add_argument("--json", action="store_true", help="print a JSON array of {status, check, code, file, reason}")
    return parser.parse_args(argv)


def run(argv: list) -> int:
    """Runs the verifier; returns the exit status."""
    args = parse_args(argv)
    report = Report()
    trust = load_trust_store(args.trust_store) if args.trust_store else None

    if args.check_plugin:
        if trust is None:
            raise UsageError("--check-plugin needs --trust-store FILE")
        for path in args.check_plugin:
            plugin_line(report, path, verify_plugin_file(path, trust))
        report.emit(args.json)
        return 0 if report.ok else 1

    pinned = None
    if args.fingerprint is not None:
        pinned = normalise_fingerprint(args.fingerprint)
        if not FPR_RE.fullmatch(pinned):
            raise UsageError("--fingerprint must be the key's full fingerprint (40 hex digits), e.g. from the project's web site; got %r" % args.fingerprint)
    root = release_folder(args)
    if not os.path.isdir(root):
        raise UsageError("--dir %s: not a folder" % root)

    ctx = Context(root=root, files=list_files(root), pinned=pinned, tofu=args.tofu, trust=trust, allow_development_key=args.allow_development_key)
    try:
        if not ctx.unsigned and (pinned is not None or args.tofu):
            ctx.gpg = Gpg(find_gpg())
        status = run_checks(CHECKS, report, ctx)
    finally:
        if ctx.gpg is not None:
            ctx.gpg.close()
    report.emit(args.json)
    return status


if __name__ == "__main__":
    sys.exit(main("verify_release_signatures.py", run))
