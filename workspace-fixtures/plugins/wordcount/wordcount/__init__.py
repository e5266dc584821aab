"""Word counting plugin (a package, to show multi-module plugins)."""
