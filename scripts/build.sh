#!/usr/bin/env bash
# Set up .venv and build dist/<name>-<version>.difypkg (--sign KEY.pem: also a signed copy;
# --generate-key PREFIX: only create a key pair). Arguments go to scripts/package.py.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/python scripts/package.py "$@"
