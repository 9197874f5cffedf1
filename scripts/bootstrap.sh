#!/usr/bin/env bash
# Create .venv with Python 3.12 and install requirements-dev.txt into it.
# Re-runs pip only when a requirements file changed. Set PYTHON=/path/to/python3.12
# to choose the interpreter yourself.
set -euo pipefail
cd "$(dirname "$0")/.."

is_py312() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))' >/dev/null 2>&1; }

find_python() {
    if [ -n "${PYTHON:-}" ]; then
        is_py312 "$PYTHON" && { echo "$PYTHON"; return 0; }
        echo "PYTHON=$PYTHON is not Python 3.12" >&2
        return 1
    fi
    # On PATH (a pyenv shim answers only when 3.12 is active, so test it by running it).
    if command -v python3.12 >/dev/null 2>&1 && is_py312 python3.12; then
        command -v python3.12
        return 0
    fi
    # Installed with pyenv but not the active version.
    if command -v pyenv >/dev/null 2>&1; then
        local version
        version=$(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.[0-9]+)?$' | sort -V | tail -n 1 || true)
        if [ -n "$version" ] && is_py312 "$(pyenv root)/versions/$version/bin/python3.12"; then
            echo "$(pyenv root)/versions/$version/bin/python3.12"
            return 0
        fi
    fi
    local candidate
    for candidate in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/local/bin/python3.12 /usr/bin/python3.12; do
        if [ -x "$candidate" ] && is_py312 "$candidate"; then
            echo "$candidate"
            return 0
        fi
    done
    if command -v uv >/dev/null 2>&1; then
        candidate=$(uv python find 3.12 2>/dev/null || true)
        if [ -n "$candidate" ] && is_py312 "$candidate"; then
            echo "$candidate"
            return 0
        fi
    fi
    return 1
}

if ! is_py312 .venv/bin/python; then
    if ! python=$(find_python); then
        cat >&2 <<'MSG'
error: Python 3.12 was not found.
  dify-plugin >= 0.8 requires Python 3.12; under 3.11 pip silently installs the
  old dify-plugin 0.7.4, which this plugin does not support.
  Install it (for example `pyenv install 3.12` or your system's python3.12 package),
  or point to it with PYTHON=/path/to/python3.12.
MSG
        exit 1
    fi
    echo "Creating .venv with $python"
    rm -rf .venv
    "$python" -m venv .venv
fi

stamp=.venv/.requirements.sha256
wanted=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$wanted" ]; then
    echo "Installing requirements-dev.txt into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$wanted" > "$stamp"
fi
