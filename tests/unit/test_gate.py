"""The gate and the file-URL shape, on their own (the attacks themselves: tests/e2e/test_trust_gate.py)."""

from __future__ import annotations

import pytest

from glue.files import is_signed_file_url
from tests.files_server import SIGN
from webui import InvalidParameter, UnsafeInput
from webui.transport.gate import encode_body

ID = "0b3c2a8e-5f1d-4c3e-9a7b-2d6e8f1a4c5b"
QUERY = f"timestamp=1732430000&nonce={'ab12' * 8}&sign={SIGN}"


@pytest.mark.parametrize(
    "url",
    [
        f"http://api:5001/files/{ID}/file-preview?{QUERY}",
        f"http://api:5001/files/{ID}/image-preview?{QUERY}",
        f"https://dify.example.com/files/tools/{ID}.png?{QUERY}",
        f"http://api:5001/files/{ID}/file-preview?{QUERY}&as_attachment=true",
    ],
)
def test_the_urls_dify_signs_for_plugins_are_recognised(url):
    assert is_signed_file_url(url)


@pytest.mark.parametrize(
    "url",
    [
        f"http://api:5001/files/{ID}/file-preview",  # no signature
        f"http://api:5001/files/{ID}/file-preview?{QUERY}&next=/console",  # another key
        f"http://api:5001/files/{ID}/file-preview?{QUERY}&sign={SIGN}",  # a key twice
        f"http://api:5001/files/{ID}/file-preview?timestamp=1&nonce=xyz&sign={SIGN}",  # not a nonce
        f"http://api:5001/console/api/files/{ID}/file-preview?{QUERY}",  # a prefix
        f"http://api:5001/files/{ID}/file-preview/../../console?{QUERY}",
        f"http://api:5001/files/not-an-id.png?{QUERY}",
        f"http://api:5001/files/tools/{ID}.png.exe/x?{QUERY}",
        f"ftp://api:5001/files/tools/{ID}.png?{QUERY}",
    ],
)
def test_anything_else_is_not_a_dify_file(url):
    assert not is_signed_file_url(url)


def test_a_route_the_gate_does_not_know_gets_no_body():
    with pytest.raises(UnsafeInput, match="no request body"):
        encode_body("/sdapi/v1/options", {"enable_pnginfo": False})


def test_nan_never_leaves_whatever_route():
    with pytest.raises(InvalidParameter, match=r"alwayson_scripts\.x\.args\[0\] is nan"):
        encode_body("/sdapi/v1/txt2img", {"prompt": "x", "alwayson_scripts": {"x": {"args": [float("nan")]}}})


def test_a_lone_surrogate_is_a_parameter_error_not_a_crash():
    with pytest.raises(InvalidParameter, match="lone UTF-16 surrogate"):
        encode_body("/sdapi/v1/txt2img", {"prompt": "a \ud800 cat"})


def test_the_plugins_own_controlnet_unit_passes():
    unit = {"enabled": True, "module": "canny", "model": "None", "weight": 1.0, "image": None, "pixel_perfect": False}
    body = encode_body("/sdapi/v1/txt2img", {"prompt": "x", "alwayson_scripts": {"ControlNet": {"args": [unit]}}})
    assert b'"module": "canny"' in body
