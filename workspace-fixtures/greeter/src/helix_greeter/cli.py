"""The command line of helix-greeter."""

import argparse
import sys

from . import __version__


def main(argv=None):
    parser = argparse.ArgumentParser(prog="helix-greeter", description="helix-greeter: a command-line app released with helix-release.")
    parser.add_argument("--version", action="version", version=f"helix-greeter {__version__}")
    commands = parser.add_subparsers(dest="command")
    hello = commands.add_parser("hello", help="greet someone")
    hello.add_argument("who", nargs="?", default="world")
    args = parser.parse_args(argv)
    if args.command == "hello":
        print(f"hello, {args.who}")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
