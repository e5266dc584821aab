"""Allows `python -m helix_studio`."""

import sys

from helix_studio.cli import main

sys.exit(main())
