#!/usr/bin/env python3
"""Verifies the checksums, provenance and evidence files of a helix-release release folder.

Usage:

    python3 tools/verify_release_provenance.py [FOLDER | --dir FOLDER] [--commit SHA] [--tag TAG] [--json]

Runs the checks `sums`, `coverage`, `provenance`, `build-meta`, `sbom` and
`conformance` of docs/release-format.md over the release folder DIR (default:
the current folder); tools/verify_release_signatures.py runs the others (key,
signature, plugin) and should be run first: this script trusts nothing it
reads until those signatures are verified. Python 3 standard library only
(with tools/release_verify_lib.py beside this file); works offline; reads the
release, writes nothing.

  FOLDER, --dir DIR  the release folder (default .), as the TypeScript CLI takes it
  --commit SHA  the full source commit id the release must come from (40 or 64
                hex digits); compared with the provenance's gitCommit
  --tag TAG     the tag the release must have been built from
  --json        print a JSON array of {status, check, code, file, reason}

Prints one line per check result:

    PASSED <check>: <file>
    FAILED <CODE>: <file>: <why>
    SKIPPED <check>: <why>

Exit status: 0 when no line is FAILED, 1 when one is, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import posixpath
import re
import sys
import uuid

# The helpers shared with verify_release_signatures.py live beside this file
# (the release's tools/ folder). No bytecode is written: a __pycache__/ there
# would be a stray file in the release.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    from release_verify_lib import (
        CHUNK, CONFORMANCE_RESULTS, DSSE_SUFFIX, FINGERPRINT, META, PROVENANCE, PUBLIC_KEY, PUBLIC_KEY_PEM, SBOM_FORMATS, SBOM_RE, SUMS, Report, UsageError,
        add_folder_arguments, is_regular_file, list_files, load_json, main, not_regular, read_capped, release_folder, release_path_problem,
        parse_sums, run_checks, sbom_name, utf8_key,
    )
except ImportError as _err:  # the kit is incomplete: a usage error, not a traceback
    sys.stderr.write("verify_release_provenance.py: error: needs release_verify_lib.py beside it in %s: %s\n" % (os.path.dirname(os.path.abspath(__file__)), _err))
    sys.exit(2)

# --------------------------------------------------------------------------
# Release layout (docs/release-format.md; the file names are in release_verify_lib)
# --------------------------------------------------------------------------

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
TEST_RESULT_V01 = "https://in-toto.io/attestation/test-result/v0.1"
BUILD_META_FORMAT = "helix-build-meta v1"
# uuidv5(DNS namespace, "helix-release.invalid"): the namespace of the SBOM binding UUIDs.
HELIX_UUID_NAMESPACE = uuid.UUID("78532c39-8439-5dc7-a4d7-9434eb53091b")
SHA256_RE = re.compile(r"[0-9a-f]{64}")
# A git object name: SHA-1 or SHA-256, lower-case hex (docs/release-format.md, "Strictness").
GIT_COMMIT_RE = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# A SHA256SUMS.txt line; `.` of the writer's JavaScript regex excludes \n, \r, U+2028 and U+2029.

MAX_TEXT_BYTES = 64 * 1024 * 1024
SHOWN = 5  # differences listed in one line at most


def listing(items: list) -> str:
    """A short, quoted list of `items` for a reason text."""
    shown = ", ".join(json.dumps(i, ensure_ascii=False) if isinstance(i, str) else str(i) for i in items[:SHOWN])
    return shown + (" and %d more" % (len(items) - SHOWN) if len(items) > SHOWN else "")


# --------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------


def is_evidence_file(path: str) -> bool:
    """The files SHA256SUMS.txt does not list (core's isEvidenceFile)."""
    return path in (SUMS, META, PROVENANCE, PUBLIC_KEY, PUBLIC_KEY_PEM, FINGERPRINT) or path.endswith(".asc") or path.endswith(DSSE_SUFFIX)


def sha256_file(path: str) -> str:
    """The sha256 of a file, streamed in 1 MiB chunks; raises OSError."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def read_text(path: str, limit: int = MAX_TEXT_BYTES) -> str:
    """A UTF-8 text file; raises ValueError with a reason."""
    try:
        return read_capped(path, limit).decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    except OSError as err:
        raise ValueError("cannot read: %s" % (err.strerror or err)) from None


def get(value, *keys):
    """value[k1][k2]... for nested dicts, or None when any step is missing or not a dict."""
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def digest_of(descriptor) -> str | None:
    """The sha256 of an in-toto ResourceDescriptor, when it is well-formed."""
    value = get(descriptor, "digest", "sha256")
    return value if isinstance(value, str) and SHA256_RE.fullmatch(value) else None


# --------------------------------------------------------------------------
# Checks, in the order of the verified install flow (docs/release-format.md)
# --------------------------------------------------------------------------


@dataclasses.dataclass
class Context:
    """What the checks of one run over a release folder share."""

    root: str
    files: list  # every file of the release (list_files)
    commit: str | None  # --commit, lowercase
    tag: str | None  # --tag
    sums: dict | None = None  # {path: sha256} of SHA256SUMS.txt, set by check_sums unless it is missing or malformed
    statement: dict | None = None  # the provenance statement, set by check_provenance when it is well-formed
    meta_fields: dict | None = None  # BUILD_META.txt's fields, set by check_build_meta when it parses
    allow_dirty: bool = False  # --allow-dirty


# --------------------------------------------------------------------------
# sums and coverage
# --------------------------------------------------------------------------


def check_files(report: Report, ctx: Context) -> None:
    """The `files` check: every entry of the release folder is a regular file (no link, FIFO, socket or device)."""
    for path in ctx.files:
        kind = not_regular(os.path.join(ctx.root, path))
        if kind:
            report.failed("files", "FILE_NOT_REGULAR", path, "is %s; a release holds regular files only, and no verifier reads through it" % kind)
    if not report.failures("files"):
        report.passed("files", ".", "%d regular files" % len(ctx.files))


def check_sums(report: Report, ctx: Context) -> None:
    """The `sums` check; sets ctx.sums to {path: sha256} of SHA256SUMS.txt unless it is missing or malformed."""
    root = ctx.root
    path = os.path.join(root, SUMS)
    if not os.path.lexists(path):
        report.failed("sums", "SUMS_MISSING", SUMS, "the release has no %s" % SUMS)
        return
    if not is_regular_file(path):
        report.failed("sums", "SUMS_MISSING", SUMS, "not a regular file")
        return
    try:
        lines = parse_sums(read_text(path))
    except ValueError as err:
        report.failed("sums", "SUMS_MALFORMED", SUMS, str(err))
        return
    for name, expected in lines:
        full = os.path.join(root, name)
        if not os.path.lexists(full):
            report.failed("sums", "SUMS_MISSING_FILE", name, "listed in %s but not in the release" % SUMS)
            continue
        if not is_regular_file(full):
            report.failed("sums", "SUMS_MISSING_FILE", name, "listed in %s but not a regular file" % SUMS)
            continue
        try:
            actual = sha256_file(full)
        except OSError as err:
            report.failed("sums", "SUMS_MISSING_FILE", name, "cannot read it: %s" % (err.strerror or err))
            continue
        if actual != expected:
            report.failed("sums", "SUMS_MISMATCH", name, "its sha256 is %s but %s says %s: the file was changed" % (actual, SUMS, expected))
    if not report.failures("sums"):
        report.passed("sums", SUMS, "%d files, each with the sha256 listed" % len(lines))
    ctx.sums = dict(lines)


def check_coverage(report: Report, ctx: Context) -> None:
    """The `coverage` check: every file but the evidence files is listed in SHA256SUMS.txt."""
    files, sums = ctx.files, ctx.sums
    if sums is None:
        report.skipped("coverage", "%s is missing or malformed" % SUMS)
        return
    for path in files:
        if not is_evidence_file(path) and path not in sums:
            report.failed("coverage", "SUMS_UNLISTED", path, "in the release folder but not listed in %s (added after the release was made?)" % SUMS)
    if not report.failures("coverage"):
        report.passed("coverage", SUMS, "every file but the evidence files is listed")


# --------------------------------------------------------------------------
# provenance
# --------------------------------------------------------------------------


def provenance_problem(statement) -> str | None:
    """Why the provenance statement is not of the documented shape, or None."""
    if not isinstance(statement, dict):
        return "not a JSON object"
    if statement.get("_type") != STATEMENT_V1:
        return "_type is not %s" % STATEMENT_V1
    if statement.get("predicateType") != SLSA_PROVENANCE_V1:
        return "predicateType is not %s" % SLSA_PROVENANCE_V1
    subjects = statement.get("subject")
    if not isinstance(subjects, list):
        return "subject is not an array"
    for index, subject in enumerate(subjects):
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str) or digest_of(subject) is None:
            return "subject[%d] needs a name and a digest.sha256 of 64 lowercase hex digits" % index
        annotations = subject.get("annotations", {})
        if not isinstance(annotations, dict):
            return "subject[%d].annotations is not an object" % index
        for key in ("helix.kind",) + tuple(annotation for _, _, annotation in SBOM_FORMATS):
            if key in annotations and not isinstance(annotations[key], str):
                return "subject[%d].annotations[%s] is not a string" % (index, json.dumps(key))
    if not isinstance(get(statement, "predicate", "buildDefinition", "externalParameters"), dict):
        return "predicate.buildDefinition.externalParameters is missing"
    commit = get(statement, "predicate", "buildDefinition", "externalParameters", "source", "digest", "gitCommit")
    if not isinstance(commit, str):
        return "predicate.buildDefinition.externalParameters.source.digest.gitCommit is missing"
    if not GIT_COMMIT_RE.fullmatch(commit):
        return "predicate.buildDefinition.externalParameters.source.digest.gitCommit is not 40 or 64 lowercase hex digits"
    tag = get(statement, "predicate", "buildDefinition", "externalParameters", "tag")
    if tag is not None and not isinstance(tag, str):
        return "externalParameters.tag is not a string"
    if not isinstance(get(statement, "predicate", "runDetails", "byproducts"), list):
        return "predicate.runDetails.byproducts is not an array"
    return None


def load_provenance(report: Report, root: str):
    """The provenance statement, or None (with PROVENANCE_MISSING/MALFORMED reported)."""
    path = os.path.join(root, PROVENANCE)
    if not os.path.lexists(path):
        report.failed("provenance", "PROVENANCE_MISSING", PROVENANCE, "the release has no provenance statement")
        return None
    if not is_regular_file(path):
        report.failed("provenance", "PROVENANCE_MISSING", PROVENANCE, "not a regular file")
        return None
    try:
        statement = load_json(path)
    except ValueError as err:
        report.failed("provenance", "PROVENANCE_MALFORMED", PROVENANCE, "not JSON: %s" % err)
        return None
    problem = provenance_problem(statement)
    if problem:
        report.failed("provenance", "PROVENANCE_MALFORMED", PROVENANCE, problem)
        return None
    return statement


def check_provenance(report: Report, ctx: Context) -> None:
    """The `provenance` check; sets ctx.statement when it is readable and well-formed."""
    root, sums, commit, tag = ctx.root, ctx.sums, ctx.commit, ctx.tag
    statement = load_provenance(report, root)
    if statement is None:
        return
    ctx.statement = statement
    subjects = statement["subject"]

    if sums is None:
        report.skipped("provenance", "subjects not compared: %s is missing or malformed" % SUMS)
    else:
        names = [s["name"] for s in subjects]
        listed = {s["name"]: digest_of(s) for s in subjects}
        duplicates = sorted(set(n for n in names if names.count(n) > 1), key=utf8_key)
        missing = sorted((n for n in sums if n not in listed), key=utf8_key)
        extra = sorted((n for n in listed if n not in sums), key=utf8_key)
        changed = sorted((n for n in listed if n in sums and listed[n] != sums[n]), key=utf8_key)
        problems = []
        if missing:
            problems.append("%s of %s missing from the subjects" % (listing(missing), SUMS))
        if extra:
            problems.append("subjects %s not in %s" % (listing(extra), SUMS))
        if changed:
            problems.append("subjects %s with another sha256 than in %s" % (listing(changed), SUMS))
        if duplicates:
            problems.append("subjects %s listed twice" % listing(duplicates))
        if problems:
            report.failed("provenance", "PROVENANCE_SUBJECTS", PROVENANCE, "the subjects are not exactly the lines of %s: %s" % (SUMS, "; ".join(problems)))

    source_commit = get(statement, "predicate", "buildDefinition", "externalParameters", "source", "digest", "gitCommit")
    if commit is None:
        report.skipped("provenance", "no --commit given: the source commit %s is not compared" % source_commit)
    elif source_commit.lower() != commit:
        report.failed("provenance", "PROVENANCE_COMMIT", PROVENANCE, "built from commit %s, not the expected %s" % (source_commit, commit))

    built_tag = get(statement, "predicate", "buildDefinition", "externalParameters", "tag")
    if tag is None:
        report.skipped("provenance", "no --tag given: the tag (%s) is not compared" % (built_tag if built_tag is not None else "none: HEAD was not tagged"))
    elif built_tag is None:
        report.failed("provenance", "PROVENANCE_TAG", PROVENANCE, "the build was not from a tag, expected %s" % tag)
    elif built_tag != tag:
        report.failed("provenance", "PROVENANCE_TAG", PROVENANCE, "built from tag %s, not the expected %s" % (built_tag, tag))

    byproducts = statement["predicate"]["runDetails"]["byproducts"]
    names = []
    for index, item in enumerate(byproducts):
        name = item.get("name") if isinstance(item, dict) else None
        expected = digest_of(item)
        if not isinstance(name, str) or expected is None:
            report.failed("provenance", "PROVENANCE_BYPRODUCT", PROVENANCE, "byproducts[%d] needs a name and a digest.sha256" % index)
            continue
        names.append(name)
        problem = release_path_problem(name)
        if problem:
            report.failed("provenance", "PROVENANCE_BYPRODUCT", PROVENANCE, "byproducts[%d] %s is not a release path (%s)" % (index, json.dumps(name), problem))
            continue
        full = os.path.join(root, name)
        if not is_regular_file(full):
            report.failed("provenance", "PROVENANCE_BYPRODUCT", name, "a byproduct of %s, but not in the release" % PROVENANCE)
            continue
        try:
            actual = sha256_file(full)
        except OSError as err:
            report.failed("provenance", "PROVENANCE_BYPRODUCT", name, "cannot read it: %s" % (err.strerror or err))
            continue
        if actual != expected:
            report.failed("provenance", "PROVENANCE_BYPRODUCT", name, "its sha256 is %s but %s records %s" % (actual, PROVENANCE, expected))
    if META not in names:
        report.failed("provenance", "PROVENANCE_BYPRODUCT", PROVENANCE, "%s is not among its byproducts" % META)

    if not report.failures("provenance"):
        report.passed("provenance", PROVENANCE, "%d subjects equal %s; source commit %s" % (len(subjects), SUMS, source_commit))


# --------------------------------------------------------------------------
# build-meta
# --------------------------------------------------------------------------


def parse_build_meta(text: str) -> tuple:
    """BUILD_META.txt into (fields, {path: sha256}); raises ValueError with the reason."""
    fields: dict = {}
    files: dict = {}
    for number, line in enumerate(text.split("\n"), 1):
        if line == "" or line.startswith("#"):
            continue
        key, sep, value = line.partition(": ")
        if not sep:
            raise ValueError('line %d is not "key: value"' % number)
        if key.startswith("sha256 "):
            path = key[len("sha256 ") :]
            if path in files:
                raise ValueError("line %d: %s is listed twice" % (number, json.dumps(path)))
            files[path] = value
        else:
            if key in fields:
                raise ValueError("line %d: %s is given twice" % (number, key))
            fields[key] = value
    if fields.get("format") != BUILD_META_FORMAT:
        raise ValueError('first field must be "format: %s"' % BUILD_META_FORMAT)
    if "commit" not in fields:
        raise ValueError("it has no commit field")
    return fields, files


def check_build_meta(report: Report, ctx: Context) -> None:
    """The `build-meta` check: its sha256 lines equal SHA256SUMS.txt, its commit the provenance's."""
    root, sums, statement = ctx.root, ctx.sums, ctx.statement
    path = os.path.join(root, META)
    if not os.path.lexists(path) or not is_regular_file(path):
        report.failed("build-meta", "META_MISSING", META, "the release has no %s" % META)
        return
    try:
        fields, files = parse_build_meta(read_text(path))
    except ValueError as err:
        report.failed("build-meta", "META_MALFORMED", META, str(err))
        return
    ctx.meta_fields = fields
    if sums is None:
        report.skipped("build-meta", "sha256 lines not compared: %s is missing or malformed" % SUMS)
    else:
        missing = sorted((n for n in sums if n not in files), key=utf8_key)
        extra = sorted((n for n in files if n not in sums), key=utf8_key)
        changed = sorted((n for n in files if n in sums and files[n] != sums[n]), key=utf8_key)
        problems = []
        if missing:
            problems.append("no sha256 line for %s" % listing(missing))
        if extra:
            problems.append("sha256 lines for %s, which %s does not list" % (listing(extra), SUMS))
        if changed:
            problems.append("another sha256 than %s for %s" % (SUMS, listing(changed)))
        if problems:
            report.failed("build-meta", "META_MISMATCH", META, "its sha256 lines differ from %s: %s" % (SUMS, "; ".join(problems)))
    if statement is None:
        report.skipped("build-meta", "commit not compared: no usable %s" % PROVENANCE)
    else:
        source_commit = get(statement, "predicate", "buildDefinition", "externalParameters", "source", "digest", "gitCommit")
        if fields["commit"] != source_commit:
            report.failed("build-meta", "META_MISMATCH", META, "commit %s, but %s says %s" % (fields["commit"], PROVENANCE, source_commit))
    if not report.failures("build-meta"):
        report.passed("build-meta", META, "commit %s" % fields["commit"])


def check_build_clean(report: Report, ctx: Context) -> None:
    """The `build-clean` check: neither the provenance nor BUILD_META.txt says the tree was dirty."""
    if ctx.statement is None and ctx.meta_fields is None:
        report.skipped("build-clean", "no usable %s or %s to tell" % (PROVENANCE, META))
        return
    dirty = []
    if ctx.statement is not None and get(ctx.statement, "predicate", "buildDefinition", "internalParameters", "dirty") is True:
        dirty.append(PROVENANCE)
    if ctx.meta_fields is not None and ctx.meta_fields.get("dirty") == "true":
        dirty.append(META)
    if not dirty:
        report.passed("build-clean", META if ctx.meta_fields is not None else PROVENANCE, "built from a clean tree")
        return
    report.refused("build-clean", ctx.allow_dirty, "BUILD_DIRTY", dirty[0], "built from a working tree with uncommitted changes (%s say%s dirty): "
                   "the commit alone does not rebuild it" % (" and ".join(dirty), "s" if len(dirty) == 1 else ""), "--allow-dirty")


def check_versions(report: Report, ctx: Context) -> None:
    """The `versions` check: BUILD_META.txt, the provenance and the file names tell one story of versions."""
    statement, fields = ctx.statement, ctx.meta_fields
    if statement is None or fields is None:
        report.skipped("versions", "needs a usable %s and %s" % (PROVENANCE, META))
        return
    release = get(statement, "predicate", "buildDefinition", "externalParameters", "version")
    if fields.get("version") != release:
        report.failed("versions", "VERSION_MISMATCH", META, "version %s, but %s says %s"
                      % (json.dumps(fields.get("version")), PROVENANCE, json.dumps(release) if isinstance(release, str) else "none"))
    tag = get(statement, "predicate", "buildDefinition", "externalParameters", "tag")
    if isinstance(tag, str) and isinstance(release, str) and tag not in (release, "v" + release):
        report.failed("versions", "VERSION_MISMATCH", PROVENANCE, "built from tag %s, which is not version %s" % (json.dumps(tag), json.dumps(release)))
    artifacts = set()
    for subject in statement["subject"]:
        annotations = subject.get("annotations", {})
        kind = annotations.get("helix.kind")
        if kind not in ("installer", "plugin"):
            continue
        name = subject["name"]
        artifacts.add(name)
        version = annotations.get("helix.version")
        if fields.get("version " + name) != version:
            report.failed("versions", "VERSION_MISMATCH", META, "version %s for %s, but %s says %s" % (
                json.dumps(fields.get("version " + name)) if ("version " + name) in fields else "no version line", json.dumps(name), PROVENANCE,
                json.dumps(version) if isinstance(version, str) else "none"))
            continue
        if not isinstance(version, str):
            continue
        base = posixpath.basename(name)
        named = base.endswith("-%s.zip" % version) if kind == "plugin" else ("-%s-" % version) in base
        if not named:
            report.failed("versions", "VERSION_MISMATCH", name, "its recorded version is %s, but the file name says otherwise (%s is <name>-<version>%s)"
                          % (json.dumps(version), "a plugin" if kind == "plugin" else "an installer", ".zip" if kind == "plugin" else "-<platform>.zip"))
    for key in sorted(fields, key=utf8_key):
        if key.startswith("version ") and key[len("version "):] not in artifacts:
            report.failed("versions", "VERSION_MISMATCH", META, "a version line for %s, which is no installer or plugin subject of %s" % (json.dumps(key[len("version "):]), PROVENANCE))
    if not report.failures("versions"):
        report.passed("versions", META, "version %s; %d installers and plugins named for their versions" % (release, len(artifacts)))


# --------------------------------------------------------------------------
# sbom
# --------------------------------------------------------------------------


def sbom_uuid(sha256: str) -> str:
    """The UUIDv5 an SBOM's documentNamespace carries for an artifact with this sha256."""
    return str(uuid.uuid5(HELIX_UUID_NAMESPACE, "sha256:" + sha256))


CYCLONEDX_SERIAL_RE = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def sbom_document_problem(fmt: str, doc, subject: dict) -> str | None:
    """Why an SBOM document does not describe exactly `subject`, or None (sbomDocumentProblem in the TypeScript verifier).

    SPDX: an SPDX-2.3 document named after the artifact whose documentNamespace ends with the UUIDv5 of its sha256.
    CycloneDX: a 1.6 BOM whose metadata.component carries its sha256, with a urn:uuid serialNumber.
    """
    d = doc if isinstance(doc, dict) else {}
    sha256 = digest_of(subject)
    if fmt == "spdx":
        want = sbom_uuid(sha256)
        version = d.get("spdxVersion")
        name = d.get("name")
        namespace = d.get("documentNamespace")
        if version != "SPDX-2.3":
            return "is %s, not SPDX-2.3 (the version the format publishes)" % (json.dumps(version) if isinstance(version, str) else "no SPDX document")
        if name != posixpath.basename(subject["name"]):
            return "describes %s, not %s" % (json.dumps(name) if isinstance(name, str) else "no named artifact", posixpath.basename(subject["name"]))
        if not isinstance(namespace, str) or not namespace.endswith("-" + want):
            return ("its documentNamespace does not end with -%s, the UUIDv5 of sha256:%s (the bytes of %s): it describes other bytes"
                    % (want, sha256, subject["name"]))
        return None
    metadata = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
    component = metadata.get("component") if isinstance(metadata.get("component"), dict) else {}
    hashes = component.get("hashes") if isinstance(component.get("hashes"), list) else []
    serial = d.get("serialNumber")
    if d.get("bomFormat") != "CycloneDX" or d.get("specVersion") != "1.6":
        return "is not a CycloneDX 1.6 BOM (bomFormat %s, specVersion %s)" % (json.dumps(d.get("bomFormat")), json.dumps(d.get("specVersion")))
    if not isinstance(serial, str) or not CYCLONEDX_SERIAL_RE.fullmatch(serial):
        return "its serialNumber is not a lowercase urn:uuid"
    if not any(isinstance(h, dict) and h.get("alg") == "SHA-256" and h.get("content") == sha256 for h in hashes):
        return "does not describe %s (sha256 %s): its metadata.component has no SHA-256 hash of those bytes" % (subject["name"], sha256)
    return None


def check_sbom(report: Report, ctx: Context) -> None:
    """The `sbom` check: every SBOM (SPDX, CycloneDX) a subject names exists and is bound to that subject's bytes; no orphans."""
    root, files, statement = ctx.root, ctx.files, ctx.statement
    if statement is None:
        report.skipped("sbom", "needs the subjects of a usable %s" % PROVENANCE)
        return
    named: dict = {}
    for subject in statement["subject"]:
        for fmt, _, annotation in SBOM_FORMATS:
            sbom = subject.get("annotations", {}).get(annotation)
            if sbom is not None:
                named.setdefault(sbom, []).append((subject, fmt))
    for sbom in sorted(named, key=utf8_key):
        subjects = [s for s, _ in named[sbom]]
        problem = release_path_problem(sbom)
        if problem:
            report.failed("sbom", "SBOM_MISSING", PROVENANCE, "subject %s names the SBOM %s, which is not a release path (%s)" % (subjects[0]["name"], json.dumps(sbom), problem))
            continue
        if len(subjects) > 1:
            report.failed("sbom", "SBOM_UNBOUND", sbom, "named by several subjects (%s); an SBOM describes one artifact" % listing([s["name"] for s in subjects]))
            continue
        subject, fmt = named[sbom][0]
        # One place for each artifact's SBOM: the top of the release folder, named after the artifact.
        expected_name = sbom_name(subject["name"], fmt)
        if sbom != expected_name:
            report.failed("sbom", "SBOM_UNBOUND", sbom, "the %s SBOM of %s is %s at the top of the release folder, not %s"
                          % ("SPDX" if fmt == "spdx" else "CycloneDX", json.dumps(subject["name"]), expected_name, json.dumps(sbom)))
            continue
        full = os.path.join(root, sbom)
        if not is_regular_file(full):
            report.failed("sbom", "SBOM_MISSING", sbom, "the SBOM of %s, but not in the release" % subject["name"])
            continue
        try:
            doc = load_json(full)
        except ValueError as err:
            report.failed("sbom", "SBOM_UNBOUND", sbom, "not JSON: %s" % err)
            continue
        problem = sbom_document_problem(fmt, doc, subject)
        if problem:
            report.failed("sbom", "SBOM_UNBOUND", sbom, problem)
        else:
            report.passed("sbom", sbom, "bound to %s (sha256 %s)" % (subject["name"], digest_of(subject)))
    for path in files:
        if SBOM_RE.fullmatch(posixpath.basename(path)) and path not in named:
            report.failed("sbom", "SBOM_ORPHAN", path, "no subject of %s names this SBOM" % PROVENANCE)
    if not named and not report.failures("sbom"):
        report.skipped("sbom", "no subject of %s names an SBOM" % PROVENANCE)


# --------------------------------------------------------------------------
# conformance
# --------------------------------------------------------------------------


def results_problem(results) -> str | None:
    """Why conformance-results.json is not a test-result statement, or None."""
    if not isinstance(results, dict):
        return "not a JSON object"
    if results.get("_type") != STATEMENT_V1:
        return "_type is not %s" % STATEMENT_V1
    if results.get("predicateType") != TEST_RESULT_V01:
        return "predicateType is not %s" % TEST_RESULT_V01
    subjects = results.get("subject")
    if not isinstance(subjects, list):
        return "subject is not an array"
    for index, subject in enumerate(subjects):
        if not isinstance(subject, dict) or not isinstance(subject.get("name"), str) or digest_of(subject) is None:
            return "subject[%d] needs a name and a digest.sha256" % index
    if not isinstance(get(results, "predicate", "result"), str):
        return "predicate.result is missing"
    return None


def check_conformance(report: Report, ctx: Context) -> None:
    """The `conformance` check: results exist, PASSED, for the files of this release, covering every plugin."""
    root, sums, statement = ctx.root, ctx.sums, ctx.statement
    path = os.path.join(root, CONFORMANCE_RESULTS)
    if not os.path.lexists(path) or not is_regular_file(path):
        report.failed("conformance", "CONFORMANCE_MISSING", CONFORMANCE_RESULTS,
                      "the release has no conformance results (the conformance stage did not run, e.g. no installer for the build platform)")
        return
    try:
        results = load_json(path)
    except ValueError as err:
        report.failed("conformance", "CONFORMANCE_MISSING", CONFORMANCE_RESULTS, "no usable results: not JSON: %s" % err)
        return
    problem = results_problem(results)
    if problem:
        report.failed("conformance", "CONFORMANCE_MISSING", CONFORMANCE_RESULTS, "no usable results: %s" % problem)
        return
    result = results["predicate"]["result"]
    if result != "PASSED":
        failed = get(results, "predicate", "failedTests")
        failed = [f for f in failed if isinstance(f, str)] if isinstance(failed, list) else []
        report.failed("conformance", "CONFORMANCE_FAILED", CONFORMANCE_RESULTS, "result is %s%s" % (json.dumps(result), ", failed: %s" % listing(failed) if failed else ""))
    tested = {s["name"]: digest_of(s) for s in results["subject"]}
    if sums is None:
        report.skipped("conformance", "tested files not compared: %s is missing or malformed" % SUMS)
    else:
        stale = sorted((n for n in tested if sums.get(n) != tested[n]), key=utf8_key)
        if stale:
            report.failed("conformance", "CONFORMANCE_STALE", CONFORMANCE_RESULTS,
                          "tested %s, which %s does not list with that sha256: the results are for other files" % (listing(stale), SUMS))
    if statement is None:
        report.skipped("conformance", "plugins not compared: no usable %s" % PROVENANCE)
    else:
        plugins = [s for s in statement["subject"] if s.get("annotations", {}).get("helix.kind") == "plugin"]
        untested = sorted((s["name"] for s in plugins if tested.get(s["name"]) != digest_of(s)), key=utf8_key)
        if untested:
            report.failed("conformance", "CONFORMANCE_STALE", CONFORMANCE_RESULTS, "the plugins %s were not tested" % listing(untested))
    if not report.failures("conformance"):
        report.passed("conformance", CONFORMANCE_RESULTS, "PASSED for %d files" % len(tested))


CHECKS = [
    ("files", check_files),
    ("sums", check_sums),
    ("coverage", check_coverage),
    ("provenance", check_provenance),
    ("build-meta", check_build_meta),
    ("build-clean", check_build_clean),
    ("versions", check_versions),
    ("sbom", check_sbom),
    ("conformance", check_conformance),
]


# --------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------


def parse_args(argv: list) -> argparse.Namespace:
    """The command line; argparse exits with status 2 on a usage error."""
    parser = argparse.ArgumentParser(
        prog="verify_release_provenance.py",
        description="Checks files, sums, coverage, provenance, build-meta, build-clean, versions, sbom and conformance of a helix-release release folder "
        "(docs/release-format.md). Prints PASSED/FAILED/SKIPPED lines; exit 0 only when nothing FAILED, 2 on usage errors.",
    )
    add_folder_arguments(parser)
    parser.add_argument("--commit", metavar="SHA", help="the full source commit id (40 or 64 hex digits) the release must come from")
    parser.add_argument("--tag", metavar="TAG", help="the tag the release must have been built from")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="accept a release built from a tree with uncommitted changes: a WARN line instead of FAILED")
    parser.add_argument("--json", action="store_true", help="print a JSON array of {status, check, code, file, reason}")
    return parser.parse_args(argv)


def run(argv: list) -> int:
    """Runs the verifier; returns the exit status."""
    args = parse_args(argv)
    commit = None
    if args.commit is not None:
        commit = args.commit.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", commit):
            raise UsageError("--commit must be a full commit id (40 or 64 hex digits, e.g. from `git rev-parse TAG^{commit}`); got %r" % args.commit)
    if args.tag is not None and (args.tag == "" or re.search(r"[\x00-\x1f\x7f]", args.tag)):
        raise UsageError("--tag must be a non-empty tag name")
    root = release_folder(args)
    if not os.path.isdir(root):
        raise UsageError("--dir %s: not a folder" % root)

    report = Report()
    ctx = Context(root=root, files=list_files(root), commit=commit, tag=args.tag, allow_dirty=args.allow_dirty)
    status = run_checks(CHECKS, report, ctx)
    report.emit(args.json)
    return status


if __name__ == "__main__":
    sys.exit(main("verify_release_provenance.py", run))
