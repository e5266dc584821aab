"""Trust-store keys: tools/verify_release_signatures.py refuses, when it reads a store, every key of
workspace-fixtures/plugin-trust-cases/key-cases.json that has a fault, and accepts the others.

The table is shared with packages/verify (trust-store.spec.ts) and the Studio's plugin_zip.py
(test_plugin_trust_cases.py); it is written by that folder's generate.ts. Standard library only:

    python3 -m unittest discover -s tools/tests -t tools
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import verify_release_signatures as tool  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(ROOT, "workspace-fixtures", "plugin-trust-cases", "key-cases.json"), encoding="utf-8") as handle:
    TABLE = json.load(handle)
FAULT_TEXT = {
    "non-canonical": "not the canonical encoding of a curve point",
    "small-order": "a point of small order",
    "mixed-order": "not in the prime-order subgroup",
}
GOOD = next(case["ed25519"] for case in TABLE["cases"] if case["name"] == "good")


class TrustStoreKeys(unittest.TestCase):
    def setUp(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="helix-key-cases-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def _store(self, data: bytes) -> str:
        path = os.path.join(self.dir, "store-%d.json" % len(os.listdir(self.dir)))
        with open(path, "wb") as handle:
            handle.write(data)
        return path

    def test_every_key_of_the_table(self) -> None:
        self.assertEqual(TABLE["schema"], "helix-trust-store-key-cases/v1")
        self.assertEqual(len(TABLE["cases"]), 16)
        for case in TABLE["cases"]:
            with self.subTest(case["name"]):
                keys = [{"name": "release-plugins", "ed25519": GOOD}, {"name": case["name"], "ed25519": case["ed25519"]}]
                path = self._store(json.dumps({"schema": "helix-trust-store/v1", "keys": keys}).encode("utf-8"))
                if case["fault"] is None:
                    self.assertEqual(base64.b64encode(tool.load_trust_store(path)[case["name"]]).decode("ascii"), case["ed25519"])
                    continue
                with self.assertRaises(tool.UsageError) as caught:
                    tool.load_trust_store(path)
                message = str(caught.exception)
                self.assertTrue(message.startswith("%s: keys[1] (%s): ed25519 key is %s" % (path, case["name"], FAULT_TEXT[case["fault"]])), message)
                self.assertTrue(message.endswith("; remove it and ask its owner for their real public key"), message)

    def test_why_the_identity_key_is_refused(self) -> None:
        # R = identity, S = 0 verifies for any message under the identity as public key.
        identity = base64.b64decode(next(case["ed25519"] for case in TABLE["cases"] if case["name"] == "small-order-0"))
        for message in (b"anything", b"a plugin manifest"):
            self.assertTrue(tool.ed25519_verify(identity, identity + bytes(32), message))

    def test_a_store_that_is_not_utf8_json_with_an_array_of_keys(self) -> None:
        text = json.dumps({"schema": "helix-trust-store/v1", "keys": [{"name": "a", "ed25519": GOOD}]})
        for what, data in (
            ("a byte-order mark", b"\xef\xbb\xbf" + text.encode("utf-8")),
            ("UTF-16", ("\ufeff" + text).encode("utf-16-le")),
            ("keys not an array", json.dumps({"schema": "helix-trust-store/v1", "keys": {"a": GOOD}}).encode("utf-8")),
            ("a key given twice in one object", ('{"schema": "helix-trust-store/v1", "keys": [{"name": "a", "ed25519": "%s", "ed25519": "%s"}]}' % (GOOD, GOOD)).encode("utf-8")),
        ):
            with self.subTest(what), self.assertRaises(tool.UsageError):
                tool.load_trust_store(self._store(data))
        self.assertEqual(list(tool.load_trust_store(self._store(text.encode("utf-8")))), ["a"])


if __name__ == "__main__":
    unittest.main()
