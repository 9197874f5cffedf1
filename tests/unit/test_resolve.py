"""Names checked against the server's lists, adapted to the flavour (real lists from the emulator)."""

import pytest

from webui.client import WebUIClient
from webui.errors import InvalidParameter, ServerUnreachable, UnknownName
from webui.images.results import PictureLimit
from webui.requests.fields import parse_model
from webui.requests.models import GenerationOptions, Txt2ImgRequest
from webui.server.cache import TTLCache
from webui.server.catalog import Catalog
from webui.server.resolve import NameResolver

LIMIT = PictureLimit(30 * 1024 * 1024, "the test's")
from webui.transport.http import ServerConfig, Transport


@pytest.fixture
def resolver_for(make_webui):
    def make(flavour: str) -> NameResolver:
        server = make_webui(flavour, False)
        config = ServerConfig.create(server.url)
        flavour_info = WebUIClient(config, TTLCache(), LIMIT).flavour()
        return NameResolver(Catalog(Transport(config), TTLCache()), flavour_info)

    return make


def test_a1111_110_splits_legacy_names_and_fixes_case(resolver_for):
    resolver = resolver_for("a1111")
    assert resolver.sampler_and_scheduler("dpm++ 2m karras", None, "") == ("DPM++ 2M", "Karras")
    assert resolver.sampler_and_scheduler("Euler a", "karras", "") == ("Euler a", "Karras")
    assert resolver.sampler_and_scheduler("k_euler_a", None, "") == ("Euler a", None)  # alias


def test_a1111_19_uses_the_known_schedulers(resolver_for):
    resolver = resolver_for("a1111-1.9")
    assert resolver.sampler_and_scheduler("DPM++ 2M Karras", None, "") == ("DPM++ 2M", "Karras")
    with pytest.raises(UnknownName, match="Unknown scheduler 'Beta'"):
        resolver.sampler_and_scheduler("Euler", "Beta", "")


def test_a1111_18_combines_sampler_and_schedule(resolver_for):
    resolver = resolver_for("a1111-1.8")
    assert resolver.sampler_and_scheduler("DPM++ 2M", "Karras", "") == ("DPM++ 2M Karras", None)
    assert resolver.sampler_and_scheduler("Euler a", "Automatic", "") == ("Euler a", None)
    with pytest.raises(UnknownName, match="Unknown sampler 'Euler a Karras'"):
        resolver.sampler_and_scheduler("Euler a", "Karras", "")


def test_sdnext_has_no_scheduler(resolver_for):
    resolver = resolver_for("sdnext")
    assert resolver.sampler_and_scheduler("unipc", "Automatic", "") == ("UniPC", None)
    with pytest.raises(InvalidParameter, match="SD.Next has no per-request scheduler"):
        resolver.sampler_and_scheduler("UniPC", "Karras", "")


def test_apply_checks_every_name_in_the_request(resolver_for):
    resolver = resolver_for("a1111")
    request = parse_model(
        Txt2ImgRequest,
        {
            "sampler_name": "euler",
            "enable_hr": True,
            "hr_upscaler": "r-esrgan 4x+",
            "hr_sampler_name": "Use same sampler",
            "override_settings": {"sd_model_checkpoint": "v1-5-pruned-emaonly"},
        },
    )
    request, options = resolver.apply(request, GenerationOptions(checkpoint="animagineXL_v31", vae="sdxl_vae"))
    assert request.sampler_name == "Euler" and request.hr_upscaler == "R-ESRGAN 4x+" and request.hr_sampler_name is None
    assert request.override_settings == {"sd_model_checkpoint": "v1-5-pruned-emaonly.safetensors [6ce0161689]"}
    assert (
        options.checkpoint == "sdxl/animagineXL_v31.safetensors [e3c47aedb0]" and options.vae == "sdxl_vae.safetensors"
    )


def test_unknown_upscaler_is_caught_before_the_server_fails(resolver_for):
    resolver = resolver_for("a1111")
    with pytest.raises(UnknownName, match=r"Unknown hr_upscaler 'ESRGAN 5x'.*Closest: .*ESRGAN_4x"):
        resolver.upscaler("ESRGAN 5x")


def test_forge_vae_is_a_module_path(resolver_for):
    resolver = resolver_for("forge")
    assert resolver.vae("ae") == "/srv/webui/models/VAE/ae.safetensors"


def test_only_named_lists_are_fetched(make_webui):
    server = make_webui("a1111", False)
    config = ServerConfig.create(server.url)
    client = WebUIClient(config, TTLCache(), LIMIT)
    client.prepare(parse_model(Txt2ImgRequest, {"prompt": "x"}), GenerationOptions())
    assert [r.path for r in server.requests] == ["/openapi.json"]


def test_an_unreachable_server_is_not_guessed_and_cached(make_webui):
    server = make_webui("a1111", False)
    client = WebUIClient(ServerConfig.create(server.url), TTLCache(), LIMIT)
    server.faults["/openapi.json"] = "close"  # the server drops the connection
    with pytest.raises(ServerUnreachable):
        client.flavour()
    server.faults.clear()
    assert client.flavour().band == "1.10+"  # asked again, not a cached guess
