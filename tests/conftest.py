"""Shared fixtures: one plugin process per session, emulators per flavour."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon import ROOT, PluginProcess
from tests.emulator import Emulator
from tests.files_server import FileServer

AUTH = {"tester": "s3cr3t-pass"}


@pytest.fixture(scope="session")
def source_plugin() -> Iterator[PluginProcess]:
    """The plugin from the source tree, spawned like the daemon does."""
    with PluginProcess(ROOT) as process:
        yield process


@pytest.fixture
def plugin(source_plugin: PluginProcess) -> PluginProcess:
    return source_plugin


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The .difypkg built by scripts/package.py, unzipped like the daemon unpacks it."""
    dist = tmp_path_factory.mktemp("dist")
    command = [sys.executable, "scripts/package.py", "--output-dir", str(dist)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    [target] = dist.glob("*.difypkg")
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(target) as archive:
        archive.extractall(unpacked)
    return unpacked


@pytest.fixture(scope="session")
def packaged_plugin(package_dir: Path) -> Iterator[PluginProcess]:
    """The plugin started from the unpacked package instead of the source tree."""
    with PluginProcess(package_dir) as process:
        yield process


def source_and_package(request: pytest.FixtureRequest) -> PluginProcess:
    """For fixtures parametrized over ("source", "package"): the matching plugin process."""
    return request.getfixturevalue("source_plugin" if request.param == "source" else "packaged_plugin")


_EMULATORS: dict[tuple[str, bool], Emulator] = {}


def _emulator(flavour: str, auth: bool) -> Emulator:
    key = (flavour, auth)
    if key not in _EMULATORS:
        _EMULATORS[key] = Emulator(flavour, auth=AUTH if auth else None).start()
    server = _EMULATORS[key]
    server.reset()
    return server


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for server in _EMULATORS.values():
        server.stop()


@pytest.fixture
def webui() -> Emulator:
    """A1111 1.10.1 without auth, reset for each test."""
    return _emulator("a1111", auth=False)


@pytest.fixture
def secured() -> Emulator:
    """A1111 1.10.1 started with --api-auth tester:s3cr3t-pass."""
    return _emulator("a1111", auth=True)


@pytest.fixture
def make_webui() -> Any:
    """Factory: make_webui("forge") -> a reset emulator of that flavour."""
    return _emulator


def creds(server: Emulator, **extra: Any) -> dict[str, Any]:
    """Provider credentials for ``server`` (with its auth when it has one)."""
    values: dict[str, Any] = {"base_url": server.url, "timeout": "60", "verify_ssl": True}
    if server.auth:
        user, password = next(iter(server.auth.items()))
        values |= {"username": user, "password": password}
    return values | extra


@pytest.fixture(scope="session")
def file_server() -> Iterator[FileServer]:
    """Stands in for Dify's file server; files are added per test."""
    server = FileServer()
    yield server
    server.stop()
