"""Image inputs from Dify: file parameters, or URL / base64 text from variables.

A file parameter is a dict an agent can write too (the SDK makes a File of any dict with
Dify's marker), so a file is trusted for a private address only when its URL has the
shape of a file Dify signed for plugins (:func:`is_signed_file_url`); any other file URL
is checked like a URL given as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dify_plugin.file.file import File

from glue.credentials import image_policy
from webui import (
    MAX_INPUT_BYTES,
    AddressPolicy,
    ControlImages,
    Deadline,
    InputBudget,
    InputImage,
    InputImageError,
    InvalidParameter,
    NetError,
    Origin,
    WebUIClient,
    download,
    from_bytes,
    from_text,
    shown_url,
    too_big,
)

FILES_URL_HINT = (
    " Dify builds the file URLs it gives plugins from FILES_URL (INTERNAL_FILES_URL when set) in its "
    "docker/.env, and the plugin daemon must be able to reach that address: set "
    "INTERNAL_FILES_URL=http://api:5001 (or FILES_URL to an address reachable from the plugin_daemon "
    "container) and recreate the containers with `docker compose up -d`."
)
# Dify's signed file routes (api/controllers/files/): /files/<uuid>/file-preview,
# /files/<uuid>/image-preview and /files/tools/<uuid>.<extension>; signed with the query
# timestamp, nonce (16 random bytes as hex) and sign (URL-safe base64 of an HMAC-SHA256),
# and as_attachment at most besides.
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_SIGNED_PATH = re.compile(rf"/files/(?:{_UUID}/(?:file|image)-preview|tools/{_UUID}\.[A-Za-z0-9]{{1,10}})")
_SIGNED_QUERY = {
    "timestamp": re.compile(r"[0-9]{1,12}"),
    "nonce": re.compile(r"[0-9a-f]{32}"),
    "sign": re.compile(r"[A-Za-z0-9_-]{43}="),
}


def is_signed_file_url(url: str) -> bool:
    """Whether ``url`` has the shape of a file URL Dify signs for plugins (the signature
    itself only Dify can check)."""
    if len(url) > 2048:
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not _SIGNED_PATH.fullmatch(parts.path):
        return False
    query = parse_qsl(parts.query, keep_blank_values=True)
    names = [name for name, _ in query]
    if sorted(set(names) - {"as_attachment"}) != sorted(_SIGNED_QUERY) or len(names) != len(set(names)):
        return False
    return all(name == "as_attachment" or _SIGNED_QUERY[name].fullmatch(value) for name, value in query)


@dataclass
class ImageLoader:
    """What loading one call's pictures needs: its deadline, the address policy, its budget."""

    deadline: Deadline
    policy: AddressPolicy
    budget: InputBudget = field(default_factory=InputBudget)

    @classmethod
    def of(cls, client: WebUIClient) -> ImageLoader:
        return cls(client.deadline, image_policy(client.config))


def _from_file(file: File, what: str, loader: ImageLoader) -> InputImage:
    what = f"{what} '{file.filename[:100]}'" if file.filename else what
    if file.size and file.size > MAX_INPUT_BYTES:
        raise too_big(what, file.size, MAX_INPUT_BYTES)
    try:
        Origin.of(file.url)
    except NetError:
        raise InputImageError(
            f"Dify passed {what} with a relative URL ({shown_url(file.url)[:200]}), which the plugin cannot download."
            + FILES_URL_HINT
        ) from None
    data = download(
        file.url,
        what=what,
        deadline=loader.deadline,
        policy=loader.policy,
        budget=loader.budget,
        hint=FILES_URL_HINT if is_signed_file_url(file.url) else "",
        trusted=is_signed_file_url,
    )
    return from_bytes(data, what, loader.budget)


def load_image(value: Any, what: str, loader: ImageLoader) -> InputImage:
    """One image input: a Dify file, or text (http(s) URL, data: URI, base64)."""
    if isinstance(value, File):
        return _from_file(value, what, loader)
    if isinstance(value, str):
        return from_text(value, what=what, deadline=loader.deadline, policy=loader.policy, budget=loader.budget)
    raise InvalidParameter(f"{what} must be a file, an http(s) URL or base64 text, got {type(value).__name__}.")


def given(value: Any) -> bool:
    return value not in (None, "", [])


def take_images(parameters: dict[str, Any], *names: str) -> list[Any]:
    """Pop the image inputs ``names`` (files, lists of files, text); the given values in that order."""
    values: list[Any] = []
    for name in names:
        value = parameters.pop(name, None)
        values.extend(value if isinstance(value, list) else [value])
    return [value for value in values if given(value)]


def take_one_image(parameters: dict[str, Any], file_name: str, text_name: str, what: str) -> Any | None:
    """Pop a picture given as a file or as text (URL, data: URI, base64); None when neither."""
    values = take_images(parameters, file_name, text_name)
    if len(values) > 1:
        raise InvalidParameter(f"Give {what} either as a file ({file_name}) or as text ({text_name}), not both.")
    return values[0] if values else None


def load_images(values: list[Any], what: str, loader: ImageLoader) -> list[InputImage]:
    """Every value loaded and checked; numbered in messages when there are several."""
    loader.budget.count(len(values), what)
    if len(values) == 1:
        return [load_image(values[0], f"The {what}", loader)]
    numbered = what[:1].upper() + what[1:]
    return [load_image(value, f"{numbered} {index + 1}", loader) for index, value in enumerate(values)]


@dataclass
class Img2ImgImages:
    """The image inputs of an img2img call, taken out of the tool parameters."""

    init: list[Any]
    mask: Any

    @classmethod
    def take(cls, parameters: dict[str, Any]) -> Img2ImgImages:
        """Pop the image inputs from ``parameters``; init images in the order init_image,
        init_images, init_image_url; the mask from the mask file or mask_url (not both)."""
        init = take_images(parameters, "init_image", "init_images", "init_image_url")
        return cls(init, take_one_image(parameters, "mask", "mask_url", "the mask"))

    def load(self, loader: ImageLoader) -> tuple[list[InputImage], InputImage | None]:
        """Download or decode every image and check it; (init images, mask or None)."""
        if not self.init:
            raise InvalidParameter(
                "img2img needs an init image: set init_image (a file), init_images (files) or "
                "init_image_url (an http(s) URL or base64 text)."
            )
        images = load_images(self.init, "init image", loader)
        loader.budget.count(int(self.mask is not None), "mask")
        mask = load_image(self.mask, "The mask", loader) if self.mask is not None else None
        return images, mask


@dataclass
class ControlNetFiles:
    """The ControlNet images of a generation call: the typed unit's, and controlnet_images."""

    typed: Any
    listed: list[Any]

    @classmethod
    def take(cls, parameters: dict[str, Any]) -> ControlNetFiles:
        typed = take_one_image(parameters, "controlnet_image", "controlnet_image_url", "the ControlNet image")
        return cls(typed, take_images(parameters, "controlnet_images"))

    def load(self, loader: ImageLoader) -> ControlImages:
        loader.budget.count(int(self.typed is not None) + len(self.listed), "ControlNet image")
        typed = load_image(self.typed, "The ControlNet image", loader) if self.typed is not None else None
        listed = [load_image(value, f"controlnet_images[{index}]", loader) for index, value in enumerate(self.listed)]
        return ControlImages(typed, listed)
