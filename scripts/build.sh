#!/usr/bin/env bash
# Set up .venv and build dist/<name>-<version>.difypkg.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python scripts/package.py "$@"
