"""Image bytes are recognised by content, with their size; truncation and non-images are caught."""

import base64
import io

import pytest
from PIL import Image

from webui.errors import InputImageError
from webui.images import decode_base64, describe_bytes, is_complete, load_image_bytes, sniff, strip_data_uri


def encoded(fmt: str, size=(97, 61), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 60)).save(out, format=fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "save", "mime"),
    [
        ("PNG", {}, "image/png"),
        ("JPEG", {}, "image/jpeg"),
        ("JPEG", {"progressive": True}, "image/jpeg"),
        ("WEBP", {"lossless": False}, "image/webp"),
        ("WEBP", {"lossless": True}, "image/webp"),
    ],
)
def test_sniff_reads_format_and_size(fmt, save, mime):
    data = encoded(fmt, **save)
    info = sniff(data)
    assert info is not None and (info.width, info.height, info.mime_type) == (97, 61, mime)
    assert is_complete(data, info)


def test_webp_extended_header():
    out = io.BytesIO()
    Image.new("RGBA", (300, 200), (0, 0, 0, 128)).save(out, format="WEBP", exif=b"Exif\x00\x00MM\x00*")
    info = sniff(out.getvalue())
    assert info is not None and (info.width, info.height) == (300, 200)


def test_truncated_and_foreign_bytes():
    png = encoded("PNG")
    with pytest.raises(InputImageError, match="truncated PNG"):
        load_image_bytes(png[:-20], "The init image")
    with pytest.raises(InputImageError, match="is a GIF image .* only PNG, JPEG and WebP"):
        load_image_bytes(encoded("GIF"), "The init image")
    assert describe_bytes(b"<!DOCTYPE html><html>") == "an HTML/XML document"
    assert sniff(b"hello") is None


def test_base64_and_data_uris():
    png = encoded("PNG")
    text = base64.b64encode(png).decode()
    assert decode_base64(text) == png
    assert decode_base64(f"data:image/png;base64,{text}") == png
    assert decode_base64(text[:40] + "\n" + text[40:]) == png
    assert strip_data_uri("data:image/webp;base64,AAAA") == ("AAAA", "image/webp")
    with pytest.raises(ValueError):
        decode_base64("%%%not base64%%%")
