"""Helix Studio: a small command-line studio that runs signed plugins."""

__version__ = "1.4.0"
