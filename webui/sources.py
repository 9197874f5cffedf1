"""Input images for img2img: downloaded from a URL, or decoded from base64 / a data: URI.

Downloads use their own session: the WebUI's credentials are never sent to a file URL.
Every image is checked to be a whole PNG, JPEG or WebP before it is sent.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from webui.errors import InputImageError
from webui.http import CONNECT_TIMEOUT, describe_connection_error, read_bounded
from webui.images import ImageInfo, decode_base64, encode_base64, load_image_bytes, looks_like_base64

MAX_INPUT_BYTES = 32 * 1024 * 1024
_SESSION = requests.Session()


@dataclass(frozen=True)
class InputImage:
    data: bytes
    image: ImageInfo

    def base64(self) -> str:
        return encode_base64(self.data)


def shown_url(url: str) -> str:
    """The URL without its query (signed file URLs carry long tokens there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def too_big(what: str, size: int, limit: int) -> InputImageError:
    return InputImageError(
        f"{what} is {_mib(size)}; the limit is {_mib(limit)}. Use a smaller image (A1111 resizes it to "
        "width × height anyway)."
    )


def download(url: str, *, what: str, timeout: float, max_bytes: int = MAX_INPUT_BYTES, hint: str = "") -> bytes:
    """GET ``url`` within ``timeout`` seconds and at most ``max_bytes``; ``hint`` is added to network errors."""
    if not url.startswith(("http://", "https://")):
        raise InputImageError(f"{what} has no usable address ({url[:80]!r} is not an http(s) URL).{hint}")
    deadline = time.monotonic() + timeout
    try:
        response = _SESSION.get(url, stream=True, timeout=(min(CONNECT_TIMEOUT, timeout), timeout))
    except requests.exceptions.Timeout:
        raise InputImageError(f"Could not download {what} from {shown_url(url)} within {timeout:g} s.{hint}") from None
    except requests.exceptions.RequestException as error:
        reason = describe_connection_error(error)
        raise InputImageError(f"Could not download {what} from {shown_url(url)}: {reason}.{hint}") from None
    with response:
        if response.status_code != 200:
            raise InputImageError(
                f"Could not download {what} from {shown_url(url)}: HTTP {response.status_code}.{hint}"
            )
        declared = int(response.headers.get("Content-Length") or 0)
        if declared > max_bytes:
            raise too_big(what, declared, max_bytes)
        try:
            body = read_bounded(
                response,
                deadline=deadline,
                max_bytes=max_bytes,
                too_big=lambda size: too_big(what, size, max_bytes),
                too_late=lambda: InputImageError(f"{what} did not finish downloading within {timeout:g} s."),
            )
        except requests.exceptions.RequestException:
            raise InputImageError(f"The download of {what} from {shown_url(url)} broke off.{hint}") from None
    return bytes(body)


def from_bytes(data: bytes, what: str) -> InputImage:
    return InputImage(data, load_image_bytes(data, what))


def from_text(text: str, *, what: str, timeout: float, max_bytes: int = MAX_INPUT_BYTES) -> InputImage:
    """An http(s) URL, a data:image/...;base64 URI, or plain base64."""
    value = text.strip()
    if value.startswith(("http://", "https://")):
        return from_bytes(download(value, what=what, timeout=timeout, max_bytes=max_bytes), what)
    if not value.startswith("data:") and not looks_like_base64(value):
        raise InputImageError(
            f"{what} must be an http(s) URL, a data:image/...;base64 URI or base64 text, got {value[:40]!r}."
        )
    try:
        data = decode_base64(value)
    except ValueError:
        raise InputImageError(f"{what} is not valid base64.") from None
    if len(data) > max_bytes:
        raise too_big(what, len(data), max_bytes)
    return from_bytes(data, what)
