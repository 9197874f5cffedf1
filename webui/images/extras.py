"""Around the generation: A1111's Extras (upscaling, face restoration), interrogate and PNG info.

Pure rules and answer parsing; webui/client.py sends the requests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from webui.errors import InvalidParameter, InvalidResponse
from webui.images.formats import ImageInfo
from webui.images.results import ImageRole, OutputImage, PictureLimit, decode_image
from webui.images.sources import InputImage
from webui.requests.models import ExtrasRequest
from webui.units import mib

# Every A1111, Forge and reForge lists it: a plain resampler that needs no model download.
DEFAULT_UPSCALER = "Lanczos"
# PNG bytes per pixel assumed for an upscaled picture (SD output compresses to 1–2 bytes
# per pixel; smooth upscales to the low end). The source's own rate counts when higher.
PNG_BYTES_PER_PIXEL = 1.2
# A1111's interrogator reports an exception inside it as this caption, with HTTP 200.
INTERROGATE_ERROR = "<error>"


def _requested_sides(image: ImageInfo, request: ExtrasRequest) -> tuple[int, int] | None:
    """Width and height of a "scale to" request (one side given: the other keeps the shape)."""
    width, height = request.upscaling_resize_w, request.upscaling_resize_h
    if width is None and height is None:
        return None
    width = width or round(height * image.width / image.height)  # type: ignore[operator]
    height = height or round(width * image.height / image.width)
    return width, height


def target_size(image: ImageInfo, request: ExtrasRequest) -> tuple[int, int]:
    """The size A1111's upscale script produces (scripts/postprocessing_upscale.py)."""
    sides = _requested_sides(image, request)
    if sides is None:
        return int(image.width * request.upscaling_resize), int(image.height * request.upscaling_resize)
    if request.upscaling_crop is not False:
        return sides
    scale = max(sides[0] / image.width, sides[1] / image.height)
    return round(image.width * scale), round(image.height * scale)


def scale_mode(request: ExtrasRequest, image: ImageInfo) -> ExtrasRequest:
    """The request as A1111 wants it: "scale to" (resize_mode 1) with both sides when a
    target size is given, "scale by" otherwise."""
    sides = _requested_sides(image, request)
    if sides is None:
        return request.model_copy(update={"resize_mode": 0})
    return request.model_copy(update={"resize_mode": 1, "upscaling_resize_w": sides[0], "upscaling_resize_h": sides[1]})


def predicted_bytes(source: InputImage, width: int, height: int) -> int:
    pixels = source.image.width * source.image.height
    rate = PNG_BYTES_PER_PIXEL
    if source.image.format == "png":
        rate = max(rate, len(source.data) / pixels)
    return int(width * height * rate)


def check_result_fits(request: ExtrasRequest, images: list[InputImage], limit: PictureLimit) -> None:
    """Refuse before sending when a result would be larger than the caller accepts."""
    for index, source in enumerate(images):
        width, height = target_size(source.image, request)
        size = predicted_bytes(source, width, height)
        if size <= limit.bytes:
            continue
        which = "The image" if len(images) == 1 else f"Image {index + 1}"
        factor = request.upscaling_resize * math.sqrt(limit.bytes / size)
        raise InvalidParameter(
            f"{which} ({source.image.width}×{source.image.height}) would become {width}×{height}, about "
            f"{mib(size)} as PNG — over {limit.describe()}, so the server would "
            f"work for nothing. Use upscaling_resize {max(1.0, math.floor(factor * 10) / 10):g} or less, or a "
            "target size with upscaling_resize_w / upscaling_resize_h."
        )


@dataclass
class Upscaled:
    images: list[OutputImage]
    html_info: str
    upscaler: str
    seconds: float
    request: dict[str, Any]  # what was sent, without the images


def parse_extras(body: Any, count: int) -> tuple[list[OutputImage], str]:
    """The images and html_info of an extra-single-image / extra-batch-images answer."""
    if not isinstance(body, dict):
        raise InvalidResponse(f"The server answered a JSON {type(body).__name__}, not an Extras result.")
    encoded = body.get("images") if count > 1 else [body.get("image")]
    if not isinstance(encoded, list) or not encoded or encoded == [None]:
        raise InvalidResponse("The server's Extras answer has no image.")
    images = []
    for index, item in enumerate(encoded):
        data, info = decode_image(item, f"Upscaled image {index + 1} of {len(encoded)}")
        images.append(OutputImage(data, info, ImageRole.IMAGE, index))
        encoded[index] = None
    html = body.get("html_info")
    return images, html if isinstance(html, str) else ""


def parse_caption(body: Any, model: str) -> str:
    caption = body.get("caption") if isinstance(body, dict) else None
    if not isinstance(caption, str):
        raise InvalidResponse("The server's interrogate answer has no caption.")
    if INTERROGATE_ERROR in caption:
        raise InvalidResponse(
            f"The server's {model} interrogator failed on this image (it answered {INTERROGATE_ERROR!r}); "
            "the reason is in the server's console log. A missing or half-downloaded model is the usual cause."
        )
    return caption.strip()
