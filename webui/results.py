"""Read a txt2img/img2img answer: decode and check every image, label it, pair it with its seed.

A1111 answers ``{"images": [base64...], "parameters": {...}, "info": "<JSON string>"}``.
``images`` may start with a grid (``info.index_of_first_image``) and end with extra
images (img2img masks, ControlNet maps, Forge's extra_images); only the
``len(info.all_seeds)`` images in between are generated ones.
"""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from webui.errors import InvalidResponse
from webui.images import ImageInfo, decode_base64, describe_bytes, is_complete, sniff


@dataclass
class OutputImage:
    data: bytes
    image: ImageInfo
    role: str  # "image" (generated), "grid", or "extra"
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
        return [image for image in self.images if image.role == "image"]

    @property
    def seeds(self) -> list[int]:
        return [image.seed for image in self.generated if image.seed is not None]

    @property
    def subseeds(self) -> list[int]:
        return [image.subseed for image in self.generated if image.subseed is not None]

    @property
    def infotexts(self) -> list[str]:
        return [image.infotext for image in self.generated if image.infotext is not None]

    @property
    def model(self) -> str | None:
        return self.info.get("sd_model_name")

    @property
    def sampler(self) -> str | None:
        return self.info.get("sampler_name")

    @property
    def scheduler(self) -> str | None:
        extra = self.info.get("extra_generation_params")
        return extra.get("Schedule type") if isinstance(extra, dict) else None


def _parse_info(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {}
        return parsed if isinstance(parsed, dict) else {}
    return {}


def _int_list(value: Any) -> list[int]:
    return [item for item in value if isinstance(item, int)] if isinstance(value, list) else []


def _decode(encoded: Any, position: int, total: int) -> tuple[bytes, ImageInfo]:
    where = f"Image {position + 1} of {total} in the server's answer"
    if not isinstance(encoded, str):
        raise InvalidResponse(f"{where} is not a base64 string.")
    try:
        data = decode_base64(encoded)
    except (binascii.Error, ValueError):
        raise InvalidResponse(f"{where} is not valid base64 (truncated or corrupted).") from None
    info = sniff(data)
    if info is None:
        raise InvalidResponse(f"{where} is {describe_bytes(data)} ({len(data)} bytes), not a PNG, JPEG or WebP image.")
    if not is_complete(data, info):
        raise InvalidResponse(f"{where} is a truncated {info.format.upper()} file ({len(data)} bytes).")
    return data, info


def parse_generation(body: Any, *, images_expected: bool = True) -> GenerationResult:
    """Decode and check every image; raises InvalidResponse for anything unusable.

    Each base64 string is dropped from ``body`` as soon as it is decoded, so the
    answer is never held twice.
    """
    if not isinstance(body, dict):
        raise InvalidResponse(f"The server answered a JSON {type(body).__name__}, not a txt2img/img2img result.")
    encoded = body.get("images")
    if not isinstance(encoded, list):
        keys = ", ".join(sorted(map(str, body))) or "none"
        raise InvalidResponse(f"The server's answer has no 'images' list (keys: {keys}).")
    info = _parse_info(body.get("info"))
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
    infotexts = info.get("infotexts") if isinstance(info.get("infotexts"), list) else []
    images: list[OutputImage] = []
    total = len(encoded)
    for index in range(total):
        data, image_info = _decode(encoded[index], index, total)
        encoded[index] = None
        position = index - first
        role = "grid" if index < first else "image" if position < generated else "extra"
        image = OutputImage(data, image_info, role, index)
        if role == "image":
            image.seed = seeds[position] if position < len(seeds) else None
            image.subseed = subseeds[position] if position < len(subseeds) else None
        if role != "extra" and index < len(infotexts) and isinstance(infotexts[index], str):
            image.infotext = infotexts[index]
        images.append(image)
    return GenerationResult(images, info)
