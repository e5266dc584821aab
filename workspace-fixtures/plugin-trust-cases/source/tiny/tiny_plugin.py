"""Fixture plugin of workspace-fixtures/plugin-trust-cases: one module."""


def run(args: list[str]) -> str:
    """Echoes its arguments."""
    return "tiny: " + " ".join(args)
