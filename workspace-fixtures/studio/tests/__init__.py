"""Tests of the Studio (run by workspace-fixtures/studio/tests/python-tests.spec.ts)."""
