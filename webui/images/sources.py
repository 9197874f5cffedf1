"""Input images: downloaded from a URL, or decoded from base64 / a data: URI.

Every image input may have been chosen by an LLM, so it goes through one policy
(docs/security.md): only http(s) URLs, ``data:image/...;base64,`` URIs and plain base64;
hosts that resolve to loopback, private or other non-public addresses (or do not resolve)
are refused before any connection unless the operator turned on
``AddressPolicy.allow_private``; link-local and metadata addresses are refused always; every
redirect hop is checked again. Downloads never carry the WebUI's credentials, keep no
cookies, and share the call's deadline. Every image is checked to be a whole PNG, JPEG
or WebP of bounded dimensions, and one call's images are bounded in number and bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from webui.errors import AddressRefusal, InputImageError, InvalidParameter, UnsafeInput
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
# One call's pictures together (init images, mask, control images, upscale inputs).
MAX_CALL_IMAGES = 16
MAX_CALL_BYTES = 32 * 1024 * 1024
# Declared dimensions of an input picture: PIL's own guard (89 MP warns, 179 MP fails) is
# switched off process-wide by A1111's X/Y/Z plot script, so the plugin bounds them itself.
MAX_INPUT_SIDE = 16384
MAX_INPUT_PIXELS = 8192 * 8192
_REDIRECTS = 5


@dataclass(frozen=True)
class InputImage:
    data: bytes | bytearray
    image: ImageInfo

    def base64(self) -> str:
        return encode_base64(self.data)


class InputBudget:
    """How many pictures and bytes one call may still bring in."""

    def __init__(self, images: int = MAX_CALL_IMAGES, total: int = MAX_CALL_BYTES) -> None:
        self.images = images
        self.total = total
        self.used = 0

    def count(self, given: int, what: str) -> None:
        """Refuse ``given`` more pictures before any is fetched when they are too many."""
        if given > self.images:
            raise InvalidParameter(f"{given} {what}s were given; at most {self.images} pictures are sent per call.")
        self.images -= given

    def left(self) -> int:
        return min(MAX_INPUT_BYTES, self.total - self.used)

    def take(self, size: int, what: str) -> None:
        if self.used + size > self.total:
            raise InputImageError(
                f"{what} ({mib(size)}) would bring this call's pictures to {mib(self.used + size)} in total; "
                f"the limit is {mib(self.total)} per call. Use smaller or fewer images."
            )
        self.used += size


def too_big(what: str, size: int, limit: int) -> InputImageError:
    return InputImageError(
        f"{what} is {mib(size)}; the limit is {mib(limit)}. Use a smaller image (A1111 resizes it to "
        "width × height anyway)."
    )


def _refused(what: str, never: bool) -> UnsafeInput:
    if never:
        return UnsafeInput(
            f"{what} points at a link-local or cloud metadata address, which the plugin never fetches, "
            "even where private addresses are allowed.",
            address=AddressRefusal.NEVER,
        )
    # The same words whatever the host is (private, loopback, or no such name): nothing here
    # may tell an agent which names exist on the network the plugin runs in.
    return UnsafeInput(
        f"{what} is not on a public address the plugin may fetch (its host is local, private, or "
        "does not resolve to a public address): a URL chosen by an agent could otherwise reach services "
        "on the network the plugin runs in.",
        address=AddressRefusal.PRIVATE,
    )


def download(
    url: str,
    *,
    what: str,
    deadline: Deadline,
    policy: AddressPolicy,
    max_bytes: int = MAX_INPUT_BYTES,
    hint: str = "",
    trusted: Callable[[str], bool] | None = None,
    budget: InputBudget | None = None,
) -> bytes | bytearray:
    """GET ``url`` before ``deadline`` and at most ``max_bytes`` (and what ``budget`` has
    left), following at most five redirects, each checked by ``policy`` (a hop for which
    ``trusted`` says yes is allowed its own origin); ``hint`` is added to network errors."""
    if budget is not None:
        max_bytes = max(min(max_bytes, budget.left()), 0)
    for _ in range(_REDIRECTS + 1):
        hop = policy
        if trusted is not None and trusted(url):
            hop = AddressPolicy(policy.allow_private, policy.trusted | {Origin.of(url)})
        try:
            response = fetch("GET", url, deadline=deadline, max_bytes=max_bytes, policy=hop)
        except AddressRefused as error:
            raise _refused(what, error.never) from None
        except DeadlinePassed:
            raise InputImageError(
                f"Could not download {what} from {shown_url(url)} within the call's {deadline.seconds:g} s.{hint}"
            ) from None
        except TooLarge as error:
            if budget is not None and error.size <= MAX_INPUT_BYTES:
                budget.take(error.size, what)  # raises: the call's total is what was exceeded
            raise too_big(what, error.size, MAX_INPUT_BYTES if budget is not None else max_bytes) from None
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


def from_bytes(data: bytes | bytearray, what: str, budget: InputBudget | None = None) -> InputImage:
    """``data`` checked to be a whole picture of bounded dimensions (and counted in ``budget``)."""
    if budget is not None:
        budget.take(len(data), what)
    info = check_image(data, what)
    check_dimensions(info, what)
    return InputImage(data, info)


def check_dimensions(info: ImageInfo, what: str) -> None:
    """Refuse a picture whose header declares more pixels than any route should decode."""
    if max(info.width, info.height) > MAX_INPUT_SIDE or info.width * info.height > MAX_INPUT_PIXELS:
        raise InputImageError(
            f"{what} says it is {info.width}×{info.height} pixels; the plugin sends pictures of at most "
            f"{MAX_INPUT_SIDE} pixels a side and {MAX_INPUT_PIXELS // 1_000_000} megapixels. Use a smaller image."
        )


def from_text(
    text: str, *, what: str, deadline: Deadline, policy: AddressPolicy, budget: InputBudget | None = None
) -> InputImage:
    """An http(s) URL, a data:image/...;base64 URI, or plain base64."""
    value = text.strip()
    if value[:8].lower().startswith(("http://", "https://")):
        return from_bytes(download(value, what=what, deadline=deadline, policy=policy, budget=budget), what, budget)
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
    if len(value) > MAX_INPUT_BYTES * 4 // 3 + 1024:
        raise too_big(what, len(value) * 3 // 4, MAX_INPUT_BYTES)
    try:
        data = decode_base64(value)
    except ValueError:
        raise InputImageError(f"{what} is not valid base64.") from None
    return from_bytes(data, what, budget)
