"""Set up, build, sign and test the plugin with Python alone, on Windows, macOS and Linux.

    py -3.12 scripts\\dev.py build                  (Windows PowerShell)
    python3.12 scripts/dev.py build                 (macOS, Linux)

Commands:
    setup                     create .venv with Python 3.12 and install requirements-dev.txt
    build [ARGS...]           setup, then scripts/package.py ARGS (e.g. --output-dir DIR, --check)
    sign PRIVATE_KEY [ARGS]   build, then write a signed copy (dist/<name>-<version>.signed.difypkg)
    generate-key PREFIX       create PREFIX.private.pem and PREFIX.public.pem (outside the project)
    test [PYTEST_ARGS...]     setup, ruff check, ruff format --check, mypy (when configured), pytest

scripts/bootstrap.sh, build.sh and test.sh call this file. Python 3.12 is found as: the
interpreter running this file when it is 3.12, else $PYTHON, else python3.12 on PATH, pyenv,
the usual install folders, the Windows `py` launcher, and `uv python find`. This file itself
runs on any Python 3.8 or later, so that it can say what is missing.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
STAMP = ".requirements.sha256"
REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")
MYPY_CONFIGS = ("mypy.ini", ".mypy.ini")
COMMANDS = ("setup", "build", "sign", "generate-key", "test")
NO_PYTHON = """\
error: Python 3.12 was not found{running}.
  dify-plugin >= 0.8 requires Python 3.12; under 3.11 pip silently installs the
  old dify-plugin 0.7.4, which this plugin does not support.
  Install it (Windows: `winget install Python.Python.3.12`, then run `py -3.12 scripts\\dev.py ...`;
  elsewhere `pyenv install 3.12` or your system's python3.12 package),
  or point to it with PYTHON=/path/to/python3.12."""


class DevError(Exception):
    pass


def venv_python(venv: Path = VENV, windows: bool | None = None) -> Path:
    """The venv's interpreter: Scripts\\python.exe on Windows, bin/python elsewhere."""
    if windows is None:
        windows = os.name == "nt"
    return venv / "Scripts" / "python.exe" if windows else venv / "bin" / "python"


def is_py312(python: str | Path) -> bool:
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 12))"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0


def _output(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return result.stdout.strip() if result.returncode == 0 else ""


def candidates() -> list[str]:
    """Where Python 3.12 may be, in the order tried after the running interpreter and $PYTHON."""
    found: list[str] = []
    on_path = shutil.which("python3.12")
    if on_path:  # a pyenv shim answers only when 3.12 is active; is_py312 runs it to see
        found.append(on_path)
    if shutil.which("pyenv"):
        root = _output(["pyenv", "root"])
        versions = [v for v in _output(["pyenv", "versions", "--bare"]).splitlines() if v.startswith("3.12")]
        for version in sorted(versions, key=_version_key, reverse=True):
            found.append(str(Path(root) / "versions" / version / "bin" / "python3.12"))
    home = Path.home()
    patterns = [
        str(home / ".pyenv" / "versions" / "3.12*" / "bin" / "python3.12"),
        "/usr/local/bin/python3.12",
        "/opt/homebrew/bin/python3.12",
        "/usr/bin/python3.12",
        os.path.join(os.environ.get("LOCALAPPDATA", ""), "Programs", "Python", "Python312", "python.exe"),
        r"C:\Program Files\Python312\python.exe",
    ]
    for pattern in patterns:
        found.extend(sorted(glob.glob(pattern), reverse=True))
    if shutil.which("py"):  # the Windows launcher
        found.append(_output(["py", "-3.12", "-c", "import sys; print(sys.executable)"]))
    if shutil.which("uv"):
        found.append(_output(["uv", "python", "find", "3.12"]))
    return [candidate for candidate in found if candidate]


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) if part.isdigit() else -1 for part in version.split("."))


def find_python() -> str:
    """A Python 3.12 interpreter to create .venv with, or DevError saying why there is none."""
    if sys.version_info[:2] == (3, 12):
        return sys.executable
    chosen = os.environ.get("PYTHON")
    if chosen:
        if is_py312(chosen):
            return chosen
        raise DevError(f"PYTHON={chosen} is not Python 3.12")
    for candidate in candidates():
        if is_py312(candidate):
            return candidate
    running = f" (this is Python {sys.version_info[0]}.{sys.version_info[1]})"
    raise DevError(NO_PYTHON.format(running=running))


def requirements_hash(root: Path = ROOT) -> str:
    """sha256 of requirements.txt followed by requirements-dev.txt (what the stamp records)."""
    digest = hashlib.sha256()
    for name in REQUIREMENTS:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()


def setup() -> Path:
    """.venv with Python 3.12 and the requirements installed; returns its interpreter."""
    python = venv_python()
    if not is_py312(python):
        base = find_python()
        print(f"Creating .venv with {base}", flush=True)
        shutil.rmtree(VENV, ignore_errors=True)
        run([base, "-m", "venv", str(VENV)])
    stamp = VENV / STAMP
    wanted = requirements_hash()
    if not stamp.is_file() or stamp.read_text(encoding="utf-8").strip() != wanted:
        print("Installing requirements-dev.txt into .venv", flush=True)
        run(
            [
                str(python),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
                "requirements-dev.txt",
            ]
        )
        stamp.write_text(wanted + "\n", encoding="utf-8")
    return python


def run(command: list[str]) -> None:
    """Run a command in the project folder; a failure ends this script with its exit code."""
    code = subprocess.run(command, cwd=ROOT, check=False).returncode
    if code != 0:
        raise SystemExit(code)


def expand(path: str) -> str:
    """~ and environment variables expanded here: PowerShell passes `~/x` to a program as it is."""
    return os.path.expandvars(os.path.expanduser(path))


def has_mypy_config(root: Path = ROOT) -> bool:
    if any((root / name).is_file() for name in MYPY_CONFIGS):
        return True
    for name, section in (("pyproject.toml", "[tool.mypy]"), ("setup.cfg", "[mypy]")):
        path = root / name
        if path.is_file() and section in path.read_text(encoding="utf-8"):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(__doc__)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    try:
        if command == "setup":
            setup()
        elif command == "build":
            run([str(setup()), "scripts/package.py", *rest])
        elif command == "sign":
            if not rest or rest[0].startswith("-"):
                raise DevError("usage: dev.py sign PRIVATE_KEY.pem [--output-dir DIR]")
            run([str(setup()), "scripts/package.py", "--sign", expand(rest[0]), *rest[1:]])
        elif command == "generate-key":
            if len(rest) != 1:
                raise DevError("usage: dev.py generate-key PREFIX   (e.g. ~/dify-keys/mine)")
            run([str(setup()), "scripts/package.py", "--generate-key", expand(rest[0])])
        elif command == "test":
            python = str(setup())
            run([python, "-m", "ruff", "check", "."])
            run([python, "-m", "ruff", "format", "--check", "."])
            if has_mypy_config():
                run([python, "-m", "mypy"])
            run([python, "-m", "pytest", *rest])
        else:
            raise DevError(f"unknown command {command!r}; one of: {', '.join(COMMANDS)}")
    except DevError as error:
        print(error if str(error).startswith("error") else f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
