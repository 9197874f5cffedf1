"""Every error body the servers send becomes a message that carries the server's own detail."""

import json

import pytest

from tests.emulator.flavours import CAPTURES
from webui.errors import (
    ApiDisabled,
    AuthenticationFailed,
    ServerFailed,
    ServerRejected,
    error_from_response,
    server_detail,
)


def from_capture(name: str):
    data = json.loads((CAPTURES / f"{name}.json").read_text())
    body = data["body"]
    return error_from_response(data["status"], body, json.dumps(body), "run txt2img")


@pytest.mark.parametrize(
    ("capture", "kind", "fragment"),
    [
        ("auth_txt2img_no_auth", AuthenticationFailed, "HTTP 401: Not authenticated"),
        ("auth_txt2img_wrong_password", AuthenticationFailed, "Incorrect username or password"),
        ("err_unknown_route", ApiDisabled, "Start the WebUI with --api"),
        ("err_wrong_method_get_txt2img", ApiDisabled, "HTTP 405"),
        ("err_steps_abc", ServerRejected, "(HTTP 422): steps: value is not a valid integer."),
        ("err_body_not_object", ServerRejected, "value is not a valid dict"),
        ("err_script_name_unknown", ServerRejected, "Script 'nope' not found"),
        ("err_img2img_no_init_images", ServerRejected, "(HTTP 404 HTTPException): Init image not found"),
        ("err_img2img_invalid_base64", ServerFailed, "(HTTP 500 HTTPException): Invalid encoded image"),
        ("err_hr_upscaler_unknown", ServerFailed, "could not find upscaler named nope. Use an upscaler name"),
        ("err_hr_no_denoising", ServerFailed, "(HTTP 500 TypeError): '>' not supported between instances"),
        ("err_override_unknown_key", ServerFailed, "(HTTP 500 KeyError): 'nope_key'"),
    ],
)
def test_captured_error_bodies(capture, kind, fragment):
    error = from_capture(capture)
    assert isinstance(error, kind)
    assert fragment in str(error)


def test_sampler_not_found_explains_the_version_split():
    for status in (400, 404):
        error = error_from_response(
            status,
            {"error": "HTTPException", "detail": "Sampler not found", "body": "", "errors": ""},
            "",
            "run txt2img",
        )
        assert isinstance(error, ServerRejected)
        assert "Sampler not found" in str(error) and "'DPM++ 2M' + scheduler 'Karras'" in str(error)


def test_forge_plain_text_500():
    error = error_from_response(500, None, "Internal Server Error", "run txt2img")
    assert isinstance(error, ServerFailed)
    assert "(HTTP 500): Internal Server Error." in str(error) and "server's console log" in str(error)


def test_forge_pydantic2_422_shows_the_input():
    body = {
        "detail": [
            {"type": "int_parsing", "loc": ["body", "steps"], "msg": "Input should be a valid integer", "input": "abc"}
        ]
    }
    assert "steps: Input should be a valid integer (got 'abc')" in str(
        error_from_response(422, body, "", "run txt2img")
    )


def test_sdnext_shape_and_cuda_oom_hint():
    sdnext = {
        "error": "HTTPException",
        "code": 404,
        "detail": "Sampler not found",
        "body": "",
        "errors": "404: Sampler not found",
    }
    assert "Sampler not found — 404: Sampler not found" in str(error_from_response(404, sdnext, "", "run txt2img"))
    oom = {
        "error": "OutOfMemoryError",
        "detail": "",
        "body": "",
        "errors": "CUDA out of memory. Tried to allocate 9.00 GiB",
    }
    message = str(error_from_response(500, oom, "", "run txt2img"))
    assert "CUDA out of memory. Tried to allocate 9.00 GiB" in message and "lower width/height" in message


def test_long_details_are_clipped():
    assert server_detail({"detail": "x" * 5000}, "").endswith("… (5000 characters)")
