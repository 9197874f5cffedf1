"""The same tool call adapted to each server family and A1111 version (through the daemon protocol)."""

from __future__ import annotations

import pytest

from tests.conftest import creds
from tests.emulator import FLAVOURS


@pytest.mark.parametrize("flavour", FLAVOURS)
def test_a_plain_generation_works_everywhere(plugin, make_webui, flavour):
    server = make_webui(flavour, False)
    result = plugin.invoke("txt2img", {"prompt": "a lighthouse", "width": 64, "height": 64}, creds(server))
    assert result.error is None, result.error
    assert len(result.files) == 1 and result.variables["image_count"] == 1


def test_a1111_18_gets_combined_sampler_names(plugin, make_webui):
    server = make_webui("a1111-1.8", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "sampler_name": "DPM++ 2M", "scheduler": "Karras"}, creds(server))
    assert result.error is None, result.error
    sent = server.last("/sdapi/v1/txt2img").body
    assert sent["sampler_name"] == "DPM++ 2M Karras" and "scheduler" not in sent


def test_a1111_19_gets_split_names_where_combined_ones_would_404(plugin, make_webui):
    server = make_webui("a1111-1.9", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "sampler_name": "DPM++ 2M Karras"}, creds(server))
    assert result.error is None, result.error
    sent = server.last("/sdapi/v1/txt2img").body
    assert (sent["sampler_name"], sent["scheduler"]) == ("DPM++ 2M", "Karras")


def test_a1111_19_sampler_not_found_is_explained(plugin, make_webui):
    server = make_webui("a1111-1.9", False)
    result = plugin.invoke(
        "txt2img", {"prompt": "x", "extra_payload": '{"sampler_index": "Euler Karras"}'}, creds(server)
    )
    assert result.error_type == "ServerRejected"
    assert "(HTTP 404 HTTPException): Sampler not found" in result.error_message
    assert "1.8 and older use combined names" in result.error_message


@pytest.mark.parametrize("flavour", ["forge", "reforge"])
def test_forge_family_hires_pass_keeps_the_cfg(plugin, make_webui, flavour):
    server = make_webui(flavour, False)
    parameters = {"prompt": "x", "width": 64, "height": 64, "cfg_scale": 5, "enable_hr": True}
    result = plugin.invoke("txt2img", parameters, creds(server))
    assert result.error is None, result.error
    sent = server.last("/sdapi/v1/txt2img").body
    assert sent["hr_cfg"] == 5.0
    assert ("hr_additional_modules" in sent) == (flavour == "forge")


def test_forge_vae_goes_through_additional_modules(plugin, make_webui):
    server = make_webui("forge", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "vae": "ae.safetensors"}, creds(server))
    assert result.error is None, result.error
    sent = server.last("/sdapi/v1/txt2img").body
    assert sent["override_settings"] == {"forge_additional_modules": ["/srv/webui/models/VAE/ae.safetensors"]}


def test_forge_validation_errors_use_pydantic_2(plugin, make_webui):
    server = make_webui("forge", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "extra_payload": '{"hr_distilled_cfg": "strong"}'}, creds(server))
    assert result.error_type == "ServerRejected"
    assert (
        "hr_distilled_cfg: Input should be a valid number, unable to parse string as a number (got 'strong')"
        in result.error_message
    )


def test_forge_fields_the_plugin_knows_are_checked_before_sending(plugin, make_webui):
    server = make_webui("forge", False)
    result = plugin.invoke(
        "txt2img", {"prompt": "x", "extra_payload": '{"distilled_cfg_scale": "strong"}'}, creds(server)
    )
    assert result.error_type == "InvalidParameter" and "distilled_cfg_scale = 'strong'" in result.error_message
    assert server.calls("POST") == []
    result = plugin.invoke("txt2img", {"prompt": "x", "extra_payload": '{"distilled_cfg_scale": 2.5}'}, creds(server))
    assert result.error is None and server.last("/sdapi/v1/txt2img").body["distilled_cfg_scale"] == 2.5


def test_forge_500_details_are_read_from_message(plugin, make_webui):
    """Forge's 500 bodies say "message" where A1111's say "errors" (forge/err_500_override_unknown_key.json)."""
    server = make_webui("forge", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "override_settings": '{"no_such_option": 1}'}, creds(server))
    assert result.error_type == "ServerFailed"
    assert "(HTTP 500 KeyError): 'no_such_option'" in result.error_message


def test_sdnext_clip_skip_and_gzip(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "clip_skip": "2", "width": 256, "height": 256}, creds(server))
    assert result.error is None, result.error
    sent = server.last("/sdapi/v1/txt2img").body
    assert sent["clip_skip"] == 2 and "override_settings" not in sent
    assert "gzip" in server.last("/sdapi/v1/txt2img").headers.get("Accept-Encoding", "")


def test_sdnext_rejects_a_scheduler_it_does_not_have(plugin, make_webui):
    server = make_webui("sdnext", False)
    result = plugin.invoke("txt2img", {"prompt": "x", "scheduler": "Karras"}, creds(server))
    assert result.error_type == "InvalidParameter" and "SD.Next has no per-request scheduler" in result.error_message
