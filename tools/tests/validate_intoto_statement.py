"""Validates in-toto Statements with the in-toto-attestation library.

A test-only tool (in-toto-attestation comes from
tools/toolchain/requirements-dev.txt): the tests run it on what helix-release
writes, so the statements are checked by code this project did not write.

    python validate_intoto_statement.py [--vsa] FILE...

Each file is parsed into the library's Statement message (strict: an unknown
top-level field is an error) and checked with its validate(). With --vsa the
predicate must also parse as a SLSA verification summary (VSA v1: verifier,
timeVerified, resourceUri, policy, inputAttestations, verificationResult with
their types), extra predicate fields allowed.

Prints `VALID <file>` or `INVALID <file>: <why>` per file; exits 0 when every
file is valid, 1 when one is not, 2 on a usage error.
"""
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.vsa.v1 import vsa_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement


def problem(text: str, vsa: bool):
    try:
        pb = json_format.Parse(text, statement_pb2.Statement())
        Statement.copy_from_pb(pb).validate()
        if vsa:
            summary = json_format.ParseDict(json_format.MessageToDict(pb.predicate), vsa_pb2.VerificationSummary(), ignore_unknown_fields=True)
            for field in ("verifier", "time_verified", "policy"):
                if not summary.HasField(field):
                    return "the predicate has no %s" % field
            for field in ("resource_uri", "verification_result"):
                if not getattr(summary, field):
                    return "the predicate has no %s" % field
            if summary.verification_result not in ("PASSED", "FAILED"):
                return "verificationResult is %r, not PASSED or FAILED" % summary.verification_result
    except (json_format.ParseError, ValueError) as err:
        return str(err)
    return None


def main(argv: list) -> int:
    vsa = "--vsa" in argv
    files = [a for a in argv if a != "--vsa"]
    if not files:
        sys.stderr.write("validate_intoto_statement.py: error: name at least one statement file\n")
        return 2
    invalid = 0
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as err:
            print("INVALID %s: cannot be read: %s" % (path, err))
            invalid += 1
            continue
        why = problem(text, vsa)
        if why is None:
            print("VALID %s" % path)
        else:
            print("INVALID %s: %s" % (path, why.replace("\n", " ")))
            invalid += 1
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
