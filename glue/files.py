"""img2img inputs from Dify: file parameters, or URL / base64 text from variables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dify_plugin.file.file import File

from webui.errors import InputImageError, InvalidParameter
from webui.sources import MAX_INPUT_BYTES, InputImage, download, from_bytes, from_text, shown_url, too_big

FILES_URL_HINT = (
    " Dify builds the file URLs it gives plugins from FILES_URL (INTERNAL_FILES_URL when set) in its "
    "docker/.env, and the plugin daemon must be able to reach that address: set "
    "INTERNAL_FILES_URL=http://api:5001 (or FILES_URL to an address reachable from the plugin_daemon "
    "container) and recreate the containers with `docker compose up -d`."
)


def _from_file(file: File, what: str, timeout: float) -> InputImage:
    what = f"{what} '{file.filename}'" if file.filename else what
    if file.size and file.size > MAX_INPUT_BYTES:
        raise too_big(what, file.size, MAX_INPUT_BYTES)
    if not file.url.startswith(("http://", "https://")):
        raise InputImageError(
            f"Dify passed {what} with a relative URL ({shown_url(file.url)}), which the plugin cannot download."
            + FILES_URL_HINT
        )
    return from_bytes(download(file.url, what=what, timeout=timeout, hint=FILES_URL_HINT), what)


def _one(value: Any, what: str, timeout: float) -> InputImage:
    if isinstance(value, File):
        return _from_file(value, what, timeout)
    if isinstance(value, str):
        return from_text(value, what=what, timeout=timeout)
    raise InvalidParameter(f"{what} must be a file, an http(s) URL or base64 text, got {type(value).__name__}.")


def _given(value: Any) -> bool:
    return value not in (None, "", [])


@dataclass
class ImageInputs:
    """The image inputs of an img2img call, taken out of the tool parameters."""

    init: list[Any]
    mask: Any

    @classmethod
    def take(cls, parameters: dict[str, Any]) -> ImageInputs:
        """Pop the image inputs from ``parameters``; init images in the order init_image,
        init_images, init_image_url; the mask from the mask file or mask_url (not both)."""
        init_file = parameters.pop("init_image", None)
        init_files = parameters.pop("init_images", None) or []
        init_text = parameters.pop("init_image_url", None)
        mask_file = parameters.pop("mask", None)
        mask_text = parameters.pop("mask_url", None)
        if _given(mask_file) and _given(mask_text):
            raise InvalidParameter("Give the mask either as a file (mask) or as text (mask_url), not both.")
        init = [value for value in (init_file, *init_files, init_text) if _given(value)]
        return cls(init, mask_file if _given(mask_file) else mask_text if _given(mask_text) else None)

    def load(self, timeout: float) -> tuple[list[InputImage], InputImage | None]:
        """Download or decode every image and check it; (init images, mask or None)."""
        if not self.init:
            raise InvalidParameter(
                "img2img needs an init image: set init_image (a file), init_images (files) or "
                "init_image_url (an http(s) URL or base64 text)."
            )
        single = len(self.init) == 1
        images = [
            _one(value, "The init image" if single else f"Init image {index + 1}", timeout)
            for index, value in enumerate(self.init)
        ]
        mask = _one(self.mask, "The mask", timeout) if self.mask is not None else None
        return images, mask
