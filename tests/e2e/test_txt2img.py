"""txt2img through the daemon protocol against the emulator: what users see and what was sent."""

from __future__ import annotations

import io
import json
import time

import pytest
from PIL import Image

from tests.conftest import creds, source_and_package
from tests.daemon import DAEMON_LINE_LIMIT


@pytest.fixture(params=["source", "package"], scope="module")
def plugin(request):
    """Each test runs against the source tree and against the unpacked .difypkg."""
    return source_and_package(request)


def pixels(data: bytes) -> tuple[str, tuple[int, int]]:
    image = Image.open(io.BytesIO(data))
    return image.format, image.size


def test_width_and_height_as_numbers(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "a red cube", "width": 640, "height": 384, "steps": 12}, creds(webui))
    assert result.error is None, result.error
    [file] = result.files
    assert pixels(file.data) == ("PNG", (640, 384)) and file.mime_type == "image/png"
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["width"], sent["height"], sent["steps"]) == (640, 384, 12)


def test_width_and_height_as_strings_from_workflow_variables(plugin, webui):
    result = plugin.invoke(
        "txt2img", {"prompt": "a red cube", "width": "512", "height": "768", "cfg_scale": "6.5"}, creds(webui)
    )
    assert result.error is None, result.error
    assert pixels(result.files[0].data) == ("PNG", (512, 768))
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["width"], sent["height"], sent["cfg_scale"]) == (512, 768, 6.5)
    assert result.variables["width"] == 512 and result.variables["height"] == 768


def test_batch_of_two_returns_every_image_with_its_seed(plugin, webui):
    result = plugin.invoke(
        "txt2img", {"prompt": "a cat", "batch_size": 2, "seed": 1234, "width": 64, "height": 64}, creds(webui)
    )
    assert result.error is None, result.error
    files = result.files
    assert [f.filename for f in files] == ["txt2img_1234.png", "txt2img_1235.png"]
    assert [pixels(f.data) for f in files] == [("PNG", (64, 64))] * 2
    assert files[0].data != files[1].data
    variables = result.variables
    assert variables["seed"] == 1234 and variables["seeds"] == [1234, 1235] and variables["image_count"] == 2
    assert len(variables["infotexts"]) == 2 and "Seed: 1235" in variables["infotexts"][1]
    [summary] = result.json
    assert summary["seeds"] == [1234, 1235] and summary["server"]["family"] == "a1111"
    assert [i["filename"] for i in summary["images"]] == ["txt2img_1234.png", "txt2img_1235.png"]
    assert len(json.dumps(summary)) < 20_000  # no base64 in JSON
    assert result.text.startswith("Generated 2 images (64×64)") and "seed 1234, 1235" in result.text


def test_checkpoint_is_chosen_per_request_without_touching_the_server_setting(plugin, webui):
    before = webui.engine.options["sd_model_checkpoint"]
    result = plugin.invoke(
        "txt2img", {"prompt": "x", "checkpoint": "animagineXL_v31", "width": 64, "height": 64}, creds(webui)
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert sent["override_settings"] == {"sd_model_checkpoint": "sdxl/animagineXL_v31.safetensors [e3c47aedb0]"}
    assert result.variables["model"] == "animagineXL_v31"
    assert webui.calls("POST", "/sdapi/v1/options") == []
    assert webui.engine.options["sd_model_checkpoint"] == before


def test_unknown_checkpoint_lists_the_available_ones_and_sends_nothing(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "x", "checkpoint": "animagine-v4"}, creds(webui))
    assert result.error_type == "UnknownName"
    assert "Unknown checkpoint 'animagine-v4'" in result.error_message
    assert "sdxl/animagineXL_v31.safetensors [e3c47aedb0]" in result.error_message
    assert "v1-5-pruned-emaonly.safetensors [6ce0161689]" in result.error_message
    assert webui.calls("POST", "/sdapi/v1/txt2img") == []


def test_sampler_typo_is_caught_not_silently_replaced(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "x", "sampler_name": "Euler-ancestral"}, creds(webui))
    assert result.error_type == "UnknownName" and "Closest: Euler a" in result.error_message
    assert webui.calls("POST", "/sdapi/v1/txt2img") == []


def test_hires_fix_sends_denoising_strength_and_upscales(plugin, webui):
    result = plugin.invoke(
        "txt2img",
        {"prompt": "x", "width": 64, "height": 64, "enable_hr": "true", "hr_scale": 1.5, "hr_upscaler": "lanczos"},
        creds(webui),
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert sent["denoising_strength"] == 0.7 and sent["hr_upscaler"] == "Lanczos"
    assert pixels(result.files[0].data)[1] == (96, 96)


def test_japanese_prompt_round_trip(plugin, webui):
    prompt = "桜の木の下の少女、水彩画"
    result = plugin.invoke("txt2img", {"prompt": prompt, "width": 64, "height": 64}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["prompt"] == prompt
    assert result.variables["infotexts"][0].startswith(prompt)


def test_invalid_parameter_is_reported_before_anything_is_sent(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "x", "width": "1000.5", "seed": -7}, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert "width = '1000.5': must be a whole number" in result.error_message
    assert "seed = -7" in result.error_message
    assert webui.requests == []


def test_timeout_says_how_long_it_waited(plugin, webui):
    webui.engine.generation_delay = 4
    started = time.monotonic()
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64, "timeout": 1}, creds(webui))
    assert time.monotonic() - started < 3.5
    assert result.error_type == "GenerationTimeout"
    assert "did not answer within 1 s" in result.error_message
    assert "PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by default)" in result.error_message


def test_provider_timeout_applies_when_the_tool_sets_none(plugin, webui):
    webui.engine.generation_delay = 4
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64}, creds(webui, timeout="1"))
    assert result.error_type == "GenerationTimeout" and "within 1 s" in result.error_message


def test_long_generation_within_the_timeout_succeeds(plugin, webui):
    webui.engine.generation_delay = 1.5
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64, "timeout": 30}, creds(webui))
    assert result.error is None and len(result.files) == 1


@pytest.mark.parametrize(
    ("parameters", "error_type", "fragment"),
    [
        ({"script_name": "nope"}, "ServerRejected", "(HTTP 422 HTTPException): Script 'nope' not found"),
        ({"alwayson_scripts": '{"nope": {"args": []}}'}, "ServerRejected", "Script 'nope' not found"),
        ({"override_settings": '{"nope_key": 1}'}, "ServerFailed", "(HTTP 500 KeyError): 'nope_key'"),
    ],
)
def test_server_faults_carry_the_servers_detail(plugin, webui, parameters, error_type, fragment):
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64, **parameters}, creds(webui))
    assert result.error_type == error_type
    assert fragment in result.error_message
    assert "Failed to generate image" not in result.error_message


def test_cuda_out_of_memory(plugin, webui):
    webui.faults["/sdapi/v1/txt2img"] = "oom"
    result = plugin.invoke("txt2img", {"prompt": "x"}, creds(webui))
    assert result.error_type == "ServerFailed"
    assert "CUDA out of memory. Tried to allocate 9.00 GiB" in result.error_message
    assert "lower width/height" in result.error_message


def test_wrong_password_at_generation_time(plugin, secured):
    result = plugin.invoke("txt2img", {"prompt": "x"}, creds(secured, password="nope-nope"))
    assert result.error_type == "AuthenticationFailed" and "Incorrect username or password" in result.error_message
    assert "nope-nope" not in plugin.output


def test_no_stdout_line_comes_near_the_daemon_limit(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 1024, "height": 1024, "batch_size": 2}, creds(webui))
    assert result.error is None
    assert result.longest_line < 64 * 1024 < DAEMON_LINE_LIMIT
