"""Every fault the client can meet, as exceptions whose message a user can act on.

The tree has one base per kind of fault, like httpx's, so code and tests match on kinds:

    WebUIError
    ├── InputError            refused locally: nothing was sent to the WebUI
    │   ├── InvalidParameter  a tool input is missing, of the wrong type or out of range
    │   │   └── UnknownName   a name the server does not list
    │   ├── InputImageError   an input image could not be fetched, decoded or accepted
    │   ├── UnsafeInput       refused by the trust-boundary rules (docs/security.md)
    │   └── ExtensionMissing  the request needs a WebUI extension the server does not have
    ├── ServerUnreachable     no HTTP answer at all
    ├── ServerTimeout         no complete answer within the deadline
    │   └── GenerationTimeout ... of a generation (advice about raising the timeout)
    ├── ServerError           an HTTP error answer; carries ``status`` and the server's ``detail``
    │   ├── AuthenticationFailed  401
    │   ├── ApiDisabled           no such route (404/405): --api missing, or not a WebUI
    │   ├── ServerRejected        other 4xx
    │   ├── ServerFailed          5xx
    │   ├── JobFailed             a queued job failed (the queue reports it with HTTP 200)
    │   └── QueueStalled          the queue does not move and the plugin cannot set it going
    └── InvalidResponse       a 2xx answer that is not a usable answer

Callers show the class name next to the message ("error type: ServerFailed"). Messages
never contain credentials: they quote only the WebUI's own error fields, redacted
before they are clipped (webui/transport/http.py).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from http import HTTPStatus
from typing import Any

MAX_DETAIL_CHARS = 1200
# Bodies that are just a status phrase (Starlette's plain-text "Internal Server Error",
# which Forge sends for every 500) are the framework's own words and safe to quote.
_STATUS_PHRASES = {status.phrase for status in HTTPStatus}


def writable(text: str) -> str:
    """``text`` with lone UTF-16 surrogates as U+FFFD: a message holding one (quoted from a
    server's JSON or a tool input) could not be encoded by a caller, and its call would never end."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


class AddressRefusal(StrEnum):
    """Why an input URL's host was refused (UnsafeInput.address)."""

    PRIVATE = "private"
    NEVER = "never"


class WebUIError(Exception):
    """Base class: a fault with a message meant for the person running the workflow."""

    def __init__(self, message: str) -> None:
        message = writable(message)
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        """The message and any advice a caller added with ``add_note`` (what a caller shows)."""
        return " ".join([self.message, *getattr(self, "__notes__", ())])


class InputError(WebUIError):
    """Refused locally, before anything was sent to the WebUI."""


class InvalidParameter(InputError):
    """A tool input was missing, of the wrong type or out of range."""


class UnknownName(InvalidParameter):
    """A checkpoint, sampler, LoRA... name the server does not know."""


class InputImageError(InputError):
    """An input image could not be fetched, decoded or accepted."""


class UnsafeInput(InputError):
    """An input the trust-boundary rules refuse: a private address, a server write, code.

    ``address`` says when an input URL was refused for its host: PRIVATE (not public, or no
    such name: the operator may allow private addresses) or NEVER (link-local and metadata
    addresses, refused whatever is allowed); a caller adds how its operator decides."""

    def __init__(self, message: str, *, address: AddressRefusal | None = None) -> None:
        super().__init__(message)
        self.address = address


class ExtensionMissing(InputError):
    """The request needs a WebUI extension (ControlNet, ADetailer, ...) the server does not have."""


class ServerUnreachable(WebUIError):
    """No HTTP answer: connection refused, DNS failure, TLS failure, dropped connection."""


class ServerTimeout(WebUIError):
    """The server did not send a complete answer within the deadline."""


class GenerationTimeout(ServerTimeout):
    """A generation did not finish within the configured timeout."""


class ServerError(WebUIError):
    """The server answered with an HTTP error status."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class AuthenticationFailed(ServerError):
    """HTTP 401 from the server."""


class ApiDisabled(ServerError):
    """The route is missing: the server runs without --api, or it is not an A1111-compatible WebUI."""


class ServerRejected(ServerError):
    """HTTP 4xx: the server refused the request (validation, unknown script, ...)."""


class RateLimited(ServerError):
    """HTTP 429: the server's rate limit (SD.Next counts a request after it ran)."""


class ServerFailed(ServerError):
    """HTTP 5xx: the server raised while working on the request."""


class JobFailed(ServerError):
    """A job in the WebUI's queue (agent-scheduler) failed or was interrupted."""


class QueueStalled(ServerError):
    """The WebUI's queue (agent-scheduler) does not move, for a reason only the WebUI can clear."""


class InvalidResponse(WebUIError):
    """The server answered 2xx with something that is not a usable answer."""


def clip(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """One line of at most ``limit`` characters (and a note of the full length)."""
    text = " ".join(text.split())
    if len(text) > limit:
        return text[:limit] + f"… ({len(text)} characters)"
    return text


def _format_validation_item(item: Any) -> str:
    """One FastAPI 422 item (pydantic v1 or v2 shape) as 'field: message'."""
    if not isinstance(item, dict):
        return str(item)
    raw_loc = item.get("loc")
    loc = [str(part) for part in raw_loc if part != "body"] if isinstance(raw_loc, list) else []
    msg = str(item.get("msg", "invalid value"))
    if "input" in item and not isinstance(item["input"], (dict, list)):
        msg += f" (got {item['input']!r})"
    return f"{'.'.join(loc)}: {msg}" if loc else msg


def describe_body(text: str, content_type: str) -> str:
    """What a non-JSON body is, without quoting it (it may not come from the WebUI)."""
    size = len(text.encode("utf-8", "replace"))
    if "html" in content_type or text.lstrip()[:15].lower().startswith(("<!doctype", "<html")):
        return f"an HTML page ({size} bytes)"
    return f"a non-JSON body ({size} bytes)" if text.strip() else "an empty body"


def _keep(text: str) -> str:
    return text


def server_detail(body: Any, text: str, content_type: str = "", clean: Callable[[str], str] = _keep) -> str:
    """The server's own explanation, quoted only from the WebUI's error fields.

    A1111/reForge: ``{"error", "detail", "body", "errors"}``; Forge's 500s say ``message``
    for ``errors``; FastAPI (Forge's other errors, 422s): ``{"detail": str | list}``; SD.Next
    adds ``code``; a JSON string is quoted as is.
    Anything else is described, not quoted: it may be a page from another service.
    ``clean`` (credential redaction) runs on the whole text before it is clipped.
    """
    if isinstance(body, dict):
        parts: list[str] = []
        detail = body.get("detail")
        if isinstance(detail, list):
            parts.append("; ".join(_format_validation_item(item) for item in detail[:20]))
        elif detail:
            parts.append(str(detail))
        errors = body.get("errors") or body.get("message")  # Forge's 500 bodies say "message"
        if errors and str(errors) not in parts:
            parts.append(str(errors))
        if parts:
            return clip(clean(" — ".join(parts)))
        if body.get("error"):
            return clip(clean(str(body["error"])))
        return "a JSON answer without an error message"
    if isinstance(body, str) and body:
        return clip(clean(body))
    if body is None and text.strip() in _STATUS_PHRASES:
        return text.strip()
    if body is not None:
        return f"a JSON {type(body).__name__} without an error message"
    return describe_body(text, content_type)


def _hint(status: int, error_class: str, detail: str) -> str:
    """A sentence on what to do, for faults users meet often."""
    lowered = detail.lower()
    if "out of memory" in lowered or error_class == "OutOfMemoryError":
        return (
            " The GPU ran out of memory: lower width/height, batch_size or hr_scale, "
            "or start the server with --medvram/--lowvram."
        )
    if "sampler not found" in lowered:
        return (
            " The sampler name is not one this server knows. A1111 1.9+ takes the "
            "scheduler separately (sampler_name 'DPM++ 2M' + scheduler 'Karras'); "
            "1.8 and older use combined names ('DPM++ 2M Karras')."
        )
    if "nansexception" in lowered or "tensor with nans" in lowered or "with nans" in lowered:
        return (
            " The model produced NaNs (often the VAE in half precision): try another "
            "VAE, or start the server with --no-half-vae."
        )
    if "could not find upscaler" in lowered:
        return " Use an upscaler name from the server's /sdapi/v1/upscalers list or a Latent mode."
    if "script" in lowered and "not found" in lowered:
        return " Script titles come from the server's /sdapi/v1/scripts list."
    if detail == "Internal Server Error":
        return " This server sends no error details over the API: the reason is in the server's console log."
    if status == 413:
        return " The request is larger than a proxy in front of the server accepts."
    if status in (502, 503, 504):
        return (
            " A proxy in front of the server could not reach it or gave up waiting; "
            "check the server, or the proxy's own timeout for long generations."
        )
    return ""


def error_from_response(
    status: int,
    body: Any,
    text: str,
    action: str,
    content_type: str = "",
    clean: Callable[[str], str] = _keep,
) -> ServerError:
    """Map a non-2xx answer to the right exception, carrying the server's detail.

    ``body`` is the parsed JSON (or None), ``text`` the raw body, ``action`` what we
    were doing ("run txt2img", "list the checkpoints"), ``clean`` the redaction.
    """
    detail = server_detail(body, text, content_type, clean)
    error_class = str(body.get("error", "")) if isinstance(body, dict) else ""
    if status == 401:
        return AuthenticationFailed(
            f"The server refused the credentials while trying to {action} (HTTP 401: {detail}). "
            "Check the username and password in the plugin's authorization: they must match "
            "the server's --api-auth user:password.",
            status,
            detail,
        )
    if status == 404 and (detail == "Not Found" or body == {"detail": "Not Found"}):
        return ApiDisabled(
            f"The server has no such API route while trying to {action} (HTTP 404 Not Found). "
            "Start the WebUI with --api (or --nowebui), and check that the base URL points at it.",
            status,
            detail,
        )
    if status == 429:
        return RateLimited(
            f"The server refused to {action}: its rate limit was exceeded (HTTP 429: {detail}). "
            "SD.Next counts a request after running it, so a refused generation may have run on the "
            "server; its pictures are not returned and it is not sent again. Wait a minute, or raise "
            "server_rate_limit in the server's settings.",
            status,
            detail,
        )
    if status == 405:
        return ApiDisabled(
            f"The server does not accept this method while trying to {action} (HTTP 405). "
            "The base URL may point at something other than the WebUI API.",
            status,
            detail,
        )
    label = f"HTTP {status} {clip(error_class, 80)}".strip()
    message = f"The server could not {action} ({label}): {detail}.{_hint(status, error_class, detail)}"
    if status >= 500:
        return ServerFailed(message, status, detail)
    return ServerRejected(message, status, detail)
