"""Shared fixtures: one plugin process per session, emulators per flavour."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.daemon import ROOT, PluginProcess
from tests.emulator import Emulator

AUTH = {"tester": "s3cr3t-pass"}


@pytest.fixture(scope="session")
def plugin() -> Iterator[PluginProcess]:
    """The plugin from the source tree, spawned like the daemon does."""
    with PluginProcess(ROOT) as process:
        yield process


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
