"""A real nginx on 127.0.0.1 balancing several emulated WebUIs, as users run it.

    with Balanced(3) as pool:
        plugin.invoke("txt2img", {...}, {"base_url": pool.url})
        pool.served("POST", "/sdapi/v1/txt2img")  # -> ["b2"]

nginx is Debian's package: when it is missing and we are root (CI), it is installed with
apt-get; otherwise the tests that need it are skipped. It runs from a temporary folder
with its own configuration, pid file, logs and temp paths, never the system's.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

from tests.emulator import Emulator
from tests.emulator.server import Recorded
from webui.transport.http import ROUTE_HEADER

ROUTE_VARIABLE = "$http_" + ROUTE_HEADER.lower().replace("-", "_")  # $http_x_sdwebui_route
_PACKAGES = ("nginx-light", "nginx")


class NginxMissing(RuntimeError):
    pass


def nginx_binary() -> str:
    """The nginx executable, installed with apt-get first when missing and allowed (root)."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise NginxMissing("nginx is not installed and apt-get cannot run here (not root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=300", "-q"]
    subprocess.run([*apt, "update"], env=env, check=False, capture_output=True, timeout=600)
    for package in _PACKAGES:
        done = subprocess.run([*apt, "install", "-y", package], check=False, env=env, capture_output=True, timeout=600)
        if done.returncode == 0 and os.path.exists("/usr/sbin/nginx"):
            return "/usr/sbin/nginx"
    raise NginxMissing(f"apt-get could not install nginx: {done.stderr.decode(errors='replace')[-500:]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def config(port: int, backends: list[str], folder: Path) -> str:
    """The recipe of the README, on loopback, with everything nginx writes kept in ``folder``."""
    servers = "\n".join(f"        server {address} max_fails=1 fail_timeout=30s;" for address in backends)
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must reach the temp folder
    return f"""\
{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 512; }}
http {{
    access_log {folder}/access.log;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream webui {{
        hash {ROUTE_VARIABLE} consistent;
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 100m;
        location / {{
            proxy_pass http://webui;
            proxy_connect_timeout 5s;
            proxy_send_timeout 600s;
            proxy_read_timeout 600s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """nginx in the foreground, as a child of this process, with a generated config."""

    def __init__(self, backends: list[str]) -> None:
        self.binary = nginx_binary()
        self.backends = backends
        self.folder = Path(tempfile.mkdtemp(prefix="nginx-lb-"))
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Self:
        for _ in range(5):  # the free port may be taken between probe and bind: try another
            self.port = free_port()
            path = self.folder / "nginx.conf"
            path.write_text(config(self.port, self.backends, self.folder))
            command = [self.binary, "-p", str(self.folder), "-c", str(path), "-e", str(self.folder / "error.log")]
            self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._listening(5.0):
                return self
            self.stop()
        raise RuntimeError(f"nginx did not start:\n{self.errors}")

    def _listening(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return True
            except OSError:
                time.sleep(0.05)
        return False

    @property
    def errors(self) -> str:
        path = self.folder / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # fast shutdown of master and workers
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


class Balanced:
    """``count`` emulators named b1, b2, ... behind one nginx; ``url`` is the balancer's."""

    def __init__(self, count: int, setup: Callable[[Emulator], Any] | None = None, **emulator: Any) -> None:
        self.backends = {f"b{index + 1}": Emulator("a1111", name=f"b{index + 1}", **emulator) for index in range(count)}
        for server in self.backends.values():
            if setup is not None:
                setup(server)
        self.nginx = Nginx([server.url.removeprefix("http://") for server in self.backends.values()])

    @property
    def url(self) -> str:
        return self.nginx.url

    def __enter__(self) -> Self:
        for server in self.backends.values():
            server.start()
        try:
            self.nginx.start()
        except BaseException:
            self._stop_backends()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.nginx.__exit__()
        finally:
            self._stop_backends()

    def _stop_backends(self) -> None:
        for server in self.backends.values():
            server.stop()

    def stop(self, name: str) -> None:
        """Take one backend down: its port refuses connections from now on."""
        self.backends[name].stop()

    def requests(self, method: str | None = None, path: str | None = None) -> list[tuple[str, Recorded]]:
        """(backend name, request) of every matching request any backend received."""
        return [(name, r) for name, server in self.backends.items() for r in server.calls(method, path)]

    def served(self, method: str | None = None, path: str | None = None) -> list[str]:
        """The backends that received matching requests, one name per request."""
        return [name for name, _ in self.requests(method, path)]

    def where(self, predicate: Callable[[Recorded], bool]) -> list[str]:
        """The backends that received requests matching ``predicate``, one name per request."""
        return [name for name, request in self.requests() if predicate(request)]
