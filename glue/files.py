"""Image inputs from Dify: file parameters, or URL / base64 text from variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dify_plugin.file.file import File

from webui import (
    MAX_INPUT_BYTES,
    AddressPolicy,
    ControlImages,
    InputImage,
    InputImageError,
    InvalidParameter,
    NetError,
    Origin,
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


def _from_file(file: File, what: str, timeout: float, policy: AddressPolicy) -> InputImage:
    what = f"{what} '{file.filename[:100]}'" if file.filename else what
    if file.size and file.size > MAX_INPUT_BYTES:
        raise too_big(what, file.size, MAX_INPUT_BYTES)
    try:
        origin = Origin.of(file.url)
    except NetError:
        raise InputImageError(
            f"Dify passed {what} with a relative URL ({shown_url(file.url)[:200]}), which the plugin cannot download."
            + FILES_URL_HINT
        ) from None
    # Dify chose this address, so its origin is trusted even when it is private (the
    # api container); a redirect anywhere else is checked like any other URL.
    trusted = AddressPolicy(policy.allow_private, policy.trusted | {origin})
    return from_bytes(download(file.url, what=what, timeout=timeout, policy=trusted, hint=FILES_URL_HINT), what)


def load_image(value: Any, what: str, timeout: float, policy: AddressPolicy) -> InputImage:
    """One image input: a Dify file, or text (http(s) URL, data: URI, base64)."""
    if isinstance(value, File):
        return _from_file(value, what, timeout, policy)
    if isinstance(value, str):
        return from_text(value, what=what, timeout=timeout, policy=policy)
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


def load_images(values: list[Any], what: str, timeout: float, policy: AddressPolicy) -> list[InputImage]:
    """Every value loaded and checked; numbered in messages when there are several."""
    if len(values) == 1:
        return [load_image(values[0], f"The {what}", timeout, policy)]
    numbered = what[:1].upper() + what[1:]
    return [load_image(value, f"{numbered} {index + 1}", timeout, policy) for index, value in enumerate(values)]


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

    def load(self, timeout: float, policy: AddressPolicy) -> tuple[list[InputImage], InputImage | None]:
        """Download or decode every image and check it; (init images, mask or None)."""
        if not self.init:
            raise InvalidParameter(
                "img2img needs an init image: set init_image (a file), init_images (files) or "
                "init_image_url (an http(s) URL or base64 text)."
            )
        images = load_images(self.init, "init image", timeout, policy)
        mask = load_image(self.mask, "The mask", timeout, policy) if self.mask is not None else None
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

    def load(self, timeout: float, policy: AddressPolicy) -> ControlImages:
        typed = load_image(self.typed, "The ControlNet image", timeout, policy) if self.typed is not None else None
        listed = [
            load_image(value, f"controlnet_images[{index}]", timeout, policy) for index, value in enumerate(self.listed)
        ]
        return ControlImages(typed, listed)
