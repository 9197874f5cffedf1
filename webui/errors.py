"""Every fault the client can meet, as exceptions whose message a user can act on.

The class name is shown by Dify next to the message ("error type: ServerFailed"),
so each class names the kind of fault. Messages never contain credentials: they are
built from our own text plus the server's own ``detail``/``errors`` fields.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DETAIL_CHARS = 1200


class WebUIError(Exception):
    """Base class: a fault with a message meant for the person running the workflow."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InvalidParameter(WebUIError):
    """A tool input was missing, of the wrong type or out of range (nothing was sent)."""


class UnknownName(InvalidParameter):
    """A checkpoint, sampler, LoRA... name the server does not know."""


class InputImageError(WebUIError):
    """An input image could not be fetched, decoded or accepted."""


class ServerUnreachable(WebUIError):
    """No HTTP answer: connection refused, DNS failure, TLS failure, dropped connection."""


class GenerationTimeout(WebUIError):
    """The server did not answer within the configured timeout."""


class AuthenticationFailed(WebUIError):
    """HTTP 401 from the server."""


class ApiDisabled(WebUIError):
    """The /sdapi/v1 routes are missing: the server runs without --api, or it is not A1111."""


class ServerRejected(WebUIError):
    """HTTP 4xx: the server refused the request (validation, unknown script, ...)."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class ServerFailed(WebUIError):
    """HTTP 5xx: the server raised while working on the request."""

    def __init__(self, message: str, status: int, detail: str) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class InvalidResponse(WebUIError):
    """The server answered 200 with something that is not a usable A1111 answer."""


def _clip(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_DETAIL_CHARS:
        return text[:MAX_DETAIL_CHARS] + f"… ({len(text)} characters)"
    return text


def _format_validation_item(item: Any) -> str:
    """One FastAPI 422 item (pydantic v1 or v2 shape) as 'field: message'."""
    if not isinstance(item, dict):
        return str(item)
    loc = [str(part) for part in item.get("loc", []) if part != "body"]
    msg = str(item.get("msg", "invalid value"))
    if "input" in item and not isinstance(item["input"], (dict, list)):
        msg += f" (got {item['input']!r})"
    return f"{'.'.join(loc)}: {msg}" if loc else msg


def server_detail(body: Any, text: str) -> str:
    """The server's own explanation, whatever shape the body has.

    A1111/reForge: ``{"error", "detail", "body", "errors"}``; FastAPI (Forge, 422s):
    ``{"detail": str | list}``; SD.Next adds ``code``; anything else: the raw text.
    """
    if isinstance(body, dict):
        parts: list[str] = []
        detail = body.get("detail")
        if isinstance(detail, list):
            parts.append("; ".join(_format_validation_item(item) for item in detail))
        elif detail:
            parts.append(str(detail))
        errors = body.get("errors")
        if errors and str(errors) not in parts:
            parts.append(str(errors))
        if parts:
            return _clip(" — ".join(parts))
        if body.get("error"):
            return _clip(str(body["error"]))
        return _clip(json.dumps(body, ensure_ascii=False))
    if isinstance(body, str) and body:
        return _clip(body)
    return _clip(text) if text.strip() else "(empty body)"


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
        return (
            " This server (Forge does this) sends no error details over the API: "
            "the reason is in the server's console log."
        )
    if status == 413:
        return " The request is larger than a proxy in front of the server accepts."
    if status in (502, 503, 504):
        return (
            " A proxy in front of the server could not reach it or gave up waiting; "
            "check the server, or the proxy's own timeout for long generations."
        )
    return ""


def error_from_response(status: int, body: Any, text: str, action: str) -> WebUIError:
    """Map a non-2xx answer to the right exception, carrying the server's detail.

    ``body`` is the parsed JSON (or None), ``text`` the raw body, ``action`` what we
    were doing ("txt2img", "list the checkpoints").
    """
    detail = server_detail(body, text)
    error_class = str(body.get("error", "")) if isinstance(body, dict) else ""
    if status == 401:
        return AuthenticationFailed(
            f"The server refused the credentials while trying to {action} (HTTP 401: {detail}). "
            "Check the username and password in the plugin's authorization: they must match "
            "the server's --api-auth user:password."
        )
    if status == 404 and detail in ("Not Found", '{"detail": "Not Found"}'):
        return ApiDisabled(
            f"The server has no such API route while trying to {action} (HTTP 404 Not Found). "
            "Start the WebUI with --api (or --nowebui), and check that the base URL points at it."
        )
    if status == 405:
        return ApiDisabled(
            f"The server does not accept this method while trying to {action} (HTTP 405). "
            "The base URL may point at something other than the WebUI API."
        )
    label = f"HTTP {status} {error_class}".strip()
    message = f"The server could not {action} ({label}): {detail}.{_hint(status, error_class, detail)}"
    if status >= 500:
        return ServerFailed(message, status, detail)
    return ServerRejected(message, status, detail)
