#!/bin/sh
# Shipped executable helper: its 0755 mode must survive packaging.
exec helix-studio --headless run wordcount "$@"
