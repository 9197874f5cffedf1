"""Flavour detection from each server's /openapi.json, or from route probes when it is hidden."""

import json

import pytest

from tests.emulator.flavours import CAPTURES, make_flavour
from webui.server.flavour import Family, from_openapi, from_probes


@pytest.mark.parametrize(
    ("name", "family", "band", "scheduler_field", "schedulers_route"),
    [
        ("a1111", Family.A1111, "1.10+", True, True),
        ("a1111-1.9", Family.A1111, "1.9", True, False),
        ("a1111-1.8", Family.A1111, "1.8-", False, False),
        ("forge", Family.FORGE, "", True, True),
        ("reforge", Family.REFORGE, "", True, True),
    ],
)
def test_openapi_tells_the_flavour(name, family, band, scheduler_field, schedulers_route):
    flavour = from_openapi(make_flavour(name).openapi)
    assert flavour is not None
    assert (flavour.family, flavour.band, flavour.scheduler_field, flavour.schedulers_route) == (
        family,
        band,
        scheduler_field,
        schedulers_route,
    )


def test_flavour_consequences():
    forge = from_openapi(make_flavour("forge").openapi)
    assert forge.sends_hr_cfg and forge.needs_hr_additional_modules and forge.vae_setting == "forge_additional_modules"
    old = from_openapi(make_flavour("a1111-1.8").openapi)
    assert old.combined_sampler_names and old.label == "AUTOMATIC1111 1.8-"


def test_probes_when_openapi_is_hidden():
    assert from_openapi(None) is None
    assert (
        from_probes(sdnext_version=True, sd_modules=False, schedulers=False, combined_samplers=False).family
        is Family.SDNEXT
    )
    assert (
        from_probes(sdnext_version=False, sd_modules=True, schedulers=True, combined_samplers=False).family
        is Family.FORGE
    )
    assert from_probes(sdnext_version=False, sd_modules=False, schedulers=False, combined_samplers=True).band == "1.8-"
    assert from_probes(sdnext_version=False, sd_modules=False, schedulers=False, combined_samplers=False).band == "1.9"


@pytest.mark.parametrize(
    ("recorded", "family", "band"),
    [
        ("openapi", Family.A1111, "1.10+"),
        ("a1111-110-ext/openapi", Family.A1111, "1.10+"),
        ("a1111-18/openapi", Family.A1111, "1.8-"),
        ("forge/openapi", Family.FORGE, ""),
        ("forge-neo/openapi", Family.FORGE, ""),
        ("reforge/openapi", Family.REFORGE, ""),
        ("sdnext/openapi", Family.SDNEXT, ""),
    ],
)
def test_each_real_servers_openapi_tells_its_flavour(recorded, family, band):
    """The documents the real servers served (tests/captures/, INDEX.md names each version)."""
    document = json.loads((CAPTURES / f"{recorded}.json").read_text(encoding="utf-8"))
    flavour = from_openapi(document)
    assert flavour is not None and (flavour.family, flavour.band) == (family, band)
    assert flavour.schedulers_route == (family is not Family.SDNEXT and band != "1.8-")


@pytest.mark.parametrize(("recorded", "label"), [("forge/openapi", "Forge"), ("forge-neo/openapi", "Forge Neo")])
def test_forge_neo_is_told_from_forge(recorded, label):
    """Neo has Forge's request fields but no interrogate route (and its own image-stitch routes)."""
    document = json.loads((CAPTURES / f"{recorded}.json").read_text(encoding="utf-8"))
    flavour = from_openapi(document)
    assert flavour is not None and flavour.label == label and flavour.is_forge
    assert (flavour.missing_interrogate is not None) == (label == "Forge Neo")
