"""Server-backed pickers, list_resources, LoRA/style checks and list caching, through the daemon protocol."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import creds
from tests.daemon import ROOT
from tests.emulator import Emulator


def options(result) -> list[tuple[str, str]]:
    assert result.error is None, result.error
    [payload] = result.stream
    return [(option["value"], option["label"]["en_US"]) for option in payload["options"]]


@pytest.mark.parametrize(
    ("tool", "parameter", "expected"),
    [
        ("txt2img", "pick_checkpoint", ("sdxl/animagineXL_v31.safetensors [e3c47aedb0]",) * 2),
        ("txt2img", "pick_sampler", ("Euler a", "Euler a")),
        ("img2img", "pick_scheduler", ("Karras", "Karras")),
        ("txt2img", "pick_vae", ("sdxl_vae.safetensors", "sdxl_vae.safetensors")),
        ("txt2img", "pick_hr_upscaler", ("R-ESRGAN 4x+", "R-ESRGAN 4x+")),
        ("img2img", "pick_styles", ("Cinematic", "Cinematic")),
    ],
)
def test_pickers_list_the_servers_names(plugin, webui, tool, parameter, expected):
    assert expected in options(plugin.fetch_options(tool, parameter, creds(webui)))


def test_pickers_follow_the_flavour(plugin, make_webui):
    forge = make_webui("forge", False)
    assert ("/srv/webui/models/VAE/ae.safetensors", "ae.safetensors") in options(
        plugin.fetch_options("txt2img", "pick_vae", creds(forge))
    )
    old = make_webui("a1111-1.9", False)
    labels = [label for _, label in options(plugin.fetch_options("txt2img", "pick_scheduler", creds(old)))]
    assert labels == ["Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform"]
    sdnext = make_webui("sdnext", False)
    assert options(plugin.fetch_options("txt2img", "pick_scheduler", creds(sdnext))) == []


PICKERS = ["pick_checkpoint", "pick_sampler", "pick_scheduler", "pick_vae", "pick_hr_upscaler", "pick_styles"]


def test_pickers_fail_soft_when_the_server_is_down(plugin):
    with Emulator("a1111") as server:
        credentials = creds(server)
        seen = {name: options(plugin.fetch_options("txt2img", name, credentials)) for name in PICKERS}
    assert all(seen.values())
    for name in PICKERS:  # the server is gone now: the last list it gave
        assert options(plugin.fetch_options("txt2img", name, credentials)) == seen[name]
        never_seen = {"base_url": credentials["base_url"] + "/other"}
        assert options(plugin.fetch_options("txt2img", name, never_seen)) == []
    assert options(plugin.fetch_options("txt2img", "pick_checkpoint", {"base_url": ""})) == []


def test_a_free_value_wins_over_the_picked_one(plugin, webui):
    pick = "v1-5-pruned-emaonly.safetensors [6ce0161689]"
    result = plugin.invoke("txt2img", {"prompt": "x", "pick_checkpoint": pick}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["override_settings"]["sd_model_checkpoint"] == pick
    result = plugin.invoke(
        "txt2img", {"prompt": "x", "pick_checkpoint": pick, "checkpoint": "animagineXL_v31"}, creds(webui)
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/txt2img").body["override_settings"]["sd_model_checkpoint"]
    assert sent == "sdxl/animagineXL_v31.safetensors [e3c47aedb0]"


@pytest.mark.parametrize(
    ("picked", "sent"),
    [
        (["Cinematic", "Watercolor"], ["Cinematic", "Watercolor"]),  # Dify builds with multi-select (#39346)
        ("Cinematic", ["Cinematic"]),  # older Dify sends the one picked style as text
    ],
)
def test_picked_styles_arrive_as_a_list_or_as_one_string(plugin, webui, picked, sent):
    result = plugin.invoke("txt2img", {"prompt": "x", "pick_styles": picked}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["styles"] == sent


def test_list_resources_returns_every_list(plugin, webui):
    webui.extensions.add("controlnet")
    result = plugin.invoke("list_resources", {}, creds(webui))
    assert result.error is None, result.error
    [listing] = result.json
    assert listing["server"]["label"] == "AUTOMATIC1111 1.10+"
    assert listing["checkpoints"][0] == {
        "title": "v1-5-pruned-emaonly.safetensors [6ce0161689]",
        "model_name": "v1-5-pruned-emaonly",
        "hash": "6ce0161689",
    }
    assert {"name": "anime_eyes_v2", "alias": "animeEyes"} in listing["loras"]
    assert "metadata" not in str(listing["loras"])  # LoRA metadata can be megabytes
    assert listing["embeddings"] == ["EasyNegative"] and listing["styles"] == ["Cinematic", "Watercolor"]
    assert listing["controlnet"]["models"][0] == "control_v11p_sd15_canny [d14c016b]"
    variables = result.variables
    assert variables["server"] == "AUTOMATIC1111 1.10+" and "DPM++ 2M" in variables["samplers"]
    assert "Latent" in variables["upscalers"] and variables["controlnet_modules"][:2] == ["none", "canny"]
    assert "checkpoints (3): v1-5-pruned-emaonly.safetensors [6ce0161689]" in result.text


def test_list_resources_include_and_missing_extensions(plugin, make_webui):
    server = make_webui("forge", False)
    result = plugin.invoke("list_resources", {"include": "vaes, controlnet"}, creds(server))
    assert result.error is None, result.error
    [listing] = result.json
    assert set(listing) == {"server", "vaes", "controlnet"}
    assert listing["vaes"] == ["ae.safetensors", "clip_l.safetensors"]
    assert listing["controlnet"]["models"][0] == "None"  # Forge's built-in ControlNet
    with Emulator("a1111") as plain:  # a new address: nothing of it cached
        result = plugin.invoke("list_resources", {"include": "controlnet"}, creds(plain))
    assert result.json[0]["controlnet"] is None and "controlnet: not installed" in result.text
    bad = plugin.invoke("list_resources", {"include": "models"}, creds(server))
    assert bad.error_type == "InvalidParameter" and "unknown list 'models'" in bad.error_message


def test_valid_lora_tags_are_made_exact(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "a cat <lora:ADD_DETAIL:0.7>", "loras": "animeEyes:0.5"}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["prompt"] == "a cat <lora:add_detail:0.7> <lora:anime_eyes_v2:0.5>"
    assert 'Lora hashes: "add_detail: ' in result.variables["infotexts"][0]  # quoted: it has a colon


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        (
            {"prompt": "a cat <lora:add_detial:1>"},
            "Unknown LoRA 'add_detial' (the server would silently ignore it). Closest: add_detail",
        ),
        ({"prompt": "a cat", "loras": "anime_eye:0.8"}, "Unknown LoRA 'anime_eye'"),
        (
            {"prompt": "a cat", "styles": "Cinematc"},
            "Unknown style 'Cinematc' (the server would silently ignore it). Closest: Cinematic",
        ),
        ({"prompt": "a cat", "vae": "sdxl-vae-fp16"}, "Unknown VAE 'sdxl-vae-fp16'"),
    ],
)
def test_typos_fail_with_the_closest_names(plugin, webui, parameters, fragment):
    result = plugin.invoke("txt2img", parameters, creds(webui))
    assert result.error_type == "UnknownName" and fragment in result.error_message
    assert webui.calls("POST", "/sdapi/v1/txt2img") == []


def test_styles_are_sent_with_their_exact_names(plugin, webui):
    result = plugin.invoke("txt2img", {"prompt": "a cat", "styles": "cinematic"}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["styles"] == ["Cinematic"]
    assert result.variables["infotexts"][0].startswith("a cat, cinematic lighting")


def test_without_a_lora_list_tags_pass_unchecked(plugin):
    with Emulator("a1111") as server:  # a new address: no LoRA list cached for it
        server.extensions.discard("lora")
        result = plugin.invoke("txt2img", {"prompt": "a cat <lora:anything:1>"}, creds(server))
    assert result.error is None, result.error


def test_lists_are_fetched_once_while_fresh_and_again_for_new_credentials(plugin):
    with Emulator("a1111") as server:
        parameters = {
            "prompt": "x",
            "checkpoint": "animagineXL_v31",
            "sampler_name": "Euler a",
            "width": 64,
            "height": 64,
        }
        for _ in range(3):
            assert plugin.invoke("txt2img", parameters, creds(server)).error is None
        assert [
            len(server.calls("GET", path)) for path in ("/sdapi/v1/sd-models", "/sdapi/v1/samplers", "/openapi.json")
        ] == [1, 1, 1]
        assert len(server.calls("POST", "/sdapi/v1/txt2img")) == 3
        assert plugin.invoke("txt2img", parameters, creds(server, api_key="another-identity")).error is None
        assert len(server.calls("GET", "/sdapi/v1/sd-models")) == 2


LAST_GOOD_CHILD = """
import json, sys
from glue import call, pickers
from webui import ServerUnreachable, TTLCache
from webui.transport.http import Transport

# two sets of credentials' worth: each picker list needs the flavour and the list itself
call.PROCESS_CACHE = pickers.PROCESS_CACHE = TTLCache(max_entries=4)
url = sys.argv[1]
users = ["ann", "bob", "cy"]
filled = [bool(pickers.picker_options({"base_url": url, "username": u, "password": "pw"}, "pick_sampler")) for u in users]


def down(*args, **kwargs):
    raise ServerUnreachable("down")


Transport.call = down
kept = [bool(pickers.picker_options({"base_url": url, "username": u, "password": "pw"}, "pick_sampler")) for u in users]
print(json.dumps({"filled": filled, "kept": kept, "size": len(call.PROCESS_CACHE._entries)}))
"""


def test_pickers_remember_a_bounded_number_of_lists(webui):
    """The fall-back lists are kept per credentials in the process's one bounded cache, the
    oldest forgotten first (in a child: importing dify_plugin patches the interpreter)."""
    result = subprocess.run(
        [sys.executable, "-c", LAST_GOOD_CHILD, webui.url],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"filled": [True] * 3, "kept": [False, True, True], "size": 4}
