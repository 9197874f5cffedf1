#!/usr/bin/env bash
# Create .venv with Python 3.12 and install requirements-dev.txt (when they changed).
# Everything is done by scripts/dev.py; this only finds a Python to start it with.
# `scripts/bootstrap.sh COMMAND ARGS` runs another dev.py command (build.sh and test.sh do).
# Set PYTHON=/path/to/python3.12 to choose the interpreter yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
for python in "${PYTHON:-}" .venv/bin/python python3.12 python3 python; do
    if [ -n "$python" ] && "$python" -c '' >/dev/null 2>&1; then
        exec "$python" scripts/dev.py "${@:-setup}"
    fi
done
echo "error: no Python found; install Python 3.12 (see README)" >&2
exit 1
