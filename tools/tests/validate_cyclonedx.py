"""Validates CycloneDX 1.6 JSON SBOMs with cyclonedx-python-lib's JsonStrictValidator.

A test-only tool (cyclonedx-python-lib[json-validation] comes from
tools/toolchain/requirements-dev.txt): the release tests run it on every
`SBOM-*.cdx.json`, so the BOMs are checked by code this project did not write.

    python validate_cyclonedx.py FILE...

Prints `VALID <file>` or `INVALID <file>: <where>: <why>` per file; exits 0
when every file is valid, 1 when one is not, 2 on a usage error.
"""
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator


def main(argv: list) -> int:
    if not argv:
        sys.stderr.write("validate_cyclonedx.py: error: name at least one CycloneDX JSON file\n")
        return 2
    validator = JsonStrictValidator(SchemaVersion.V1_6)
    invalid = 0
    for path in argv:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except (OSError, UnicodeDecodeError) as err:
            print("INVALID %s: cannot be read: %s" % (path, err))
            invalid += 1
            continue
        try:
            error = validator.validate_str(text)
        except ValueError as err:  # not JSON at all
            print("INVALID %s: $: %s" % (path, err))
            invalid += 1
            continue
        if error is None:
            print("VALID %s" % path)
            continue
        detail = getattr(error, "data", None)
        where = getattr(detail, "json_path", "$")
        why = getattr(detail, "message", None) or str(error).splitlines()[0]
        print("INVALID %s: %s: %s" % (path, where, why))
        invalid += 1
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
