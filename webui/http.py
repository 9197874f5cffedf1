"""The one HTTP layer: server settings, auth, timeouts, bounded reads, fault mapping."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import ssl
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from webui.errors import (
    GenerationTimeout,
    InvalidParameter,
    InvalidResponse,
    ServerUnreachable,
    error_from_response,
)

DEFAULT_TIMEOUT = 600.0
MAX_TIMEOUT = 86400.0
CONNECT_TIMEOUT = 10.0
LIST_TIMEOUT = 30.0
LIST_MAX_BYTES = 64 * 1024 * 1024
GENERATION_MAX_BYTES = 1024 * 1024 * 1024
_CHUNK = 1024 * 1024
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "[::1]"}
_SESSIONS_KEPT = 16


def _strip_known_suffixes(path: str) -> str:
    path = path.rstrip("/")
    for suffix in ("/sdapi/v1", "/sdapi", "/docs", "/openapi.json"):
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
    return path


def parse_timeout(value: Any, name: str = "timeout") -> float:
    """Seconds as a positive number; accepts numbers and numeric strings."""
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise InvalidParameter(f"{name} must be a number of seconds, got {value!r}.") from None
    if not (0 < seconds <= MAX_TIMEOUT):
        raise InvalidParameter(f"{name} must be between 1 and {MAX_TIMEOUT:g} seconds, got {value!r}.")
    return seconds


@dataclass(frozen=True)
class ServerConfig:
    """Where the WebUI is and how to talk to it. Build it with :meth:`create`."""

    base_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    verify_ssl: bool = True

    @classmethod
    def create(
        cls,
        base_url: str,
        username: str = "",
        password: str = "",
        api_key: str = "",
        timeout: Any = DEFAULT_TIMEOUT,
        verify_ssl: bool = True,
    ) -> ServerConfig:
        """Normalise and check the settings a user typed (raises InvalidParameter)."""
        raw = (base_url or "").strip()
        if not raw:
            raise InvalidParameter(
                "The base URL is empty: enter the WebUI address, e.g. http://host.docker.internal:7860."
            )
        if "://" not in raw:
            raw = "http://" + raw
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameter(f"The base URL must look like http://host:port (got {redact_url(raw)}).")
        # Credentials written into the URL move to the auth fields and out of the URL,
        # so that the URL can be shown in messages.
        if parts.username and not username:
            username = unquote(parts.username)
        if parts.password and not password:
            password = unquote(parts.password)
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
        try:
            port = parts.port
        except ValueError:
            raise InvalidParameter(f"The base URL has an invalid port: {redact_url(raw)}.") from None
        if port:
            netloc += f":{port}"
        clean = urlunsplit((parts.scheme, netloc, _strip_known_suffixes(parts.path), "", ""))
        username, password, api_key = (username or "").strip(), password or "", (api_key or "").strip()
        if password and not username:
            raise InvalidParameter("A password is set but the username is empty.")
        if username and api_key:
            raise InvalidParameter(
                "Set either username/password (A1111 --api-auth) or an API key (a gateway's "
                "bearer token), not both: both are sent in the HTTP Authorization header."
            )
        return cls(
            base_url=clean,
            username=username,
            password=password,
            api_key=api_key,
            timeout=parse_timeout(timeout),
            verify_ssl=bool(verify_ssl),
        )

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def is_local_host(self) -> bool:
        return self.host in _LOCAL_HOSTS

    def fingerprint(self) -> str:
        """A cache key that changes with any setting; it reveals nothing about them."""
        raw = "\0".join([self.base_url, self.username, self.password, self.api_key, str(self.verify_ssl)])
        return hashlib.sha256(raw.encode()).hexdigest()

    def auth_headers(self) -> dict[str, str]:
        if self.username:
            token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return {"Authorization": f"Basic {token}"}
        if self.api_key:
            return {"Authorization": f"Bearer {self.api_key}"}
        return {}

    def secrets(self) -> list[str]:
        """Strings that must never appear in a message, log or output."""
        values = [self.password, self.api_key]
        if self.username:
            values.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode())
        return [value for value in values if value]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return text


def redact_url(url: str) -> str:
    """The URL without any user:password@ part."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


def _root_cause(error: BaseException) -> BaseException:
    seen: set[int] = set()
    current: BaseException = error
    while id(current) not in seen:
        seen.add(id(current))
        nested = current.__cause__ or current.__context__
        if nested is None and current.args and isinstance(current.args[0], BaseException):
            nested = current.args[0]
        if nested is None:
            reason = getattr(current, "reason", None)
            nested = reason if isinstance(reason, BaseException) else None
        if nested is None:
            break
        current = nested
    return current


def describe_connection_error(error: BaseException) -> str:
    cause = _root_cause(error)
    if isinstance(cause, socket.gaierror) or "NameResolution" in type(cause).__name__:
        return "the host name does not resolve"
    if isinstance(cause, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(cause, (ssl.SSLError, requests.exceptions.SSLError)):
        return "the TLS handshake failed (for a self-signed certificate, turn off SSL verification)"
    if isinstance(cause, (http.client.RemoteDisconnected, ConnectionResetError, urllib3.exceptions.ProtocolError)):
        return "the server closed the connection without answering"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return type(cause).__name__


def _unreachable(config: ServerConfig, reason: str) -> ServerUnreachable:
    advice = (
        " Inside Dify's Docker containers, localhost is the plugin's own container: use "
        "http://host.docker.internal:7860 (Docker Desktop) or the machine's LAN IP address, "
        "and start the WebUI with --listen so that it accepts connections from other hosts."
        if config.is_local_host
        else " Check that the WebUI is running with --api and --listen, and that no firewall blocks the port."
    )
    return ServerUnreachable(f"Could not reach the WebUI at {config.base_url}: {reason}.{advice}")


class _SessionPool:
    """One requests.Session per server config, so connections are reused across calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, requests.Session] = OrderedDict()

    def get(self, config: ServerConfig) -> requests.Session:
        key = config.fingerprint()
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                session = requests.Session()
                adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32, max_retries=0)
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                self._sessions[key] = session
                while len(self._sessions) > _SESSIONS_KEPT:
                    _, old = self._sessions.popitem(last=False)
                    old.close()
            self._sessions.move_to_end(key)
            return session


_POOL = _SessionPool()


def read_bounded(
    response: requests.Response,
    *,
    deadline: float,
    max_bytes: int,
    too_big: Callable[[int], Exception],
    too_late: Callable[[], Exception],
) -> bytearray:
    """The whole body, refused with ``too_big(size)`` past ``max_bytes`` and with
    ``too_late()`` past the monotonic ``deadline``."""
    body = bytearray()
    for chunk in response.iter_content(chunk_size=_CHUNK):
        body += chunk
        if len(body) > max_bytes:
            raise too_big(len(body))
        if time.monotonic() > deadline:
            raise too_late()
    return body


@dataclass
class Reply:
    status: int
    body: Any  # parsed JSON, or None when the body is not JSON
    text: str  # the raw body as text, only kept when it is small
    content_type: str


class Transport:
    """Sends requests to one WebUI and turns every failure into a WebUIError."""

    def __init__(self, config: ServerConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self._session = session or _POOL.get(config)

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def send(
        self,
        method: str,
        path: str,
        *,
        payload: Any = None,
        timeout: float,
        max_bytes: int = LIST_MAX_BYTES,
    ) -> Reply:
        """One request; raises ServerUnreachable or GenerationTimeout, never requests' errors."""
        started = time.monotonic()
        deadline = started + timeout
        headers = {"Accept": "application/json", **self.config.auth_headers()}
        data = None
        if payload is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            response = self._session.request(
                method,
                self.url(path),
                data=data,
                headers=headers,
                timeout=(min(CONNECT_TIMEOUT, timeout), timeout),
                verify=self.config.verify_ssl,
                stream=True,
                allow_redirects=True,
            )
        except requests.exceptions.ConnectTimeout:
            raise _unreachable(self.config, f"no connection within {min(CONNECT_TIMEOUT, timeout):g} s") from None
        except requests.exceptions.ReadTimeout:
            raise GenerationTimeout(self._timeout_message(timeout)) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.TooManyRedirects) as error:
            raise _unreachable(self.config, describe_connection_error(error)) from None
        except requests.exceptions.RequestException as error:
            raise _unreachable(self.config, type(error).__name__) from None
        try:
            raw = read_bounded(
                response,
                deadline=deadline,
                max_bytes=max_bytes,
                too_big=lambda _: InvalidResponse(
                    f"The server's answer is larger than {max_bytes // 2**20} MiB; ask for fewer or smaller images."
                ),
                too_late=lambda: GenerationTimeout(
                    f"The server did not finish sending its answer within {timeout:g} s."
                ),
            )
        except requests.exceptions.ConnectionError as error:
            if isinstance(_root_cause(error), (TimeoutError, socket.timeout)) or "timed out" in str(error):
                raise GenerationTimeout(self._timeout_message(timeout)) from None
            raise _unreachable(self.config, "the connection dropped while the answer was being read") from None
        except requests.exceptions.RequestException:
            raise _unreachable(self.config, "the connection dropped while the answer was being read") from None
        finally:
            response.close()
        content_type = response.headers.get("content-type", "")
        snippet = bytes(raw[:4096]).decode("utf-8", errors="replace")
        # Large answers carry base64 images: free each copy as soon as the next exists,
        # so that at most two copies of the answer are alive at once.
        text = raw.decode("utf-8", errors="replace")
        del raw
        try:
            body = json.loads(text)
        except ValueError:
            body = None
        del text
        keep = snippet if body is None or response.status_code >= 400 else ""
        return Reply(response.status_code, body, keep, content_type)

    def _timeout_message(self, timeout: float) -> str:
        return (
            f"The WebUI at {self.config.base_url} did not answer within {timeout:g} s. "
            "Raise the tool's `timeout` parameter or the provider's timeout setting; note that "
            "Dify itself ends every plugin call after PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by "
            "default), so longer jobs also need that raised in Dify's .env. The job may still "
            "be running on the server."
        )

    def call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        payload: Any = None,
        timeout: float = LIST_TIMEOUT,
        max_bytes: int = LIST_MAX_BYTES,
    ) -> Any:
        """Send and return the parsed JSON body of a 2xx answer; map anything else."""
        reply = self.send(method, path, payload=payload, timeout=timeout, max_bytes=max_bytes)
        if reply.status >= 400:
            raise error_from_response(reply.status, reply.body, reply.text, action)
        if reply.body is None and "json" not in reply.content_type:
            snippet = " ".join(reply.text.split())[:160]
            kind = (
                "an HTML page" if "<html" in reply.text.lower() or "html" in reply.content_type else "a non-JSON body"
            )
            raise InvalidResponse(
                f"The server answered {kind} instead of JSON while trying to {action}"
                f" ({snippet!r}). The base URL does not point at an A1111-compatible API: "
                "check the address and port (the WebUI's API is on the same port as its page, "
                "7860 by default; --nowebui serves it on 7861)."
            )
        return reply.body
