"""Input images: downloaded from a URL, or decoded from base64 / a data: URI.

Every string image input may have been chosen by an LLM, so it goes through one policy
(docs/security.md): only http(s) URLs, ``data:image/...;base64,`` URIs and plain base64;
hosts that resolve to loopback, private, link-local or other non-public addresses are
refused before any connection unless the operator turned on ``allow_private_image_urls``;
every redirect hop is checked again. Downloads never carry the WebUI's credentials and
keep no cookies. Every image is checked to be a whole PNG, JPEG or WebP.
"""

from __future__ import annotations

from dataclasses import dataclass

from webui.errors import InputImageError, UnsafeInput
from webui.images.formats import ImageInfo, check_image, decode_base64, encode_base64, looks_like_base64, split_data_uri
from webui.transport.http import shown_url
from webui.transport.net import (
    AddressPolicy,
    AddressRefused,
    Deadline,
    DeadlinePassed,
    NetError,
    Origin,
    TooLarge,
    fetch,
)
from webui.units import mib

MAX_INPUT_BYTES = 32 * 1024 * 1024
_REDIRECTS = 5
PRIVATE_SETTING = "allow_private_image_urls"


@dataclass(frozen=True)
class InputImage:
    data: bytes | bytearray
    image: ImageInfo

    def base64(self) -> str:
        return encode_base64(self.data)


def too_big(what: str, size: int, limit: int) -> InputImageError:
    return InputImageError(
        f"{what} is {mib(size)}; the limit is {mib(limit)}. Use a smaller image (A1111 resizes it to "
        "width × height anyway)."
    )


def _refused(what: str, host: str) -> UnsafeInput:
    return UnsafeInput(
        f"{what} points at a local or private address ({host[:100]}), which the plugin does not fetch: "
        "a URL chosen by an agent could otherwise reach services inside Dify's network. If your images "
        f"really are on your own network, turn on '{PRIVATE_SETTING}' in the plugin's authorization."
    )


def download(
    url: str,
    *,
    what: str,
    timeout: float,
    policy: AddressPolicy,
    max_bytes: int = MAX_INPUT_BYTES,
    hint: str = "",
) -> bytes | bytearray:
    """GET ``url`` within ``timeout`` seconds and at most ``max_bytes``, following at most
    five redirects, each checked by ``policy``; ``hint`` is added to network errors."""
    deadline = Deadline.after(timeout)
    for _ in range(_REDIRECTS + 1):
        try:
            response = fetch("GET", url, deadline=deadline, max_bytes=max_bytes, policy=policy)
        except AddressRefused as error:
            raise _refused(what, error.host) from None
        except DeadlinePassed:
            raise InputImageError(
                f"Could not download {what} from {shown_url(url)} within {timeout:g} s.{hint}"
            ) from None
        except TooLarge as error:
            raise too_big(what, error.size, max_bytes) from None
        except NetError as error:
            raise InputImageError(f"Could not download {what} from {shown_url(url)}: {error.reason}.{hint}") from None
        target = response.redirect()
        if target is None:
            if response.status != 200:
                raise InputImageError(f"Could not download {what} from {shown_url(url)}: HTTP {response.status}.{hint}")
            return response.body
        try:
            Origin.of(target)
        except NetError:
            raise InputImageError(f"{what}: {shown_url(url)} redirects to an address that is not http(s).") from None
        url = target
    raise InputImageError(f"{what}: {shown_url(url)} redirects more than {_REDIRECTS} times.")


def from_bytes(data: bytes | bytearray, what: str) -> InputImage:
    return InputImage(data, check_image(data, what))


def from_text(
    text: str, *, what: str, timeout: float, policy: AddressPolicy, max_bytes: int = MAX_INPUT_BYTES
) -> InputImage:
    """An http(s) URL, a data:image/...;base64 URI, or plain base64."""
    value = text.strip()
    if value[:8].lower().startswith(("http://", "https://")):
        return from_bytes(download(value, what=what, timeout=timeout, policy=policy, max_bytes=max_bytes), what)
    try:
        uri = split_data_uri(value)
    except ValueError as error:
        raise InputImageError(f"{what}: {error}.") from None
    if uri is not None and not uri[0].startswith("image/"):
        raise InputImageError(f"{what} is a data: URI of {uri[0][:40]!r}; only data:image/...;base64 is accepted.")
    if uri is None and not looks_like_base64(value):
        raise InputImageError(
            f"{what} must be an http(s) URL, a data:image/...;base64 URI or base64 text, got {value[:40]!r}."
        )
    if len(value) > max_bytes * 4 // 3 + 1024:
        raise too_big(what, len(value) * 3 // 4, max_bytes)
    try:
        data = decode_base64(value)
    except ValueError:
        raise InputImageError(f"{what} is not valid base64.") from None
    return from_bytes(data, what)
