"""What tools/verify_release_signatures.py and tools/verify_release_provenance.py share.

Shipped beside them in the release's tools/ folder and imported from there
(each tool puts its own folder first on sys.path and turns off bytecode
writing, so no __pycache__/ appears in a release). Python 3 standard library
only: the release names, the output (Report, printable), safe reading of
release files, strict JSON, and the small runner of a tool's list of checks.
"""

from __future__ import annotations

import decimal
import json
import os
import re
import stat
import sys
import unicodedata

# --------------------------------------------------------------------------
# Release layout (docs/release-format.md)
# --------------------------------------------------------------------------

SUMS = "SHA256SUMS.txt"
META = "BUILD_META.txt"
PROVENANCE = "release-provenance.intoto.json"
PUBLIC_KEY = "release-signing-public-key.asc"
# The signing (sub)key as SubjectPublicKeyInfo PEM, the key of the DSSE envelopes.
PUBLIC_KEY_PEM = "release-signing-public-key.pem"
# A DSSE envelope of <file> is <file>.dsse.json (made after the sums, so never listed in them, like a .asc).
DSSE_SUFFIX = ".dsse.json"
FINGERPRINT = "release-signing-key-fingerprint.txt"
CONFORMANCE_RESULTS = "conformance-results.json"
# An SBOM, SPDX 2.3 (SBOM-<artifact>.spdx.json) or CycloneDX 1.6 (SBOM-<artifact>.cdx.json).
SBOM_RE = re.compile(r"SBOM-.*\.(?:spdx|cdx)\.json", re.S)
# Each SBOM format: its file name ending and the provenance subject annotation that names it (SBOM_SUFFIXES, SBOM_ANNOTATIONS in packages/format).
SBOM_FORMATS = (("spdx", ".spdx.json", "helix.sbom"), ("cyclonedx", ".cdx.json", "helix.cyclonedx"))


def sbom_format(name: str) -> str | None:
    """The format of an SBOM file name ("spdx", "cyclonedx"), or None (sbomFormatOf in packages/format)."""
    if not SBOM_RE.fullmatch(name):
        return None
    return "cyclonedx" if name.endswith(".cdx.json") else "spdx"


def sbom_name(artifact: str, fmt: str = "spdx") -> str:
    """The SBOM file name of an artifact in a format (sbomName in packages/format)."""
    suffix = dict((f, s) for f, s, _ in SBOM_FORMATS)[fmt]
    return "SBOM-%s%s" % (artifact.rsplit("/", 1)[-1], suffix)
# A development key says so in its user ID (docs/release-format.md).
DEVELOPMENT_KEY_RE = re.compile(r"DEVELOPMENT ONLY", re.I)

SUMS_LINE_RE = re.compile("([0-9a-f]{64})  ([^\n\r\u2028\u2029]+)")

# Size limit for a JSON file read whole (hostile input must not exhaust memory).
MAX_JSON_BYTES = 256 * 1024 * 1024
# Bounds of a release path in UTF-8 bytes: the whole name and each component (as MAX_NAME_BYTES in packages/format).
MAX_NAME_BYTES = 1024
MAX_COMPONENT_BYTES = 255
CHUNK = 1024 * 1024
USAGE_ERROR = 2


class UsageError(Exception):
    """A bad command line or environment: reported on stderr, exit status 2."""


# --------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------


def printable(text: str) -> str:
    """`text` with control, format and line-separator characters and undecodable bytes escaped.

    File names come from the release (hostile input): a newline in one must not
    forge an output line, nor a bidi override or byte-order mark hide a character.
    """
    out = []
    for ch in text:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:  # a byte that was not UTF-8 (surrogateescape)
            out.append("\\x%02x" % (o - 0xDC00))
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs"):
            out.append("\\x%02x" % o if o < 0x100 else "\\u%04x" % o if o < 0x10000 else "\\U%08x" % o)
        else:
            out.append(ch)
    return "".join(out)


class Report:
    """Collects check results and prints them as text lines or JSON."""

    def __init__(self) -> None:
        self.results: list[dict] = []

    def passed(self, check: str, file: str, reason: str | None = None, code: str | None = None) -> None:
        """Records `PASSED <check>: <file>`; `reason` (and `code`) only show in --json."""
        self.results.append({"status": "PASSED", "check": check, "code": code, "file": file, "reason": reason})

    def failed(self, check: str, code: str, file: str, reason: str) -> None:
        """Records `FAILED <code>: <file>: <reason>`."""
        self.results.append({"status": "FAILED", "check": check, "code": code, "file": file, "reason": reason})

    def refused(self, check: str, accepted: bool, code: str, file: str, reason: str, flag: str) -> None:
        """FAILED, or `WARN <code>: <file>: <reason>` when the user accepted the finding with `flag`."""
        if accepted:
            self.results.append({"status": "WARN", "check": check, "code": code, "file": file, "reason": "%s (accepted with %s)" % (reason, flag)})
        else:
            self.failed(check, code, file, "%s; pass %s to accept it" % (reason, flag))

    def skipped(self, check: str, reason: str) -> None:
        """Records `SKIPPED <check>: <reason>`."""
        self.results.append({"status": "SKIPPED", "check": check, "code": None, "file": None, "reason": reason})

    def failures(self, check: str) -> int:
        """How many FAILED results `check` has so far."""
        return sum(1 for r in self.results if r["check"] == check and r["status"] == "FAILED")

    @property
    def ok(self) -> bool:
        """True when nothing FAILED."""
        return not any(r["status"] == "FAILED" for r in self.results)

    def emit(self, as_json: bool) -> None:
        """Prints every result."""
        if as_json:
            print(json.dumps(self.results, indent=2))
            return
        for r in self.results:
            if r["status"] == "PASSED":
                print("PASSED %s: %s" % (r["check"], printable(r["file"])))
            elif r["status"] == "FAILED":
                print("FAILED %s: %s: %s" % (r["code"], printable(r["file"]), printable(r["reason"])))
            elif r["status"] == "WARN":
                print("WARN %s: %s: %s" % (r["code"], printable(r["file"]), printable(r["reason"])))
            else:
                print("SKIPPED %s: %s" % (r["check"], printable(r["reason"])))


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def release_path_problem(path: str) -> str | None:
    """Why `path` is not a safe release path (relative, '/', no '.'/'..', no control character), or None."""
    if path == "":
        return "empty name"
    if re.search(r"[\x00-\x1f\x7f]", path):
        return "control character (newline, tab, ...) in the name"
    if "\\" in path or ":" in path:
        return "backslash, colon or NUL in the name"
    if path.startswith("/"):
        return "absolute name"
    parts = path.split("/")
    if ".." in parts:
        return "name contains '..'"
    if any(p in ("", ".") for p in parts):
        return "name has an empty or '.' component"
    if any(p.endswith((".", " ")) for p in parts):
        return "a name component ends with a dot or a space (Windows drops it)"
    # The bounds of packages/format/src/paths.ts (what every file system holds).
    if len(path.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        return "name longer than %d bytes" % MAX_NAME_BYTES
    if any(len(p.encode("utf-8", "surrogateescape")) > MAX_COMPONENT_BYTES for p in parts):
        return "a name component longer than %d bytes" % MAX_COMPONENT_BYTES
    return None


def utf8_key(text: str) -> bytes:
    """Sort key: the UTF-8 bytes of `text` (undecodable bytes kept as they were).

    A lone surrogate that is no escaped byte (JSON's "\\ud800") sorts as U+FFFD, as
    compareBytes in packages/format encodes it, instead of raising.
    """
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text).encode("utf-8")


def parse_sums(text: str) -> list:
    """SHA256SUMS.txt parsed strictly into [(path, sha256)]; raises ValueError with the reason."""
    if text != "" and not text.endswith("\n"):
        raise ValueError("the last line has no newline")
    lines = [] if text == "" else text[:-1].split("\n")
    out = []
    for number, line in enumerate(lines, 1):
        match = SUMS_LINE_RE.fullmatch(line)
        if not match:
            raise ValueError('line %d is not "<sha256>  <name>" (64 lowercase hex digits, two spaces, a name)' % number)
        problem = release_path_problem(match.group(2))
        if problem:
            raise ValueError("line %d: %s: %s" % (number, json.dumps(match.group(2)), problem))
        out.append((match.group(2), match.group(1)))
    paths = [p for p, _ in out]
    if len(set(paths)) != len(paths):
        raise ValueError("a name is listed twice")
    if sorted(paths, key=utf8_key) != paths:
        raise ValueError("lines are not sorted by name (UTF-8 bytes)")
    return out


def list_files(root: str) -> list[str]:
    """Every non-directory below `root`, relative with '/', sorted by UTF-8 bytes.

    Symbolic links are listed as files and never followed into.
    """
    out: list[str] = []
    stack = [""]
    while stack:
        sub = stack.pop()
        try:
            with os.scandir(os.path.join(root, sub) if sub else root) as it:
                entries = list(it)
        except OSError:
            continue
        for entry in entries:
            rel = sub + "/" + entry.name if sub else entry.name
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append(rel)
            else:
                out.append(rel)
    return sorted(out, key=utf8_key)


def is_regular_file(path: str) -> bool:
    """True for a regular file. A symbolic link is never followed (it could lead outside the release)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except (OSError, ValueError):
        return False


def not_regular(path: str) -> str | None:
    """What `path` is when it exists but is not a regular file ("a symbolic link", "a FIFO", ...), else None."""
    try:
        mode = os.lstat(path).st_mode
    except (OSError, ValueError):
        return None
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "a device"
    return "a folder" if stat.S_ISDIR(mode) else "not a regular file"


def read_capped(path: str, limit: int) -> bytes:
    """The bytes of `path`; raises ValueError when it is larger than `limit`, OSError when unreadable."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise ValueError("larger than %d bytes" % limit)
    return data


def _reject_constant(name: str) -> None:
    raise ValueError("%s is not JSON" % name)


def _unique_pairs(pairs: list) -> dict:
    seen: dict = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError("the key %s is given twice in one object" % json.dumps(key))
        seen[key] = value
    return seen


def parse_json_strictly(text: str, unique_keys: bool = False):
    """Strict JSON as JSON.parse reads it (no NaN/Infinity; integers exact); raises ValueError, RecursionError.

    With `unique_keys` (the release's own files, as parseJsonUnique in packages/format), an object key
    given twice is refused instead of read last-wins.
    """
    return json.loads(text, parse_constant=_reject_constant, parse_int=decimal.Decimal, object_pairs_hook=_unique_pairs if unique_keys else None)


def load_json(path: str, limit: int = MAX_JSON_BYTES):
    """Strict JSON (as JSON.parse reads it) from a file; raises ValueError with a reason."""
    try:
        data = read_capped(path, limit)
        return parse_json_strictly(data.decode("utf-8"), unique_keys=True)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    except MemoryError:
        raise ValueError("too large to parse") from None
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    except OSError as err:
        raise ValueError("cannot read: %s" % (err.strerror or err)) from None


# --------------------------------------------------------------------------
# Running a tool
# --------------------------------------------------------------------------


def add_folder_arguments(parser) -> None:
    """The release folder, as the TypeScript CLI takes it (a positional FOLDER) or as --dir."""
    parser.add_argument("folder", nargs="?", metavar="FOLDER", help="the release folder (default: .)")
    parser.add_argument("--dir", help="the release folder, as an option (same as FOLDER)")


def release_folder(args) -> str:
    """The folder of add_folder_arguments; a UsageError when FOLDER and --dir disagree."""
    if args.folder is not None and args.dir is not None and args.folder != args.dir:
        raise UsageError("give the release folder once: as FOLDER or as --dir, not both (%r, %r)" % (args.folder, args.dir))
    return args.folder if args.folder is not None else args.dir if args.dir is not None else "."


def run_checks(checks: list, report: Report, context) -> int:
    """Runs each (name, check) of `checks` in order, then returns the exit status (0, or 1 when a line FAILED).

    A check is called as check(report, context): it appends its PASSED, FAILED
    and SKIPPED lines to `report` and may leave what later checks need in
    `context` (e.g. the trusted fingerprint, the parsed SHA256SUMS.txt).
    """
    for _name, check in checks:
        check(report, context)
    return 0 if report.ok else 1


def main(prog: str, run) -> int:
    """A tool's entry point around run(argv): usage errors exit 2 with a message, never a traceback."""
    try:
        sys.stdout.reconfigure(errors="backslashreplace")  # type: ignore[attr-defined]
    except (AttributeError, ValueError):
        pass
    try:
        return run(sys.argv[1:])
    except UsageError as err:
        sys.stderr.write("%s: error: %s\n" % (prog, err))
        return USAGE_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. piped into `head`
        return 1
    except Exception as err:  # a bug, or input nobody foresaw: never pass, never a traceback
        sys.stdout.flush()
        sys.stderr.write("%s: internal error, the release is NOT verified: %s: %s\n" % (prog, type(err).__name__, printable(str(err))))
        return 1
