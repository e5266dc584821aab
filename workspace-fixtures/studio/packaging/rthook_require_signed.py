"""PyInstaller runtime hook: a packaged Studio requires signed plugins by default.

The source document recommends OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=1 in packaged
builds. A user can still opt out explicitly with OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED=0.
"""

import os

os.environ.setdefault("OMNIS_HELIX_PLUGIN_REQUIRE_SIGNED", "1")
