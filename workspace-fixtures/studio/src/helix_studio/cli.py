"""Command line of Helix Studio.

    helix-studio --version
    helix-studio [--plugins-dir DIR] [--trust-store FILE] --headless COMMAND [ARG...]
    helix-studio [--plugins-dir DIR] [--trust-store FILE]        (interactive)

Commands: `plugins` (list loaded and refused plugins), `run NAME [ARG...]` (run a
plugin), `info` (version, build and trust policy), `echo TEXT...`.
The plugins folder and trust store may also come from OMNIS_HELIX_PLUGIN_DIR and
OMNIS_HELIX_TRUST_STORE; a packaged build falls back to the trust store it carries.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
from pathlib import Path

from helix_studio import __version__
from helix_studio.plugin_zip import TrustStore
from helix_studio.plugins import REQUIRE_SIGNED_VAR, PluginHost, require_signed

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_COMMAND_FAILED = 3


def _bundled_trust_store() -> str | None:
    base = getattr(sys, "_MEIPASS", None)
    if base is None:
        return None
    candidate = Path(base) / "helix_studio" / "trust-store.json"
    return str(candidate) if candidate.is_file() else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="helix-studio", description="Helix Studio")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--headless", action="store_true", help="run one command and exit, without a prompt")
    parser.add_argument("--plugins-dir", default=os.environ.get("OMNIS_HELIX_PLUGIN_DIR"))
    parser.add_argument("--trust-store", default=os.environ.get("OMNIS_HELIX_TRUST_STORE"))
    parser.add_argument("command", nargs=argparse.REMAINDER)
    return parser


def _execute(host: PluginHost, words: list[str], out) -> int:
    if not words:
        return EXIT_OK
    command, args = words[0], words[1:]
    if command == "plugins":
        for name in sorted(host.loaded):
            plugin = host.loaded[name]
            trust = f"signed by {plugin.key_name}" if plugin.trust_code == "PLUGIN_OK" else f"NOT TRUSTED ({plugin.trust_code})"
            print(f"loaded {plugin.name} {plugin.version} {trust}", file=out)
        for refusal in host.refused:
            print(f"refused {refusal.source} {refusal.code}", file=out)
        return EXIT_OK
    if command == "run":
        if not args:
            print("usage: run NAME [ARG...]", file=sys.stderr)
            return EXIT_USAGE
        plugin = host.loaded.get(args[0])
        if plugin is None:
            print(f"error: no plugin named {args[0]!r} is loaded (see the `plugins` command)", file=sys.stderr)
            return EXIT_COMMAND_FAILED
        print(plugin.run(args[1:]), file=out)
        return EXIT_OK
    if command == "info":
        frozen = "pyinstaller" if getattr(sys, "frozen", False) else "source"
        print(f"helix-studio {__version__}", file=out)
        print(f"build: {frozen}", file=out)
        print(f"python: {platform.python_version()}", file=out)
        print(f"require-signed: {'yes' if host.required else 'no'}", file=out)
        print(f"trusted-keys: {','.join(sorted(host.trust.keys)) or '-'}", file=out)
        return EXIT_OK
    if command == "echo":
        print(" ".join(args), file=out)
        return EXIT_OK
    print(f"error: unknown command {command!r} (commands: plugins, run, info, echo)", file=sys.stderr)
    return EXIT_USAGE


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    options = _parser().parse_args(argv)
    if options.version:
        print(f"helix-studio {__version__}")
        return EXIT_OK
    try:
        required = require_signed()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    trust_path = options.trust_store or _bundled_trust_store()
    try:
        trust = TrustStore.load(trust_path) if trust_path else TrustStore()
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if required and not trust.keys:
        print(f"warning: {REQUIRE_SIGNED_VAR}=1 but the trust store is empty: no plugin can load", file=sys.stderr)

    host = PluginHost(trust, required, lambda message: print(message, file=sys.stderr))
    try:
        if options.plugins_dir:
            if not os.path.isdir(options.plugins_dir):
                print(f"error: plugins folder {options.plugins_dir} does not exist", file=sys.stderr)
                return EXIT_USAGE
            host.load_folder(options.plugins_dir)
        if options.headless:
            if not options.command:
                print("error: --headless needs a command (plugins, run, info, echo)", file=sys.stderr)
                return EXIT_USAGE
            return _execute(host, options.command, sys.stdout)
        return _interactive(host)
    finally:
        host.close()


def _interactive(host: PluginHost) -> int:
    status = EXIT_OK
    while True:
        try:
            line = input("studio> ")
        except EOFError:
            print()
            return status
        words = shlex.split(line)
        if words in (["quit"], ["exit"]):
            return status
        status = _execute(host, words, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
