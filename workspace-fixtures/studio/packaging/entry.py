"""PyInstaller entry script for Helix Studio."""

import sys

from helix_studio.cli import main

sys.exit(main())
