"""What the recordings of Forge, reForge and SD.Next show, through the daemon protocol.

The emulator answers as tests/captures/<flavour>/ recorded: SD.Next sends JPEG, names no
model in its info, lists embeddings as lists, has no interrogate route, fails its Extras
routes and rate-limits; Forge ignores a checkpoint it cannot find and keeps an sd_vae
override for everybody; reForge turns an unknown sampler into DPM++ 2M Karras.
"""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import creds

SMALL = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 2}


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 99, 199)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


# --- SD.Next ------------------------------------------------------------------------------


def test_sdnext_jpeg_comes_back_as_jpeg(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("txt2img", SMALL, creds(server))
    assert result.error is None, result.error
    [image] = result.files
    assert (image.mime_type, image.filename.rsplit(".", 1)[-1]) == ("image/jpeg", "jpg")
    assert image.data[:3] == b"\xff\xd8\xff"


def test_sdnext_model_is_read_from_the_infotext_not_invented(plugin, make_webui):
    """SD.Next's info has no sd_model_name; its infotext says "Model: …" (sdnext/t2i_minimal.json)."""
    server = make_webui("sdnext", False)
    result = plugin.invoke("txt2img", {**SMALL, "checkpoint": "v1-5-pruned-emaonly"}, creds(server))
    assert result.error is None, result.error
    assert result.variables["model"] == "v1-5-pruned-emaonly"
    server.answers["/sdapi/v1/txt2img"] = {
        "images": [png().split(",", 1)[1]],
        "parameters": {},
        "info": '{"all_seeds": [1], "infotexts": ["x\\nSteps: 2, Seed: 1"]}',
    }
    result = plugin.invoke("txt2img", {**SMALL, "checkpoint": "v1-5-pruned-emaonly"}, creds(server))
    assert result.error is None, result.error
    assert "model" not in result.variables  # not confirmed by the server: not claimed


def test_sdnext_embeddings_and_schedulers_are_listed(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("list_resources", {"include": "embeddings,schedulers"}, creds(server))
    assert result.error is None, result.error
    assert result.json[0]["embeddings"] == [] and not result.json[0]["schedulers"]
    assert server.calls("GET", "/sdapi/v1/schedulers") == []  # a 500 on SD.Next: never asked


def test_sdnext_has_no_interrogate_route(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("interrogate", {"image_url": png()}, creds(server))
    assert result.error_type == "ExtensionMissing"
    assert "/sdapi/v1/caption" in result.error_message and "SD.Next" in result.error_message
    assert server.calls("POST") == []


def test_sdnext_extras_failure_is_explained(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("upscale", {"image_url": png(), "upscaler_1": "Resize Lanczos"}, creds(server))
    assert result.error_type == "ServerFailed"
    assert "SD.Next" in result.error_message and "html_info" in result.error_message
    assert "Extras" in result.error_message


def test_sdnext_rate_limit_is_typed_and_never_resends_a_generation(plugin, make_webui):
    server = make_webui("sdnext", False)
    server.engine.options["server_rate_limit"] = 5  # one txt2img costs 5 (rl_429_txt2img_cost5.json)
    assert plugin.invoke("txt2img", SMALL, creds(server)).error is None
    result = plugin.invoke("txt2img", SMALL, creds(server))
    assert result.error_type == "RateLimited"
    assert "rate limit" in result.error_message and "not sent again" in result.error_message
    assert len(server.calls("POST", "/sdapi/v1/txt2img")) == 2
    assert server.engine.generations == 2  # the refused one ran on the server


# --- Forge ----------------------------------------------------------------------------------


def test_forge_checkpoint_it_ignores_is_not_reported_as_used(plugin, make_webui):
    """Forge ignores a checkpoint it cannot find (ov_override_sd_model_checkpoint_unknown.json):
    the info names the loaded model. The plugin compares it with the one asked for."""
    server = make_webui("forge", False)
    wanted = "sdxl/animagineXL_v31.safetensors [e3c47aedb0]"
    assert plugin.invoke("txt2img", {**SMALL, "checkpoint": wanted}, creds(server)).error is None
    server.engine.options["sd_model_checkpoint"] = server.engine.checkpoints[0]["title"]
    del server.engine.checkpoints[1]  # gone from the server; the plugin's list is still the old one
    result = plugin.invoke("txt2img", {**SMALL, "checkpoint": wanted}, creds(server))
    assert result.error_type == "ServerRejected"
    assert "animagineXL_v31" in result.error_message and "v1-5-pruned-emaonly" in result.error_message


def test_forge_sd_vae_override_is_refused_before_it_sticks(plugin, make_webui):
    """An sd_vae override is not restored on Forge (ov_options_after.json): never sent."""
    server = make_webui("forge", False)
    result = plugin.invoke("txt2img", {**SMALL, "override_settings": '{"sd_vae": "None"}'}, creds(server))
    assert result.error_type == "InvalidParameter"
    assert "sd_vae" in result.error_message and "does not restore" in result.error_message
    assert server.calls("POST") == [] and server.engine.options["sd_vae"] == "Automatic"


def test_forge_clip_skip_uses_the_option_forge_has(plugin, make_webui):
    """ov_override_clip_skip.json's KeyError is for a misspelt key; the real one is in Forge's options."""
    server = make_webui("forge", False)
    result = plugin.invoke("txt2img", {**SMALL, "clip_skip": "2"}, creds(server))
    assert result.error is None, result.error
    assert server.last("/sdapi/v1/txt2img").body["override_settings"] == {"CLIP_stop_at_last_layers": 2}
    assert "Clip skip: 2" in result.variables["infotexts"][0]


# --- reForge --------------------------------------------------------------------------------


def test_reforge_unknown_sampler_is_refused_not_replaced(plugin, make_webui):
    """reForge would run DPM++ 2M Karras instead (reforge/t2i_unknown_sampler.json)."""
    server = make_webui("reforge", False)
    result = plugin.invoke("txt2img", {**SMALL, "sampler_name": "nope"}, creds(server))
    assert result.error_type == "UnknownName" and "'nope'" in result.error_message
    assert server.calls("POST") == []


@pytest.mark.parametrize("flavour", ["reforge", "a1111"])
def test_an_unknown_vae_in_override_settings_is_refused_by_name(plugin, make_webui, flavour):
    """reForge and A1111 run on with their own VAE when override_settings names one they lack
    (run for real on reForge 3b56b268): the name is checked like the vae input's."""
    server = make_webui(flavour, False)
    result = plugin.invoke(
        "txt2img", {**SMALL, "extra_payload": '{"override_settings": {"sd_vae": "x"}}'}, creds(server)
    )
    assert result.error_type == "UnknownName" and "sd_vae" in result.error_message
    assert server.calls("POST") == []


def test_forge_neo_is_named_and_has_no_interrogate_route(plugin, make_webui):
    """Forge Neo (neo-2.26, captures forge-neo) is told from Forge by its routes; asking it to
    interrogate says why it cannot instead of blaming --api."""
    server = make_webui("forge-neo", False)
    listed = plugin.invoke("list_resources", {"include": "upscalers"}, creds(server))
    assert listed.error is None, listed.error
    assert listed.json[0]["server"]["label"] == "Forge Neo"
    result = plugin.invoke("interrogate", {"image_url": png()}, creds(server))
    assert result.error_type == "ExtensionMissing" and "Forge Neo" in result.error_message
    assert server.calls("POST") == []
    drawn = plugin.invoke("txt2img", {"prompt": "a red cube", "width": 64, "height": 64}, creds(server))
    assert drawn.error is None, drawn.error
    assert len(drawn.files) == 1
