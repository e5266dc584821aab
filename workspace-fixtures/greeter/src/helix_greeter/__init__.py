"""helix-greeter: a command-line app released with helix-release."""

# Keep in step with pyproject.toml: the release's smoke test runs
# `helix-greeter --version` and expects "helix-greeter <version>".
__version__ = "0.1.0"
