#!/usr/bin/env bash
# Set up .venv, lint (ruff, mypy), and run the whole test suite (all offline); arguments go to pytest.
# The same as `python3.12 scripts/dev.py test ...` (scripts/dev.py does the work).
set -euo pipefail
exec "$(dirname "$0")/bootstrap.sh" test "$@"
