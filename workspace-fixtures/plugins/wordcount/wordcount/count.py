"""Counting helpers."""


def count(text: str) -> tuple[int, int]:
    """Number of words and characters in `text`."""
    return len(text.split()), len(text)
