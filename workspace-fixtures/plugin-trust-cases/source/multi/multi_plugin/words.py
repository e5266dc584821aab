"""Word counting, reading a data file that ships inside the plugin."""

from pathlib import Path


def summary(args: list[str]) -> str:
    """The greeting from data/greeting.txt and the number of words."""
    greeting = (Path(__file__).parent / "data" / "greeting.txt").read_text(encoding="utf-8").strip()
    return f"{greeting} {len(' '.join(args).split())} word(s)"
