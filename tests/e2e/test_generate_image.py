"""generate_image, the compact agent tool, through the daemon protocol: a few inputs from the
agent, txt2img's settings from the node, a size the checkpoint was trained at."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.conftest import creds
from tests.emulator import Emulator

SD15 = "v1-5-pruned-emaonly.safetensors [6ce0161689]"
SDXL = "sdxl/animagineXL_v31.safetensors [e3c47aedb0]"
FAST = {"steps": 4}  # node settings that keep the emulator quick
AGENT = "agent-message-1"  # Agent apps send a message id; workflow nodes none


def sent(server: Emulator) -> dict:
    return server.last("/sdapi/v1/txt2img").body


@pytest.mark.parametrize(
    ("loaded", "ratio", "size"),
    [
        (SD15, None, (512, 512)),
        (SD15, "portrait", (512, 768)),
        (SD15, "wide", (768, 432)),
        (SDXL, None, (1024, 1024)),
        (SDXL, "landscape", (1216, 832)),
        (SDXL, "tall", (768, 1344)),
    ],
)
def test_the_size_follows_the_aspect_ratio_and_the_loaded_checkpoint(plugin, loaded, ratio, size):
    with Emulator("a1111") as server:
        server.engine.options["sd_model_checkpoint"] = loaded
        inputs = {"prompt": "a lighthouse", **FAST, **({"aspect_ratio": ratio} if ratio else {})}
        result = plugin.invoke("generate_image", inputs, creds(server))
    assert result.error is None, result.error
    [file] = result.files
    assert Image.open(io.BytesIO(file.data)).size == size
    assert (sent(server)["width"], sent(server)["height"]) == size
    assert f"({size[0]}×{size[1]})" in result.text


def test_the_nodes_checkpoint_decides_the_size_and_is_sent_per_request(plugin):
    with Emulator("a1111") as server:  # SD 1.5 loaded on the server
        settings = {"pick_checkpoint": SDXL, "model_family": "auto", **FAST}
        result = plugin.invoke("generate_image", {"prompt": "x", "aspect_ratio": "portrait", **settings}, creds(server))
        assert result.error is None, result.error
        body = sent(server)
        assert (body["width"], body["height"]) == (832, 1216)
        assert body["override_settings"]["sd_model_checkpoint"] == SDXL
        assert not server.calls("POST", "/sdapi/v1/options")  # never switched globally
        assert server.engine.options["sd_model_checkpoint"] == SD15


def test_model_family_overrides_the_name(plugin, webui):
    inputs = {"prompt": "x", "aspect_ratio": "landscape", "model_family": "sdxl", "checkpoint": SD15, **FAST}
    result = plugin.invoke("generate_image", inputs, creds(webui))
    assert result.error is None, result.error
    assert (sent(webui)["width"], sent(webui)["height"]) == (1216, 832)


def test_width_and_height_from_the_agent_win_and_are_rounded_to_8(plugin, webui):
    result = plugin.invoke("generate_image", {"prompt": "x", "width": 1001, "height": 601, **FAST}, creds(webui))
    assert result.error is None, result.error
    assert (sent(webui)["width"], sent(webui)["height"]) == (1000, 600)
    only_width = {"prompt": "x", "width": 768, "aspect_ratio": "portrait", **FAST}
    assert plugin.invoke("generate_image", only_width, creds(webui)).error is None
    assert (sent(webui)["width"], sent(webui)["height"]) == (768, 1152)


def test_count_draws_pictures_one_after_another_with_consecutive_seeds(plugin, webui):
    result = plugin.invoke("generate_image", {"prompt": "x", "count": 3, "seed": 40, **FAST}, creds(webui))
    assert result.error is None, result.error
    assert [f.filename for f in result.files] == ["image_40.png", "image_41.png", "image_42.png"]
    assert (sent(webui)["n_iter"], sent(webui)["batch_size"]) == (3, 1)
    assert "seed 40, 41, 42" in result.text


def test_node_settings_reach_the_request(plugin, webui):
    settings = {
        "default_negative_prompt": "lowres, watermark",
        "pick_sampler": "Euler a",
        "steps": 7,
        "cfg_scale": 5.5,
        "enable_hr": True,
        "hr_scale": 1.5,
        "loras": "add_detail:0.6",
        "clip_skip": 2,
    }
    inputs = {"prompt": "a cat", "negative_prompt": "blurry", "width": 64, "height": 64, **settings}
    result = plugin.invoke("generate_image", inputs, creds(webui))
    assert result.error is None, result.error
    body = sent(webui)
    assert body["negative_prompt"] == "lowres, watermark, blurry"
    assert (body["sampler_name"], body["steps"], body["cfg_scale"]) == ("Euler a", 7, 5.5)
    assert body["enable_hr"] is True and body["hr_scale"] == 1.5
    assert body["prompt"] == "a cat <lora:add_detail:0.6>"
    assert body["override_settings"]["CLIP_stop_at_last_layers"] == 2


@pytest.mark.parametrize(
    ("inputs", "kind", "words"),
    [
        ({"prompt": "x", "aspect_ratio": "panorama"}, "InvalidParameter", "aspect_ratio"),
        ({"prompt": "x", "count": 9}, "InvalidParameter", "count"),
        ({"prompt": "x", "width": 4096, "height": 4096}, "InvalidParameter", "width"),
        ({"prompt": "x", "checkpoint": "no-such-model", "width": 64, "height": 64}, "UnknownName", "no-such-model"),
        ({"prompt": "x", "pick_sampler": "Euler z", "width": 64, "height": 64}, "UnknownName", "Euler a"),
    ],
)
def test_faults_are_named_as_txt2img_names_them(plugin, webui, inputs, kind, words):
    result = plugin.invoke("generate_image", inputs, creds(webui))
    assert result.error_type == kind and words in result.error_message, result.error


def test_agents_get_the_pictures_and_one_line_workflows_get_everything(plugin, webui):
    inputs = {"prompt": "x", "width": 64, "height": 64, "seed": 7, **FAST}
    in_agent = plugin.invoke("generate_image", inputs, creds(webui), message_id=AGENT)
    assert in_agent.error is None, in_agent.error
    assert [m["type"] for m in in_agent.messages if m["type"] != "blob_chunk"] == ["text"]
    assert in_agent.files and in_agent.text.startswith("Generated 1 image (64×64)") and "seed 7" in in_agent.text
    in_workflow = plugin.invoke("generate_image", inputs, creds(webui))
    assert in_workflow.variables["seed"] == 7 and in_workflow.variables["image_count"] == 1
    assert in_workflow.json[0]["seeds"] == [7]
