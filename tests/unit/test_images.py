"""Image bytes are recognised by content, with their size; truncation and non-images are caught."""

import base64
import io

import pytest
from PIL import Image

from webui.errors import InputImageError, InvalidResponse
from webui.images.formats import check_image, decode_base64, describe_bytes, is_complete, sniff, split_data_uri


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
        check_image(png[:-20], "The init image")
    with pytest.raises(InvalidResponse, match="is a GIF image .* only PNG, JPEG and WebP"):
        check_image(encoded("GIF"), "Image 1", InvalidResponse)
    jpeg = encoded("JPEG")
    with pytest.raises(InputImageError, match="truncated JPEG"):
        check_image(jpeg[: len(jpeg) // 2], "The init image")
    assert describe_bytes(b"<!DOCTYPE html><html>") == "an HTML/XML document"
    assert sniff(b"hello") is None


def test_base64_and_data_uris():
    png = encoded("PNG")
    text = base64.b64encode(png).decode()
    assert decode_base64(text) == png
    assert decode_base64(f"data:image/png;base64,{text}") == png
    assert decode_base64(text[:40] + "\n" + text[40:]) == png
    assert split_data_uri("data:image/webp;base64,AAAA") == ("image/webp", "AAAA")
    assert split_data_uri("DATA:Image/PNG;name=a.png;base64,AAAA") == ("image/png", "AAAA")
    assert split_data_uri("iVBORw0KGgo") is None
    with pytest.raises(ValueError):
        decode_base64("%%%not base64%%%")
    with pytest.raises(ValueError, match="only base64"):
        split_data_uri("data:image/png,rawbytes")


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_bytes_after_the_end_of_the_image_are_accepted(fmt):
    """Phone "motion photos" append a video after the JPEG; some editors append data to PNGs."""
    data = encoded(fmt) + b"\x00\x00\x00\x18ftypmp42" + bytes(5000)
    assert check_image(data, "The init image").format == fmt.lower()


def test_a_jpeg_whose_only_end_marker_is_in_its_exif_thumbnail_is_truncated():
    thumbnail = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(thumbnail, format="JPEG")
    out = io.BytesIO()
    exif = Image.Exif()
    Image.new("RGB", (64, 64), (200, 30, 60)).save(out, format="JPEG", exif=exif.tobytes())
    whole = out.getvalue()
    app1 = b"\xff\xe1" + (len(thumbnail.getvalue()) + 2).to_bytes(2, "big") + thumbnail.getvalue()
    with_thumbnail = whole[:2] + app1 + whole[2:]
    assert is_complete(with_thumbnail, sniff(with_thumbnail))
    cut = with_thumbnail[: len(with_thumbnail) - 200]
    assert not is_complete(cut, sniff(cut))


def test_a_data_uri_header_is_parsed_in_linear_time():
    """data: followed by ';aaaaaaaa' twelve times and '!' took a backtracking regex minutes."""
    hostile = "data:" + ";aaaaaaaa" * 5000 + "!"
    with pytest.raises(ValueError):
        split_data_uri(hostile)
