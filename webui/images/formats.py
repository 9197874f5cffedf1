"""Recognise PNG/JPEG/WebP bytes, read their size, and handle base64 / data: URIs.

Header parsing only (no image library): enough to check that bytes really are a whole
image of a supported format and to learn its width and height. Everything here runs in
time linear in its input: the input may come from an agent or a server.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

from webui.errors import InputImageError, WebUIError

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C4 DHT, C8 JPG and CC DAC share the range but are not frames).
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_JPEG_SOS = 0xDA
_MAX_DATA_URI_HEADER = 256
_BASE64_ALPHABET = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")


@dataclass(frozen=True)
class ImageInfo:
    format: str  # "png" | "jpeg" | "webp"
    width: int
    height: int

    @property
    def mime_type(self) -> str:
        return f"image/{self.format}"

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "jpeg" else self.format


def _png_size(data: bytes | bytearray) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _jpeg_segments(data: bytes | bytearray):
    """(marker, position) of each JPEG segment up to and including the first SOS."""
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        yield marker, pos
        if marker in (_JPEG_SOS, 0xD9) or length < 2:
            return
        pos += 2 + length


def _jpeg_size(data: bytes | bytearray) -> tuple[int, int] | None:
    for marker, pos in _jpeg_segments(data):
        if marker in _JPEG_SOF:
            if pos + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return width, height
    return None


def _webp_size(data: bytes | bytearray) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(data) >= 30:
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def sniff(data: bytes | bytearray) -> ImageInfo | None:
    """Format and size of a PNG, JPEG or WebP image, or None for anything else."""
    if data.startswith(_PNG_SIGNATURE):
        kind, size = "png", _png_size(data)
    elif data.startswith(b"\xff\xd8\xff"):
        kind, size = "jpeg", _jpeg_size(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind, size = "webp", _webp_size(data)
    else:
        return None
    if size is None or 0 in size:
        return None
    return ImageInfo(kind, *size)


def _png_complete(data: bytes | bytearray) -> bool:
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        pos += 12 + length
        if kind == b"IEND":
            return pos <= len(data)
    return False


def _jpeg_complete(data: bytes | bytearray) -> bool:
    for marker, pos in _jpeg_segments(data):
        if marker == _JPEG_SOS:
            return data.find(b"\xff\xd9", pos + 2) != -1
    return False


def is_complete(data: bytes | bytearray, info: ImageInfo) -> bool:
    """Whether the whole image is there (catches truncation). Bytes after the image's
    end are allowed: phone "motion photos" and some editors append data, and the
    WebUI loads such files fine."""
    if info.format == "png":
        return _png_complete(data)
    if info.format == "jpeg":
        return _jpeg_complete(data)
    (riff_size,) = struct.unpack("<I", data[4:8])
    return len(data) >= riff_size + 8


def describe_bytes(data: bytes | bytearray) -> str:
    """A short guess at what non-image bytes are, for error messages."""
    head = data[:64].lstrip()
    if not data:
        return "empty"
    if head[:1] in (b"<",) or head[:9].lower() == b"<!doctype":
        return "an HTML/XML document"
    if head[:1] in (b"{", b"["):
        return "JSON text"
    if data.startswith(b"GIF8"):
        return "a GIF image"
    if data.startswith(b"BM"):
        return "a BMP image"
    if data.startswith(b"%PDF"):
        return "a PDF document"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if data[4:8] == b"ftyp":
        return "an HEIC/AVIF/MP4 file"
    return "not a PNG, JPEG or WebP image"


def check_image(data: bytes | bytearray, what: str, error: type[WebUIError] = InputImageError) -> ImageInfo:
    """The one image check: ``data`` must be a whole PNG/JPEG/WebP image, else ``error``
    (InputImageError for inputs, InvalidResponse for a server's answer)."""
    info = sniff(data)
    if info is None:
        raise error(
            f"{what} is {describe_bytes(data)} ({len(data)} bytes); only PNG, JPEG and WebP images are accepted."
        )
    if not is_complete(data, info):
        raise error(f"{what} is a truncated {info.format.upper()} file ({len(data)} bytes).")
    return info


def split_data_uri(text: str) -> tuple[str, str] | None:
    """``data:image/png;base64,AAA`` -> ("image/png", "AAA"); None when ``text`` is no data: URI.

    Raises ValueError for a data: URI that is not base64 (the only kind images come in).
    Linear: the header is split by hand, never matched with a backtracking pattern.
    """
    if text[:5].lower() != "data:":
        return None
    header, separator, _ = text[: _MAX_DATA_URI_HEADER + 1].partition(",")
    if not separator:
        raise ValueError("a data: URI needs a ',' after at most 256 characters of header")
    params = header[5:].split(";")
    if params[-1].strip().lower() != "base64":
        raise ValueError("only base64 data: URIs are supported")
    return params[0].strip().lower(), text[len(header) + 1 :]


def decode_base64(text: str) -> bytes:
    """Strict base64 (whitespace and a data: prefix allowed); raises ValueError.

    binascii's strict mode validates in C; base64.b64decode(validate=True) runs a regex
    over the whole string first, which costs more than the decoding for large images.
    """
    text = text.strip()
    uri = split_data_uri(text)
    payload = uri[1] if uri else text
    if any(space in payload for space in (" ", "\n", "\r", "\t")):
        payload = "".join(payload.split())
    return binascii.a2b_base64(payload, strict_mode=True)


def looks_like_base64(text: str) -> bool:
    sample = "".join(text.strip()[:256].split()).encode("ascii", "replace")
    return len(sample) >= 16 and all(byte in _BASE64_ALPHABET for byte in sample)


def encode_base64(data: bytes | bytearray) -> str:
    return base64.b64encode(data).decode("ascii")
