"""Talking to one WebUI: its settings (ServerConfig), and Transport, which sends a request
through webui/transport/net.py and turns every outcome into parsed JSON or a WebUIError.

Rules that protect the plugin's neighbours (docs/security.md):
- a redirect is followed only within the WebUI's own origin; a POST is never re-sent
  to another host;
- error text is quoted only from the WebUI's error fields, and credentials are
  redacted from it before it is clipped;
- every call has a total deadline and a size cap.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from webui.errors import (
    GenerationTimeout,
    InvalidParameter,
    InvalidResponse,
    ServerTimeout,
    ServerUnreachable,
    WebUIError,
    describe_body,
    error_from_response,
)
from webui.transport.answers import parse_answer, parse_json
from webui.transport.net import Deadline, DeadlinePassed, NetError, Origin, TooLarge, fetch
from webui.units import mib

DEFAULT_TIMEOUT = 600.0
MIN_TIMEOUT = 1
MAX_TIMEOUT = 86400
LIST_TIMEOUT = 30.0
LIST_MAX_BYTES = 64 * 1024 * 1024
# One call's share of the manifest's 1 GiB with four calls in flight and the process's own
# ~80 MiB. A request body costs about 3 times its size while the call waits (the pictures'
# bytes, their base64, the encoded body: measured 125 MiB for a 42 MiB body), an answer
# 1.75 times its size at the peak (webui/transport/answers.py): a call with a large request
# may take a smaller answer.
CALL_MEMORY = 236 * 1024 * 1024
_BODY_COST, _ANSWER_COST = 3.0, 1.75
MIN_ANSWER_BYTES = 16 * 1024 * 1024
_REDIRECTS = 3
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
# Sent with every request; a load balancer in front of several WebUIs hashes on it, so
# that all requests of one tool call (and all look-ups of one queued job) reach one WebUI.
ROUTE_HEADER = "X-SDWebUI-Route"
log = logging.getLogger("sdwebui")


def _strip_known_suffixes(path: str) -> str:
    path = path.rstrip("/")
    for suffix in ("/sdapi/v1", "/sdapi", "/docs", "/openapi.json"):
        if path.endswith(suffix):
            path = path[: -len(suffix)].rstrip("/")
    return path


def parse_timeout(value: Any, name: str = "timeout") -> float:
    """Seconds from MIN_TIMEOUT to MAX_TIMEOUT; accepts numbers and numeric strings."""
    try:
        seconds = float(str(value).strip())
    except ValueError:
        raise InvalidParameter(f"{name} must be a number of seconds, got {str(value)[:40]!r}.") from None
    if not (MIN_TIMEOUT <= seconds <= MAX_TIMEOUT):
        raise InvalidParameter(
            f"{name} must be between {MIN_TIMEOUT:g} and {MAX_TIMEOUT:g} seconds, got {str(value)[:40]!r}."
        )
    return seconds


def split_credentials(url: str) -> tuple[str, str, str]:
    """(URL without user:password@, user, password) of a URL as a person typed it.

    The user info ends at the last '@' of the authority, so passwords may contain
    '#', '?' or '/' (which a URL parser would take for the start of the path); it is
    user info only when the user name itself has no '/'.
    """
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url, "", ""
    userinfo, _, hostpart = rest.rpartition("@")
    user, _, password = userinfo.partition(":")
    if "/" in user:
        return url, "", ""
    return f"{scheme}://{hostpart}", unquote(user), unquote(password)


def shown_url(url: str) -> str:
    """A URL safe to show: no user info, no query (signed file URLs carry tokens there)."""
    clean, _, _ = split_credentials(url)
    parts = urlsplit(clean)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


@dataclass(frozen=True)
class ServerConfig:
    """The provider's settings: where the WebUI is, how to talk to it, what inputs may reach.

    Build it with :meth:`create`."""

    base_url: str
    username: str = ""
    password: str = field(default="", repr=False)
    api_key: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    verify_ssl: bool = True
    allow_private_image_urls: bool = False

    @classmethod
    def create(
        cls,
        base_url: str,
        username: str = "",
        password: str = "",
        api_key: str = "",
        timeout: Any = DEFAULT_TIMEOUT,
        verify_ssl: bool = True,
        allow_private_image_urls: bool = False,
    ) -> ServerConfig:
        """Normalise and check the settings a user typed (raises InvalidParameter)."""
        raw = (base_url or "").strip()
        if not raw:
            raise InvalidParameter(
                "The base URL is empty: enter the WebUI address, e.g. http://host.docker.internal:7860."
            )
        if "://" not in raw:
            raw = "http://" + raw
        # Credentials written into the URL move to the auth fields before the URL is
        # parsed, so that no message can ever show them.
        raw, url_user, url_password = split_credentials(raw)
        username = username or url_user
        password = password or url_password
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidParameter(f"The base URL must look like http://host:port (got {shown_url(raw)[:200]}).")
        try:
            port = parts.port
        except ValueError:
            raise InvalidParameter(f"The base URL has an invalid port: {shown_url(raw)[:200]}.") from None
        netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
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
            allow_private_image_urls=bool(allow_private_image_urls),
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


def _unreachable(config: ServerConfig, reason: str) -> ServerUnreachable:
    advice = (
        " localhost names the machine the client runs on (in a container, that container): use an "
        "address of the WebUI's machine the client can reach, and start the WebUI with --listen so "
        "that it accepts connections from other hosts."
        if config.is_local_host
        else " Check that the WebUI is running with --api and --listen, and that no firewall blocks the port."
    )
    return ServerUnreachable(f"Could not reach the WebUI at {config.base_url}: {reason}.{advice}")


def new_route() -> str:
    """A routing key: random, so it tells nothing about the call or the user."""
    return secrets.token_hex(8)


class Transport:
    """Sends requests to one WebUI and turns every failure into a WebUIError.

    Every request carries ``route`` in the ROUTE_HEADER header: one key per transport,
    hence per tool call, unless a queued job's key is given."""

    def __init__(self, config: ServerConfig, route: str | None = None, deadline: Deadline | None = None) -> None:
        self.config = config
        self.route = route or new_route()
        self._origin = Origin.of(config.base_url)
        # The tool call's deadline: no request ends later, whatever its own timeout.
        self.deadline = deadline or Deadline.after(config.timeout)

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def redact(self, text: str) -> str:
        return redact(text, self.config.secrets())

    def _timeout_error(self, action: str, seconds: float, generation: bool, hint: str) -> WebUIError:
        if generation:
            return GenerationTimeout(
                f"The WebUI at {self.config.base_url} did not answer within {seconds:g} s. Raise the tool's "
                "`timeout` parameter or the provider's timeout setting. The job may still be running on the "
                "server." + hint
            )
        return ServerTimeout(
            f"The WebUI at {self.config.base_url} did not answer within {seconds:g} s while trying to {action}. "
            "The server may be busy loading a model or running a long job; try again." + hint
        )

    def _follow(self, method: str, url: str, body: bytes | None, deadline: Deadline, max_bytes: int, action: str):
        headers = {"Accept": "application/json", ROUTE_HEADER: self.route, **self.config.auth_headers()}
        if body is not None:
            headers["Content-Type"] = "application/json"
        for _ in range(_REDIRECTS + 1):
            response = fetch(
                method,
                url,
                deadline=deadline,
                max_bytes=max_bytes,
                headers=headers,
                body=body,
                verify=self.config.verify_ssl,
            )
            target = response.redirect()
            if target is None:
                return response
            same_origin = _same_origin(target, self._origin)
            keeps_method = response.status in (307, 308) or method in ("GET", "HEAD")
            if not (same_origin and keeps_method):
                where = "another address" if not same_origin else "a GET request"
                raise InvalidResponse(
                    f"The server answered HTTP {response.status} (a redirect to {where}) while trying to {action}; "
                    "the plugin does not follow it. Set the base URL to the WebUI's own address "
                    "(scheme, host and port as the WebUI serves them)."
                )
            url = target
        raise InvalidResponse(f"The server redirected more than {_REDIRECTS} times while trying to {action}.")

    def call(
        self,
        method: str,
        path: str,
        *,
        action: str,
        payload: Any = None,
        timeout: float = LIST_TIMEOUT,
        max_bytes: int = LIST_MAX_BYTES,
        generation: bool = False,
        quiet: bool = False,
        timeout_hint: str = "",
    ) -> Any:
        """Send and return the parsed JSON body of a 2xx answer; map anything else.

        ``generation`` marks a call whose timeout is a GenerationTimeout, ``timeout_hint`` is
        added to a timeout's message, ``quiet`` keeps a frequent request (progress polls) out
        of the plugin's log."""
        level = logging.DEBUG if quiet else logging.INFO
        started = time.monotonic()
        own = Deadline.after(timeout)
        deadline = own if own.end <= self.deadline.end else self.deadline
        # The gate reads the request models, which import this module: imported here.
        from webui.transport.gate import encode_body

        body = None if payload is None else encode_body(path, payload)
        if body is not None:
            room = int((CALL_MEMORY - _BODY_COST * len(body)) / _ANSWER_COST)
            max_bytes = min(max_bytes, max(room, MIN_ANSWER_BYTES))
        try:
            response = self._follow(method, self.url(path), body, deadline, max_bytes, action)
        except DeadlinePassed:
            log.log(level, "%s %s: no answer within %g s", method, self.url(path), deadline.seconds)
            raise self._timeout_error(action, deadline.seconds, generation, timeout_hint) from None
        except TooLarge as error:
            raise InvalidResponse(
                f"The server's answer while trying to {action} is larger than {mib(max_bytes)} "
                f"(at least {mib(error.size)}); ask for fewer or smaller images."
            ) from None
        except NetError as error:
            if error.answered:
                raise InvalidResponse(f"The server at {self.config.base_url} sent {error.reason}.") from None
            raise _unreachable(self.config, error.reason) from None
        seconds = time.monotonic() - started
        log.log(
            level,
            "%s %s -> HTTP %d, %s in %.1f s",
            method,
            self.url(path),
            response.status,
            mib(len(response.body)),
            seconds,
        )
        return self._parsed(response, action)

    def _parsed(self, response: Any, action: str) -> Any:
        if response.status >= 400:
            try:
                parsed = parse_json(response.body)
            except ValueError:
                parsed = None
            text = response.body[:65536].decode("utf-8", "replace")
            raise error_from_response(response.status, parsed, text, action, response.content_type, self.redact)
        try:
            return parse_answer(response.body)
        except ValueError:
            text = response.body[:4096].decode("utf-8", "replace")
            raise InvalidResponse(
                f"The server answered {describe_body(text, response.content_type)} instead of JSON while trying "
                f"to {action}. The base URL does not point at an A1111-compatible API: check the address and "
                "port (the WebUI's API is on the same port as its page, 7860 by default; --nowebui serves it "
                "on 7861)."
            ) from None


def _same_origin(url: str, origin: Origin) -> bool:
    try:
        return Origin.of(url) == origin
    except NetError:
        return False
