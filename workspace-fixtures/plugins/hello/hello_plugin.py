"""The smallest Helix Studio plugin."""


def run(args: list[str]) -> str:
    """Returns a greeting for the given names (or the world)."""
    who = " and ".join(args) if args else "world"
    return f"Hello, {who}!"
