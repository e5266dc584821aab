"""Entry module; imports its sibling module lazily, inside the function."""


def run(args: list[str]) -> str:
    """Greets, then counts the words given."""
    from multi_plugin import words

    return words.summary(args)
