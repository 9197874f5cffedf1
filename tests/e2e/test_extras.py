"""Around the generation, through the daemon protocol: upscale, interrogate, png_info and "reuse these settings"."""

from __future__ import annotations

import base64
import io
import os

import pytest
from PIL import Image

from tests.conftest import creds
from tests.files_server import dify_file


def picture(size=(96, 64), fmt="PNG", noise=False) -> bytes:
    image = (
        Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3))
        if noise
        else Image.new("RGB", size, (9, 99, 199))
    )
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def size_of(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def as_text(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# --- upscale -----------------------------------------------------------------------------


def test_upscale_one_file_with_the_default_upscaler(plugin, webui, file_server):
    url = file_server.add("small.png", picture())
    result = plugin.invoke("upscale", {"image": dify_file(url, "small.png")}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/extra-single-image").body
    assert (sent["upscaler_1"], sent["upscaling_resize"], sent["resize_mode"]) == ("Lanczos", 2.0, 0)
    assert base64.b64decode(sent["image"]) == picture()
    [file] = result.files
    assert file.filename == "upscale_1.png" and file.mime_type == "image/png" and size_of(file.data) == (192, 128)
    assert result.variables == {"width": 192, "height": 128, "image_count": 1, "upscaler": "Lanczos"}
    assert result.json[0]["html_info"] == "<p>Postprocess upscale by: 2.0, Postprocess upscaler: Lanczos</p>"
    assert result.text == "Upscaled 1 picture to 192×128 with Lanczos in " + result.text.split(" in ")[1]


def test_several_files_go_in_one_batch_request(plugin, webui, file_server):
    files = [dify_file(file_server.add(f"u{i}.png", picture((64 + 8 * i, 64))), f"u{i}.png") for i in range(3)]
    result = plugin.invoke(
        "upscale", {"images": files, "upscaler_1": "r-esrgan 4x+", "upscaling_resize": 3}, creds(webui)
    )
    assert result.error is None, result.error
    assert webui.calls("POST", "/sdapi/v1/extra-single-image") == []
    [request] = webui.calls("POST", "/sdapi/v1/extra-batch-images")
    assert [item["name"] for item in request.body["imageList"]] == ["1.png", "2.png", "3.png"]
    assert request.body["upscaler_1"] == "R-ESRGAN 4x+"
    assert [f.filename for f in result.files] == ["upscale_1.png", "upscale_2.png", "upscale_3.png"]
    assert [size_of(f.data) for f in result.files] == [(192, 192), (216, 192), (240, 192)]
    assert result.text.startswith("Upscaled 3 pictures to 192×192, 216×192, 240×192 with R-ESRGAN 4x+")


def test_scale_to_a_target_size_keeps_the_shape(plugin, webui):
    result = plugin.invoke(
        "upscale", {"image_url": as_text(picture((100, 50))), "upscaling_resize_w": "400"}, creds(webui)
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/extra-single-image").body
    assert (sent["resize_mode"], sent["upscaling_resize_w"], sent["upscaling_resize_h"]) == (1, 400, 200)
    assert size_of(result.files[0].data) == (400, 200)


def test_an_unknown_upscaler_is_caught_before_sending(plugin, webui):
    result = plugin.invoke("upscale", {"image_url": as_text(picture()), "upscaler_1": "ESRGAN 5x"}, creds(webui))
    assert result.error_type == "UnknownName" and "Closest: ESRGAN_4x" in result.error_message
    assert webui.calls("POST") == []


def test_the_upscaler_picker_lists_the_servers_upscalers(plugin, webui):
    result = plugin.fetch_options("upscale", "pick_upscaler_1", creds(webui))
    values = [option["value"] for option in result.stream[0]["options"]]
    assert "R-ESRGAN 4x+ Anime6B" in values and "Latent" not in values  # Extras takes no latent modes
    picked = plugin.invoke("upscale", {"image_url": as_text(picture()), "pick_upscaler_1": "SwinIR 4x"}, creds(webui))
    assert picked.error is None and webui.last("/sdapi/v1/extra-single-image").body["upscaler_1"] == "SwinIR 4x"


def test_a_result_over_difys_file_limit_is_refused_before_the_server_works(plugin, webui):
    photo = picture((1536, 1536), noise=True)  # incompressible: about 7 MiB
    result = plugin.invoke("upscale", {"image_url": as_text(photo), "upscaling_resize": 4}, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert (
        "would become 6144×6144" in result.error_message and "over Dify's 30.0 MiB file limit" in result.error_message
    )
    assert "Use upscaling_resize 2.1 or less" in result.error_message
    assert webui.calls("POST") == []


def test_upscale_needs_a_picture(plugin, webui):
    result = plugin.invoke("upscale", {}, creds(webui))
    assert result.error_type == "InvalidParameter" and "needs a picture" in result.error_message


# --- interrogate ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "caption"),
    [("clip", "a picture of a square, 96 by 64 pixels"), ("deepdanbooru", "1girl, solo, 96x64, simple background")],
)
def test_interrogate_gives_a_prompt(plugin, webui, file_server, model, caption):
    url = file_server.add("look.png", picture())
    result = plugin.invoke("interrogate", {"image": dify_file(url, "look.png"), "model": model}, creds(webui))
    assert result.error is None, result.error
    assert result.text == caption
    assert result.variables == {"prompt": caption, "caption": caption, "model": model}
    assert webui.last("/sdapi/v1/interrogate").body["model"] == model


def test_an_interrogator_failure_is_an_error_not_a_caption(plugin, webui):
    webui.interrogate_fails = True
    result = plugin.invoke("interrogate", {"image_url": as_text(picture())}, creds(webui))
    assert result.error_type == "InvalidResponse" and "'<error>'" in result.error_message


def test_a_slow_first_interrogation_says_why(plugin, webui):
    webui.faults["/sdapi/v1/interrogate"] = "hang"
    result = plugin.invoke("interrogate", {"image_url": as_text(picture()), "timeout": 1}, creds(webui))
    assert result.error_type == "GenerationTimeout" and "downloads the model's weights" in result.error_message


# --- png_info and infotext -------------------------------------------------------------------


def generated(plugin, webui, **parameters) -> tuple[bytes, str]:
    base = {"prompt": "a red cube", "width": 64, "height": 64, "seed": 4242}
    result = plugin.invoke("txt2img", {**base, **parameters}, creds(webui))
    assert result.error is None, result.error
    return result.files[0].data, result.variables["infotexts"][0]


def test_png_info_maps_the_settings_onto_parameters(plugin, webui):
    data, infotext = generated(
        plugin, webui, negative_prompt="blurry", sampler_name="Euler", scheduler="Karras", steps=12, cfg_scale=5
    )
    result = plugin.invoke("png_info", {"image_url": as_text(data)}, creds(webui))
    assert result.error is None, result.error
    assert result.text == infotext
    [listing] = result.json
    assert listing["parameters"] == {
        "prompt": "a red cube",
        "negative_prompt": "blurry",
        "steps": 12,
        "sampler_name": "Euler",
        "scheduler": "Karras",
        "cfg_scale": 5.0,
        "seed": 4242,
        "width": 64,
        "height": 64,
        "checkpoint": "v1-5-pruned-emaonly",
    }
    assert listing["other"] == {"Model hash": "6ce0161689", "Version": "1.10.1"}
    variables = result.variables
    assert variables["found"] is True and variables["seed"] == 4242 and variables["checkpoint"] == "v1-5-pruned-emaonly"


def test_a_picture_without_settings_is_a_clear_result(plugin, webui):
    result = plugin.invoke("png_info", {"image_url": as_text(picture())}, creds(webui))
    assert result.error is None, result.error
    assert result.variables["found"] is False and "holds no generation parameters" in result.text
    assert result.json[0]["parameters"] == {}


def test_an_infotext_round_trip_sends_the_same_request(plugin, webui):
    original = {
        "prompt": "a lighthouse at dusk, <lora:add_detail:0.6>",
        "negative_prompt": "blurry, lowres",
        "sampler_name": "DPM++ 2M",
        "scheduler": "Karras",
        "steps": 14,
        "cfg_scale": 6.5,
        "width": 96,
        "height": 64,
        "seed": 987,
        "checkpoint": "animagineXL_v31",
        "clip_skip": 2,
    }
    first = plugin.invoke("txt2img", original, creds(webui))
    assert first.error is None, first.error
    sent_first = webui.last("/sdapi/v1/txt2img").body
    again = plugin.invoke("txt2img", {"infotext": first.variables["infotexts"][0], "seed": 987}, creds(webui))
    assert again.error is None, again.error
    sent_again = webui.last("/sdapi/v1/txt2img").body
    assert sent_first.pop("force_task_id") != sent_again.pop("force_task_id")  # each call's own progress id
    assert sent_again == sent_first
    assert again.json[0]["infotext_unused"]["Lora hashes"].startswith("add_detail")


def test_explicit_parameters_win_over_the_infotext(plugin, webui):
    infotext = (
        "a cat\nNegative prompt: ugly\nSteps: 30, Sampler: Euler, CFG scale: 9, Seed: 5, Size: 64x64, Mask blur: 8"
    )
    result = plugin.invoke("txt2img", {"infotext": infotext, "steps": 8, "prompt": "a dog"}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["prompt"], sent["negative_prompt"], sent["steps"], sent["cfg_scale"], sent["seed"]) == (
        "a dog",
        "ugly",
        8,
        9.0,
        5,
    )
    assert "infotext" not in sent
    assert result.json[0]["infotext_unused"] == {"mask_blur": "8"}  # an img2img setting


def test_names_inside_an_infotext_are_checked(plugin, webui):
    infotext = "a cat\nSteps: 20, Sampler: Euler, Seed: 5, Size: 64x64, Model: someone-elses-model"
    result = plugin.invoke("txt2img", {"infotext": infotext}, creds(webui))
    assert result.error_type == "UnknownName" and "someone-elses-model" in result.error_message
    assert webui.calls("POST") == []


def test_an_empty_prompt_beside_an_infotext_means_not_given(plugin, webui):
    """A workflow passes "" for an input left empty: the infotext's prompt is used."""
    infotext = "a cat\nNegative prompt: ugly\nSteps: 8, Sampler: Euler, CFG scale: 7, Seed: 5, Size: 64x64"
    result = plugin.invoke("txt2img", {"infotext": infotext, "prompt": "", "negative_prompt": ""}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["prompt"], sent["negative_prompt"]) == ("a cat", "ugly")
