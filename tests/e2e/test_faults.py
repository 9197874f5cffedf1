"""The fault table: every way the server or the input can go wrong ends, within a bounded time,
in a correct result or an error that says what happened (through the daemon protocol)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.conftest import creds
from tests.daemon import DAEMON_LINE_LIMIT

TXT2IMG = {"prompt": "x", "width": 64, "height": 64}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(plugin, credentials, parameters=None, tool="txt2img", limit=15.0):
    started = time.monotonic()
    result = plugin.invoke(tool, parameters or dict(TXT2IMG), credentials, timeout=limit + 30)
    elapsed = time.monotonic() - started
    assert elapsed < limit, f"took {elapsed:.1f} s"
    return result


# --- the server ------------------------------------------------------------------------


def test_connection_refused(plugin):
    result = run(plugin, {"base_url": f"http://127.0.0.1:{closed_port()}"}, limit=5)
    assert result.error_type == "ServerUnreachable" and "connection was refused" in result.error_message


def test_dns_name_that_does_not_resolve(plugin):
    result = run(plugin, {"base_url": "http://webui.invalid:7860"})
    assert result.error_type == "ServerUnreachable" and "does not resolve" in result.error_message


def test_server_that_accepts_but_never_answers(plugin, webui):
    webui.faults["/sdapi/v1/txt2img"] = "hang"
    result = run(plugin, creds(webui), {**TXT2IMG, "timeout": 2}, limit=5)
    assert result.error_type == "GenerationTimeout" and "did not answer within 2 s" in result.error_message


@pytest.mark.parametrize(
    ("fault", "fragment"),
    [
        ("close", "closed the connection without answering"),
        ("close_mid_body", "connection dropped while the answer was being read"),
    ],
)
def test_connection_closed(plugin, webui, fault, fragment):
    webui.faults["/sdapi/v1/txt2img"] = fault
    result = run(plugin, creds(webui))
    assert result.error_type == "ServerUnreachable" and fragment in result.error_message


def test_route_missing(plugin, webui):
    result = run(plugin, creds(webui, base_url=webui.url + "/gradio"))
    assert result.error_type == "ApiDisabled" and "--api" in result.error_message


@pytest.mark.parametrize(
    ("fault", "error_type", "fragment"),
    [
        ("html_200", "InvalidResponse", "answered an HTML page (81 bytes) instead of JSON while trying to run txt2img"),
        ("no_images", "InvalidResponse", "has no 'images' list (keys: info, parameters)"),
        ("bad_base64", "InvalidResponse", "Image 1 of 1 in the server's answer is not valid base64"),
        ("truncated_base64", "InvalidResponse", "truncated"),
        ("not_an_image", "InvalidResponse", "not a PNG, JPEG or WebP image"),
        ("empty_images", "InvalidResponse", "interrupted or skipped on the server"),
        ("oom", "ServerFailed", "(HTTP 500 OutOfMemoryError): CUDA out of memory"),
    ],
)
def test_unusable_answers(plugin, webui, fault, error_type, fragment):
    webui.faults["/sdapi/v1/txt2img"] = fault
    result = run(plugin, creds(webui))
    assert result.error_type == error_type and fragment in result.error_message


def test_error_shapes_of_each_family(plugin, make_webui):
    forge = make_webui("forge", False)
    result = run(plugin, creds(forge), {**TXT2IMG, "extra_payload": '{"hr_distilled_cfg": "x"}'})
    assert "(HTTP 422): hr_distilled_cfg: Input should be a valid number" in result.error_message
    old = make_webui("a1111-1.9", False)
    result = run(plugin, creds(old), {**TXT2IMG, "extra_payload": '{"sampler_index": "Euler Karras"}'})
    assert "(HTTP 404 HTTPException): Sampler not found" in result.error_message
    sdnext = make_webui("sdnext", True)  # "code" in its bodies (sdnext/auth_sd_models_wrong_password.json)
    result = run(plugin, creds(sdnext, password="wrong"))
    assert (
        result.error_type == "AuthenticationFailed"
        and "(HTTP 401: Unauthorized — 401: Unauthorized)" in result.error_message
    )


# --- size ------------------------------------------------------------------------------


def test_an_image_over_difys_file_limit_is_refused_not_crashed(plugin, webui):
    webui.faults["/sdapi/v1/txt2img"] = "huge_image"
    result = run(plugin, creds(webui), limit=30)
    assert result.error_type == "InvalidResponse"
    assert "Image 1 (31.2 MiB) was not returned: Dify accepts files up to 30.0 MiB" in result.error_message
    assert result.longest_line < DAEMON_LINE_LIMIT
    webui.faults.clear()
    assert run(plugin, creds(webui)).error is None  # the plugin process is still fine


def test_the_images_that_fit_are_returned_with_a_note(plugin, webui):
    webui.faults["/sdapi/v1/txt2img"] = "huge_and_small"
    result = run(plugin, creds(webui), limit=30)
    assert result.error is None, result.error
    assert [f.filename for f in result.files] == ["txt2img_1.png"]
    assert "Image 2 (31.2 MiB) was not returned" in result.text
    assert result.json[0]["not_returned"] and result.variables["image_count"] == 1
    webui.faults.clear()
    assert run(plugin, creds(webui)).error is None  # the plugin process is still fine


def test_no_message_line_carries_image_data(plugin, webui):
    result = run(plugin, creds(webui), {"prompt": "x", "width": 2048, "height": 2048, "batch_size": 2}, limit=60)
    assert result.error is None, result.error
    assert sum(len(f.data) for f in result.files) > 50_000
    assert result.longest_line < 64 * 1024
    assert len(json.dumps(result.json)) < 20_000 and len(result.text) < 1_000


# --- bad input -------------------------------------------------------------------------


def yaml_parameters(tool: str) -> list[dict]:
    import yaml

    from tests.daemon import ROOT

    return yaml.safe_load((ROOT / "tools" / f"{tool}.yaml").read_text())["parameters"]


WRONG_TYPE = {"number": "twelve", "boolean": "maybe", "select": "no-such-choice"}
JSON_INPUTS = {"override_settings", "alwayson_scripts", "script_args", "extra_payload"}


@pytest.mark.parametrize("tool", ["txt2img", "img2img"])
def test_every_typed_parameter_refuses_the_wrong_type(plugin, webui, tool):
    base = {"init_image_url": "data:image/png;base64,iVBORw0KGgo="} if tool == "img2img" else {}
    for param in yaml_parameters(tool):
        name, kind = param["name"], param["type"]
        value = "{not json" if name in JSON_INPUTS else WRONG_TYPE.get(kind)
        if value is None:
            continue
        result = plugin.invoke(tool, {**base, name: value}, creds(webui))
        assert result.error_type == "InvalidParameter", (name, result.error)
        assert f"{name} = " in result.error_message, (name, result.error_message)
    assert webui.calls("POST") == []


@pytest.mark.parametrize("tool", ["txt2img", "img2img"])
def test_every_bounded_parameter_refuses_values_out_of_range(plugin, webui, tool):
    checked = 0
    for param in yaml_parameters(tool):
        for bound, step, word in (("min", -1, "at least"), ("max", 1, "at most")):
            if bound not in param:
                continue
            value = param[bound] + step * (
                8 if param["name"] in ("width", "height", "hr_resize_x", "hr_resize_y") else 1
            )
            result = plugin.invoke(tool, {param["name"]: value}, creds(webui))
            assert result.error_type == "InvalidParameter", (param["name"], value)
            assert f"{param['name']} = {value!r}: must be {word}" in result.error_message
            checked += 1
    assert checked > 20 and webui.calls("POST") == []


def test_empty_values_mean_defaults(plugin, webui):
    empty = {
        p["name"]: "" for p in yaml_parameters("txt2img") if p["type"] in ("number", "boolean", "select", "string")
    }
    result = plugin.invoke("txt2img", {**empty, "prompt": "x", "width": 64, "height": 64}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["steps"], sent["cfg_scale"], sent["seed"]) == (20, 7.0, -1)


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"prompt": "a" * 1024 * 1024}, "is too long (1048576 characters; at most 65536)"),
        ({"seed": -2}, "seed = -2: must be at least -1"),
        ({"width": 0}, "width = 0: must be at least 64"),
        ({"width": 100000}, "width = 100000: must be at most 4096"),
        ({"override_settings": "[1, 2]"}, "must be a JSON object"),
        ({"alwayson_scripts": '"text"'}, "must be a JSON object"),
        ({"script_args": "{}"}, "must be a JSON array"),
        ({"extra_payload": "[]"}, "must be a JSON object"),
        ({"extra_payload": "{'single': 'quotes'}"}, "extra_payload = \"{'single': 'quotes'}\": is not valid JSON"),
    ],
)
def test_bad_input_table(plugin, webui, parameters, fragment):
    started = time.monotonic()
    result = plugin.invoke("txt2img", parameters, creds(webui))
    assert time.monotonic() - started < 5
    assert result.error_type == "InvalidParameter" and fragment in result.error_message
    assert result.longest_line < DAEMON_LINE_LIMIT


def test_unknown_extra_payload_keys_pass_through(plugin, webui):
    result = plugin.invoke(
        "txt2img", {**TXT2IMG, "extra_payload": '{"my_extension_flag": true, "pag_scale": 3}'}, creds(webui)
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert sent["my_extension_flag"] is True and sent["pag_scale"] == 3
