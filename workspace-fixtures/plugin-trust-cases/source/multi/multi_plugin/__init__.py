"""Fixture plugin of workspace-fixtures/plugin-trust-cases: a package."""
