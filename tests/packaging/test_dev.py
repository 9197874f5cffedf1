"""scripts/dev.py, the one route to set up, build, sign and test (the shell scripts call it):
it finds Python 3.12 or says why it cannot, builds into any folder, and expands `~` itself."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from scripts import dev
from tests.daemon import ROOT

PYTHON_311 = shutil.which("python3.11", path="/usr/bin:/usr/local/bin")


def dev_py(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/dev.py", *args], cwd=cwd, capture_output=True, text=True, env=env, check=False
    )


def package_name() -> str:
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    return f"{manifest['name']}-{manifest['version']}.difypkg"


def test_build_through_dev_py_writes_the_package_where_asked(tmp_path):
    result = dev_py("build", "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(tmp_path / "out" / package_name()) as archive:
        assert "manifest.yaml" in archive.namelist() and archive.testzip() is None


def test_generate_key_and_sign_expand_the_tilde_themselves(tmp_path):
    """PowerShell hands `~/dify-keys/mine` to the program unexpanded; no folder named ~ appears."""
    env = {**os.environ, "HOME": str(tmp_path), "USERPROFILE": str(tmp_path)}
    result = dev_py("generate-key", "~/dify-keys/mine", env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dify-keys" / "mine.private.pem").is_file()
    assert (tmp_path / "dify-keys" / "mine.public.pem").is_file()
    signed = dev_py("sign", "~/dify-keys/mine.private.pem", "--output-dir", str(tmp_path / "out"), env=env)
    assert signed.returncode == 0, signed.stderr
    with zipfile.ZipFile(tmp_path / "out" / package_name().replace(".difypkg", ".signed.difypkg")) as archive:
        assert archive.namelist()[-1] == ".verification.dify.json" and b"signature" in archive.comment
    assert not (ROOT / "~").exists()


def test_sign_needs_a_key(tmp_path):
    result = dev_py("sign")
    assert result.returncode == 1 and "usage: dev.py sign PRIVATE_KEY.pem" in result.stderr


@pytest.mark.skipif(PYTHON_311 is None, reason="no Python 3.11 in /usr/bin or /usr/local/bin")
def test_python_311_is_refused_with_the_reason(tmp_path):
    """Without 3.12 anywhere it looks, dev.py explains why 3.11 will not do and creates nothing."""
    (tmp_path / "scripts").mkdir()
    shutil.copy2(ROOT / "scripts" / "dev.py", tmp_path / "scripts" / "dev.py")
    for name in dev.REQUIREMENTS:
        shutil.copy2(ROOT / name, tmp_path / name)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    assert PYTHON_311 is not None
    result = subprocess.run(
        [PYTHON_311, "scripts/dev.py", "build"], cwd=tmp_path, capture_output=True, text=True, env=env, check=False
    )
    assert result.returncode == 1
    assert "Python 3.12 was not found (this is Python 3.11)" in result.stderr
    assert "old dify-plugin 0.7.4" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_a_python_that_is_not_312_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(dev.sys, "version_info", (3, 11, 9))
    monkeypatch.setenv("PYTHON", sys.executable + "-missing")
    with pytest.raises(dev.DevError, match=r"PYTHON=.*-missing is not Python 3\.12"):
        dev.find_python()


def test_the_venv_interpreter_is_where_each_platform_puts_it():
    assert dev.venv_python(Path("v"), windows=True) == Path("v") / "Scripts" / "python.exe"
    assert dev.venv_python(Path("v"), windows=False) == Path("v") / "bin" / "python"


def test_mypy_runs_only_with_a_configuration(tmp_path):
    assert not dev.has_mypy_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\n", encoding="utf-8")
    assert not dev.has_mypy_config(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.mypy]\nstrict = true\n", encoding="utf-8")
    assert dev.has_mypy_config(tmp_path)


def test_the_stamp_changes_with_either_requirements_file(tmp_path):
    for name in dev.REQUIREMENTS:
        (tmp_path / name).write_text("a==1\n", encoding="utf-8")
    before = dev.requirements_hash(tmp_path)
    (tmp_path / "requirements-dev.txt").write_text("a==2\n", encoding="utf-8")
    assert dev.requirements_hash(tmp_path) != before


def test_the_readmes_windows_commands_exist():
    readmes = [ROOT / "README.md", *sorted((ROOT / "readme").glob("README_*.md"))]
    for readme in readmes:
        used = re.findall(r"^\s*py -3\.12 scripts\\dev\.py ([\w-]+)", readme.read_text(encoding="utf-8"), re.MULTILINE)
        assert {"build", "test", "generate-key", "sign"} <= set(used) <= set(dev.COMMANDS), readme.name
    assert dev_py("nonsense").stderr.strip().endswith("one of: setup, build, sign, generate-key, test")
