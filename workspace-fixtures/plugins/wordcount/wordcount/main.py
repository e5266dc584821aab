"""Entry point of the wordcount plugin."""

from wordcount.count import count


def run(args: list[str]) -> str:
    """Counts the words of the arguments joined by spaces."""
    words, chars = count(" ".join(args))
    return f"words={words} chars={chars}"
