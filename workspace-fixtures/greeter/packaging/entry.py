"""PyInstaller entry script of helix-greeter."""

import sys

from helix_greeter.cli import main

sys.exit(main())
