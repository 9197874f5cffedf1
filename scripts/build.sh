#!/usr/bin/env bash
# Set up .venv and build dist/<name>-<version>.difypkg (--sign KEY.pem: also a signed copy;
# --generate-key PREFIX: only create a key pair). Arguments go to scripts/package.py.
# The same as `python3.12 scripts/dev.py build ...` (scripts/dev.py does the work).
set -euo pipefail
exec "$(dirname "$0")/bootstrap.sh" build "$@"
