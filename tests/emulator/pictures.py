"""Real images for the emulator: rendered from the seed, encoded like A1111 encodes them."""

from __future__ import annotations

import base64
import binascii
import io
import os

from PIL import Image, PngImagePlugin


def render(width: int, height: int, seed: int, *, noise: bool = False) -> Image.Image:
    """A picture that depends on the seed; with ``noise`` it compresses like a real photo (badly)."""
    if noise:
        return Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    colour = ((seed * 37) % 256, (seed * 91) % 256, (seed * 53) % 256)
    image = Image.new("RGB", (width, height), colour)
    inner = (255 - colour[0], 255 - colour[1], 255 - colour[2])
    image.paste(
        inner, (width // 4, height // 4, max(width // 4 + 1, 3 * width // 4), max(height // 4 + 1, 3 * height // 4))
    )
    return image


def encode(image: Image.Image, samples_format: str, infotext: str | None) -> str:
    """Base64 without a data: prefix, in ``samples_format`` (A1111's api.encode_pil_to_base64)."""
    out = io.BytesIO()
    fmt = samples_format.lower()
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        if infotext:
            info.add_text("parameters", infotext)
        image.save(out, format="PNG", pnginfo=info, compress_level=1)
    elif fmt in ("jpg", "jpeg"):
        image.convert("RGB").save(out, format="JPEG", quality=90)
    elif fmt == "webp":
        image.convert("RGB").save(out, format="WEBP", quality=90)
    else:
        raise ValueError("Invalid image format")
    return base64.b64encode(out.getvalue()).decode("ascii")


def decode(encoding: str) -> Image.Image:
    """A1111's decode_base64_to_image for base64 input; raises ValueError when it fails."""
    if encoding.startswith("data:image/"):
        encoding = encoding.split(";")[1].split(",")[1]
    try:
        image = Image.open(io.BytesIO(base64.b64decode(encoding)))
        image.load()
    except (binascii.Error, OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError("Invalid encoded image") from error
    return image


def png_text(data: bytes) -> dict[str, str]:
    image = Image.open(io.BytesIO(data))
    return {key: value for key, value in image.info.items() if isinstance(value, str)}
