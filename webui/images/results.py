"""Read a txt2img/img2img answer: decode and check every image, label it, pair it with its seed.

A1111 answers ``{"images": [base64...], "parameters": {...}, "info": "<JSON string>"}``.
``images`` may start with a grid (``info.index_of_first_image``) and end with extra
images (img2img masks, ControlNet maps, Forge's extra_images); only the
``len(info.all_seeds)`` images in between are generated ones.
"""

from __future__ import annotations

import binascii
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from webui.errors import InvalidResponse
from webui.images.formats import ImageInfo, check_image, decode_base64
from webui.transport.answers import Base64Blob, parse_json


@dataclass(frozen=True)
class PictureLimit:
    """The largest picture the caller can take, and whose limit it is (for messages)."""

    bytes: int
    owner: str

    def describe(self) -> str:
        return f"{self.owner} {self.bytes / (1024 * 1024):.1f} MiB file limit"


# The most bytes any one answer may have: with the answer held about twice while it is
# parsed, four calls at this cap stay within a gigabyte.
ANSWER_MAX_BYTES = 112 * 1024 * 1024


_INFOTEXT_MODEL = re.compile(r"(?:^|, )Model: ([^,\n]+)")


def answer_limit(images: int, max_image_bytes: int, extra_images: int = 3) -> int:
    """The most bytes an answer carrying ``images`` generated images may have: each as base64
    (4/3 of its size) of at most ``max_image_bytes``, plus a grid and two extra images (masks,
    ControlNet maps), never more than ANSWER_MAX_BYTES."""
    per_image = max_image_bytes * 4 // 3 + 64 * 1024
    return min(ANSWER_MAX_BYTES, (max(images, 1) + extra_images) * per_image + 1024 * 1024)


class ImageRole(StrEnum):
    """What a picture of an answer is."""

    IMAGE = "image"  # a generated picture
    GRID = "grid"  # the grid A1111 puts first for batches
    EXTRA = "extra"  # masks, ControlNet maps, extension output after the pictures


@dataclass
class OutputImage:
    data: bytes
    image: ImageInfo
    role: ImageRole
    index: int  # position in the server's answer
    seed: int | None = None
    subseed: int | None = None
    infotext: str | None = None


@dataclass
class GenerationResult:
    images: list[OutputImage]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def generated(self) -> list[OutputImage]:
        return [image for image in self.images if image.role is ImageRole.IMAGE]

    @property
    def seeds(self) -> list[int]:
        return [image.seed for image in self.generated if image.seed is not None]

    @property
    def subseeds(self) -> list[int]:
        return [image.subseed for image in self.generated if image.subseed is not None]

    @property
    def infotexts(self) -> list[str]:
        return [image.infotext for image in self.generated if image.infotext is not None]

    def _text(self, value: Any) -> str | None:
        return value[:1024] if isinstance(value, str) else None

    @property
    def model(self) -> str | None:
        """The model that ran, as the server says: info.sd_model_name, else the "Model:" of the
        first infotext (SD.Next's info has no sd_model_name); None when it says neither."""
        named = self._text(self.info.get("sd_model_name"))
        if named or not self.infotexts:
            return named
        found = _INFOTEXT_MODEL.search(self.infotexts[0].rsplit("\n", 1)[-1])
        return self._text(found.group(1).strip()) if found else None

    @property
    def sampler(self) -> str | None:
        return self._text(self.info.get("sampler_name"))

    @property
    def scheduler(self) -> str | None:
        extra = self.info.get("extra_generation_params")
        return self._text(extra.get("Schedule type")) if isinstance(extra, dict) else None

    @property
    def version(self) -> str | None:
        return self._text(self.info.get("version"))


def parse_info(raw: Any) -> dict[str, Any]:
    """The answer's ``info`` (a JSON string in A1111) as a dict; {} when it is anything else."""
    if isinstance(raw, str):
        try:
            raw = parse_json(raw.encode("utf-8"))
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def _int_list(value: Any) -> list[int]:
    return [item for item in value if isinstance(item, int)] if isinstance(value, list) else []


def decode_image(encoded: Any, what: str) -> tuple[bytes, ImageInfo]:
    """An image of a server's answer (base64 text or a Base64Blob), checked; InvalidResponse otherwise."""
    try:
        if isinstance(encoded, Base64Blob):
            data = encoded.decode()
        elif isinstance(encoded, str):
            data = decode_base64(encoded)
        else:
            raise InvalidResponse(f"{what} is not a base64 string.")
    except (binascii.Error, ValueError):
        raise InvalidResponse(f"{what} is not valid base64 (truncated or corrupted).") from None
    return data, check_image(data, what, InvalidResponse)


def parse_generation(body: Any, *, images_expected: bool = True) -> GenerationResult:
    """Decode and check every image; raises InvalidResponse for anything unusable.

    Each base64 string is dropped from ``body`` as soon as it is decoded, so the
    answer is never held twice.
    """
    if not isinstance(body, dict):
        raise InvalidResponse(f"The server answered a JSON {type(body).__name__}, not a txt2img/img2img result.")
    encoded = body.get("images")
    if not isinstance(encoded, list):
        keys = ", ".join(sorted(str(key)[:40] for key in list(body)[:20])) or "none"
        raise InvalidResponse(f"The server's answer has no 'images' list (keys: {keys}).")
    info = parse_info(body.get("info"))
    if not encoded:
        if images_expected:
            raise InvalidResponse(
                "The server finished without returning any image: the job was probably "
                "interrupted or skipped on the server (its Interrupt/Skip buttons or API), "
                "or an extension removed the images."
            )
        return GenerationResult([], info)
    first = info.get("index_of_first_image", 0)
    first = first if isinstance(first, int) and 0 <= first < len(encoded) else 0
    seeds, subseeds = _int_list(info.get("all_seeds")), _int_list(info.get("all_subseeds"))
    generated = len(seeds) or len(encoded) - first
    listed = info.get("infotexts")
    infotexts: list[Any] = listed if isinstance(listed, list) else []
    images: list[OutputImage] = []
    total = len(encoded)
    for index in range(total):
        data, image_info = decode_image(encoded[index], f"Image {index + 1} of {total} in the server's answer")
        encoded[index] = None
        position = index - first
        role = ImageRole.GRID if index < first else ImageRole.IMAGE if position < generated else ImageRole.EXTRA
        image = OutputImage(data, image_info, role, index)
        if role is ImageRole.IMAGE:
            image.seed = seeds[position] if position < len(seeds) else None
            image.subseed = subseeds[position] if position < len(subseeds) else None
        if role is not ImageRole.EXTRA and index < len(infotexts) and isinstance(infotexts[index], str):
            image.infotext = infotexts[index]
        images.append(image)
    return GenerationResult(images, info)
