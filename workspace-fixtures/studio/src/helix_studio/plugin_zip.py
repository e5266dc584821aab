"""Plugin zip verification: the Studio's side of the helix plugin format.

The format is specified in packages/plugin-zip/README.md. This module is the
second, independent implementation of the checks in packages/verify; the shared
table in workspace-fixtures/plugin-trust-cases/cases.json is run against both,
so the order of the checks below is part of the contract: the first failing
check decides the code.

Nothing here extracts anything. `verify_plugin_zip` works on the zip's bytes in
memory and returns the verified entry contents, so what is written to disk later
is exactly what was checked.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import json
import re
import stat
import struct
import unicodedata
import zlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_NAME = "SIGNATURE.ed25519"
SIGNATURE_HEADER = "helix-plugin-signature v1"
MANIFEST_HEADER = "helix-plugin-manifest v1"

# Zip-bomb bounds, documented in packages/plugin-zip/README.md.
MAX_ENTRIES = 10_000
MAX_TOTAL_UNCOMPRESSED = 256 * 1024 * 1024
# No plugin zip is larger (its entries hold at most MAX_TOTAL_UNCOMPRESSED bytes); the loader checks it before reading.
MAX_PLUGIN_FILE_BYTES = 2 * MAX_TOTAL_UNCOMPRESSED
MAX_ENTRY_UNCOMPRESSED = 64 * 1024 * 1024
RATIO_CHECK_MIN_SIZE = 1024 * 1024
MAX_RATIO = 100
# plugin.json may nest objects and arrays this deep at most (json's parser recurses).
MAX_METADATA_DEPTH = 64
# Entry names: UTF-8 bytes of the whole name and of each component (what every file system holds).
MAX_NAME_BYTES = 1024
MAX_COMPONENT_BYTES = 255
# A trust store is read whole, up to this size (as the other verifiers do).
MAX_TRUST_STORE_BYTES = 16 * 1024 * 1024
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
    """A plugin zip failed a check; `code` is shared with the TypeScript verifier."""

    def __init__(self, code: str, entry: str | None, reason: str) -> None:
        self.code = code
        self.entry = entry
        self.reason = reason
        where = f"{entry}: " if entry else ""
        super().__init__(f"{code}: {where}{reason}")


# Ed25519 public key checks (edwards25519, a = -1). `cryptography` verifies the
# signatures; it does not refuse degenerate keys, so the trust store does.
_P = 2**255 - 19
_L = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P


def _edwards_add(p1: tuple[int, int], p2: tuple[int, int]) -> tuple[int, int]:
    """Sum of two affine points: x3 = (x1 y2 + y1 x2) / (1 + d x1 x2 y1 y2), y3 = (y1 y2 + x1 x2) / (1 - d x1 x2 y1 y2)."""
    (x1, y1), (x2, y2) = p1, p2
    t = _D * x1 * x2 * y1 * y2 % _P
    return ((x1 * y2 + y1 * x2) * pow(1 + t, _P - 2, _P) % _P, (y1 * y2 + x1 * x2) * pow(1 - t, _P - 2, _P) % _P)


def _edwards_multiply(n: int, point: tuple[int, int]) -> tuple[int, int]:
    acc = (0, 1)
    for i in range(n.bit_length() - 1, -1, -1):
        acc = _edwards_add(acc, acc)
        if (n >> i) & 1:
            acc = _edwards_add(acc, point)
    return acc


def public_key_fault(raw: bytes) -> str | None:
    """Why a trust-store key must not be trusted, or None (as publicKeyFault in packages/verify).

    Refused: an encoding that is not the canonical one of a curve point; a point
    of small order (with one, a signature made without any private key verifies
    for any content); a point with a small-order component (no key pair makes one).
    """
    value = int.from_bytes(raw, "little")
    sign, y = value >> 255, value & ((1 << 255) - 1)
    point = None
    if y < _P:
        # x^2 = (y^2 - 1) / (d y^2 + 1); p = 5 (mod 8), so a root is w^((p+3)/8), times sqrt(-1) if need be.
        xx = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
        x = pow(xx, (_P + 3) // 8, _P)
        if x * x % _P != xx:
            x = x * pow(2, (_P - 1) // 4, _P) % _P
        if x * x % _P == xx and not (x == 0 and sign == 1):
            point = (x if x & 1 == sign else (_P - x) % _P, y)
    if point is None:
        return "not the canonical encoding of a curve point"
    if _edwards_multiply(8, point) == (0, 1):
        return "a point of small order (a degenerate key: a signature made without any private key would verify)"
    if _edwards_multiply(_L, point) != (0, 1):
        return "not in the prime-order subgroup (it has a small-order component; no key pair makes one)"
    return None


def _unique_pairs(pairs: list) -> dict:
    """A JSON object whose keys are unique (a trust store and plugin.json are read as the other verifiers read them)."""
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"the key {json.dumps(key)} is given twice in one object")
        seen[key] = value
    return seen


@dataclass
class TrustStore:
    """Named Ed25519 public keys (raw 32 bytes each)."""

    keys: dict[str, bytes] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> "TrustStore":
        """Reads a trust store JSON file (format in packages/plugin-zip/README.md)."""
        try:
            with open(path, "rb") as handle:
                # UTF-8 without a byte-order mark, as the other verifiers read it (json.load would guess UTF-16 too).
                text = handle.read(MAX_TRUST_STORE_BYTES + 1)
            if len(text) > MAX_TRUST_STORE_BYTES:
                raise ValueError(f"larger than {MAX_TRUST_STORE_BYTES // (1024 * 1024)} MiB")
            data = json.loads(text.decode("utf-8"), object_pairs_hook=_unique_pairs)
        except RecursionError:
            raise ValueError(f"{path}: cannot read trust store: nested too deeply") from None
        except UnicodeDecodeError:
            raise ValueError(f"{path}: cannot read trust store: not UTF-8") from None
        except (OSError, ValueError) as err:
            raise ValueError(f"{path}: cannot read trust store: {err}") from err
        if not isinstance(data, dict) or data.get("schema") != "helix-trust-store/v1":
            raise ValueError(f'{path}: not a trust store (expected "schema": "helix-trust-store/v1")')
        items = data.get("keys", [])
        if not isinstance(items, list):
            raise ValueError(f"{path}: keys must be an array")
        keys: dict[str, bytes] = {}
        for index, item in enumerate(items):
            name = item.get("name") if isinstance(item, dict) else None
            encoded = item.get("ed25519") if isinstance(item, dict) else None
            if not isinstance(name, str) or not isinstance(encoded, str):
                raise ValueError(f"{path}: keys[{index}] needs string fields name and ed25519")
            try:
                raw = base64.b64decode(encoded, validate=True)
            except binascii.Error as err:
                raise ValueError(f"{path}: keys[{index}] ({name}): ed25519 is not base64") from err
            if len(raw) != 32:
                raise ValueError(f"{path}: keys[{index}] ({name}): ed25519 key must be 32 bytes, got {len(raw)}")
            fault = public_key_fault(raw)
            if fault:
                raise ValueError(f"{path}: keys[{index}] ({name}): ed25519 key is {fault}; remove it and ask its owner for their real public key")
            if name in keys:
                raise ValueError(f"{path}: keys[{index}]: duplicate key name {name!r}")
            keys[name] = raw
        return cls(keys)


@dataclass
class VerifiedPlugin:
    """The outcome of a verification that found nothing structurally wrong."""

    name: str
    version: str
    entry: str
    files: dict[str, bytes]
    executable: set[str]
    # "PLUGIN_OK" when signed by a trusted key and intact; otherwise the code of
    # the trust problem (unsigned, untrusted key, bad signature, contents not as
    # signed), which the caller's policy decides on.
    trust_code: str
    trust_reason: str
    key_name: str | None


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
        return f"name longer than {MAX_NAME_BYTES} bytes"
    if any(len(part.encode("utf-8")) > MAX_COMPONENT_BYTES for part in parts):
        return f"a name component longer than {MAX_COMPONENT_BYTES} bytes"
    return None


@dataclass
class _Entry:
    name: str
    method: int
    flags: int
    crc: int
    compressed_size: int
    file_size: int
    header_offset: int
    unix_mode: int | None
    raw: bytes = b""
    external: int = 0


def _read_directory(data: bytes) -> list[_Entry]:
    """Reads the central directory straight from the bytes.

    zipfile is not used on purpose: it normalises names, tolerates entries
    that inflate past their declared size and reads lazily; a verifier needs
    the raw records, judged before anything is extracted.
    """
    # The last signature with room for a whole 22-byte record after it (a comment may hold the bytes too).
    end = _end_record(data)
    if end < 0 or len(data) - end < 22:
        raise PluginRejected("PLUGIN_MALFORMED", None, "not a readable zip: no end-of-central-directory record")
    disk, cd_disk, count_here, count, cd_size, cd_offset = struct.unpack("<HHHHII", data[end + 4 : end + 20])
    if count == 0xFFFF or cd_size == 0xFFFFFFFF or cd_offset == 0xFFFFFFFF:
        raise PluginRejected("PLUGIN_MALFORMED", None, "ZIP64 archives are not supported")
    if disk != 0 or cd_disk != 0 or count_here != count:
        raise PluginRejected("PLUGIN_MALFORMED", None, "multi-disk archives are not supported")
    if cd_offset + cd_size > end:
        raise PluginRejected("PLUGIN_MALFORMED", None, "central directory runs past its end record")
    entries: list[_Entry] = []
    pos = cd_offset
    for index in range(count):
        if pos + 46 > end or data[pos : pos + 4] != b"PK\x01\x02":
            raise PluginRejected("PLUGIN_MALFORMED", None, f"central directory record {index} is corrupt")
        made_by, _needed, flags, method = struct.unpack("<HHHH", data[pos + 4 : pos + 12])
        crc, compressed_size, file_size, name_len, extra_len, comment_len = struct.unpack("<IIIHHH", data[pos + 16 : pos + 34])
        external, header_offset = struct.unpack("<II", data[pos + 38 : pos + 46])
        if pos + 46 + name_len + extra_len + comment_len > end:
            raise PluginRejected("PLUGIN_MALFORMED", None, f"central directory record {index} is truncated")
        raw = data[pos + 46 : pos + 46 + name_len]
        if flags & 0x800:
            try:
                name = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise PluginRejected("PLUGIN_MALFORMED", None, f"entry {index} has an invalid UTF-8 name") from err
        elif all(byte < 0x80 for byte in raw):
            name = raw.decode("ascii")
        else:
            raise PluginRejected("PLUGIN_MALFORMED", None, f"entry {index} has a non-ASCII name without the UTF-8 flag")
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


def _read_entry(data: bytes, entry: _Entry) -> bytes:
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
    raw = data[begin : begin + entry.compressed_size]
    if entry.method == 0:
        content = raw
    elif entry.method == 8:
        try:
            inflater = zlib.decompressobj(-15)
            content = inflater.decompress(raw, entry.file_size + 1)
        except zlib.error as err:
            raise PluginRejected("PLUGIN_MALFORMED", entry.name, "bad deflate data") from err
        if len(content) <= entry.file_size and not inflater.eof:
            raise PluginRejected("PLUGIN_MALFORMED", entry.name, "bad deflate data: the stream ends early")
    else:
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, f"compression method {entry.method} is not supported")
    if len(content) > entry.file_size:
        raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "inflates to more than its declared size")
    if len(content) != entry.file_size:
        raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, "holds fewer bytes than it declares")
    if zlib.crc32(content) & 0xFFFFFFFF != entry.crc:
        raise PluginRejected("PLUGIN_MALFORMED", entry.name, "CRC-32 mismatch (corrupt or tampered)")
    return content


def parse_signature_file(text: str) -> tuple[str, bytes, bytes, list[tuple[str, str]]]:
    """Splits SIGNATURE.ed25519 into (key name, signature, signed bytes, manifest)."""
    head, sep, signed = text.partition("\n\n")
    if not sep:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "no blank line between header and manifest")
    lines = head.split("\n")
    if len(lines) != 3 or lines[0] != SIGNATURE_HEADER:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, f"header must be '{SIGNATURE_HEADER}', key and ed25519 lines")
    if not lines[1].startswith("key: ") or not lines[2].startswith("ed25519: "):
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "expected 'key: <name>' then 'ed25519: <base64>'")
    key_name = lines[1][len("key: ") :]
    try:
        signature = base64.b64decode(lines[2][len("ed25519: ") :], validate=True)
    except ValueError as err:  # binascii.Error, or non-ASCII characters
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "signature is not base64") from err
    if len(signature) != 64:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "an Ed25519 signature is 64 bytes")
    manifest_lines = signed.split("\n")
    if manifest_lines[0] != MANIFEST_HEADER or manifest_lines[-1] != "":
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, f"manifest must start with '{MANIFEST_HEADER}' and end with a newline")
    manifest: list[tuple[str, str]] = []
    for line in manifest_lines[1:-1]:
        digest, sep2, path = line.partition("  ")
        if not sep2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or not path:
            raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, f"bad manifest line {line!r}")
        manifest.append((path, digest))
    paths = [path for path, _ in manifest]
    if paths != sorted(paths, key=lambda p: p.encode("utf-8")) or len(set(paths)) != len(paths):
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "manifest paths must be unique and sorted by byte value")
    return key_name, signature, signed.encode("utf-8"), manifest


def verify_plugin_zip(data: bytes, trust: TrustStore) -> VerifiedPlugin:
    """Checks a plugin zip held in memory; raises PluginRejected on a structural fault.

    Trust problems (unsigned, untrusted key, bad signature, contents that differ
    from the signed manifest) do not raise: they are reported in `trust_code`
    so that the loader's policy can decide.
    """
    if len(data) > MAX_PLUGIN_FILE_BYTES:
        raise PluginRejected("PLUGIN_ZIP_BOMB", None, f"{len(data)} bytes: larger than any plugin zip can be (limit {MAX_PLUGIN_FILE_BYTES})")
    entries = _read_directory(data)
    if len(entries) > MAX_ENTRIES:
        raise PluginRejected("PLUGIN_ZIP_BOMB", None, f"{len(entries)} entries (limit {MAX_ENTRIES})")
    # Every reader must see the entries that are signed: a hand unzip reads local headers.
    layout = _layout_problem(data, entries)
    if layout:
        raise PluginRejected(layout[0], layout[1], "other zip readers would see other entries: " + layout[2])

    seen: set[str] = set()
    folded: dict[str, str] = {}
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
            raise PluginRejected("PLUGIN_DUPLICATE_ENTRY", name, f"differs from {folded[key]!r} only in case or Unicode normalisation")
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
            raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, f"{entry.file_size} bytes uncompressed (limit {MAX_ENTRY_UNCOMPRESSED})")
        if entry.file_size > RATIO_CHECK_MIN_SIZE and entry.file_size > MAX_RATIO * max(entry.compressed_size, 1):
            raise PluginRejected("PLUGIN_ZIP_BOMB", entry.name, f"compression ratio over {MAX_RATIO}:1")
    if total > MAX_TOTAL_UNCOMPRESSED:
        raise PluginRejected("PLUGIN_ZIP_BOMB", None, f"{total} bytes uncompressed in all (limit {MAX_TOTAL_UNCOMPRESSED})")

    files: dict[str, bytes] = {}
    executable: set[str] = set()
    for entry in entries:
        files[entry.name] = _read_entry(data, entry)
        if entry.unix_mode is not None and entry.unix_mode & 0o100:
            executable.add(entry.name)

    trust_code, trust_reason, key_name = _check_trust(files, trust)

    meta_bytes = files.get("plugin.json")
    if meta_bytes is None:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", "missing")
    try:
        # Strict JSON, as JSON.parse reads it: no NaN/Infinity, no limit on integer digits; and no key
        # given twice in one object, at any depth (readers differ on which one wins).
        meta = json.loads(meta_bytes.decode("utf-8"), parse_constant=_reject_constant, parse_int=decimal.Decimal, object_pairs_hook=_unique_pairs)
    except RecursionError as err:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", f"nested deeper than {MAX_METADATA_DEPTH} levels") from err
    except (UnicodeDecodeError, ValueError) as err:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", f"not JSON: {err}") from err
    if _nesting_depth(meta) > MAX_METADATA_DEPTH:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", f"nested deeper than {MAX_METADATA_DEPTH} levels")
    problem = check_plugin_metadata(meta, files)
    if problem:
        raise PluginRejected("PLUGIN_BAD_METADATA", "plugin.json", problem)

    files.pop(SIGNATURE_NAME, None)
    executable.discard(SIGNATURE_NAME)
    return VerifiedPlugin(meta["name"], meta["version"], meta["entry"], files, executable, trust_code, trust_reason, key_name)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _nesting_depth(value: object) -> int:
    """How deep `value` nests dicts and lists (a scalar is 0, {} is 1); iterative."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
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


def _check_trust(files: dict[str, bytes], trust: TrustStore) -> tuple[str, str, str | None]:
    raw = files.get(SIGNATURE_NAME)
    if raw is None:
        return "PLUGIN_UNSIGNED", f"no {SIGNATURE_NAME} in the zip", None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PluginRejected("PLUGIN_MALFORMED", SIGNATURE_NAME, "not UTF-8") from err
    key_name, signature, signed, manifest = parse_signature_file(text)
    public = trust.keys.get(key_name)
    if public is None:
        return "PLUGIN_UNTRUSTED_KEY", f"signed by key {key_name!r}, which is not in the trust store", key_name
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, signed)
    except InvalidSignature:
        return "PLUGIN_BAD_SIGNATURE", f"signature does not verify with key {key_name!r}", key_name
    listed = dict(manifest)
    for name in sorted(files, key=lambda n: n.encode("utf-8")):
        if name != SIGNATURE_NAME and name not in listed:
            raise PluginRejected("PLUGIN_NOT_IN_MANIFEST", name, "entry is not listed in the signed manifest")
    for path, digest in manifest:
        if path not in files:
            return "PLUGIN_MISSING_ENTRY", f"{path}: listed in the signed manifest but not in the zip", key_name
        if hashlib.sha256(files[path]).hexdigest() != digest:
            return "PLUGIN_DIGEST_MISMATCH", f"{path}: contents differ from the signed manifest", key_name
    return "PLUGIN_OK", f"signed by trusted key {key_name!r}", key_name
