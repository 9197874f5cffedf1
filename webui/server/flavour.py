"""Which WebUI answers (A1111 band, Forge, reForge, SD.Next) and what that changes.

Detection reads the txt2img request schema from /openapi.json (never behind
--api-auth in A1111): field presence tells the family and the A1111 band. Where
/openapi.json is hidden (SD.Next without --docs) it probes a few list routes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Family(StrEnum):
    A1111 = "a1111"
    FORGE = "forge"
    REFORGE = "reforge"
    SDNEXT = "sdnext"


class Band(StrEnum):
    """Which A1111 release line, as far as a client must tell them apart."""

    NONE = ""  # not A1111
    V1_10 = "1.10+"  # scheduler field and /sdapi/v1/schedulers
    V1_9 = "1.9"  # scheduler field, no list
    V1_8 = "1.8-"  # neither: combined sampler names


_LABELS = {
    Family.A1111: "AUTOMATIC1111",
    Family.FORGE: "Forge",
    Family.REFORGE: "reForge",
    Family.SDNEXT: "SD.Next",
}


@dataclass(frozen=True)
class Flavour:
    """A server family plus the differences a client has to handle."""

    family: Family
    band: Band = Band.NONE
    scheduler_field: bool = True
    schedulers_route: bool = True
    # Forge Neo (sd-webui-forge-classic's neo line): Forge's request fields and routes, less
    # interrogate, hypernetworks and the RealESRGAN list (captures forge-neo, neo-2.26).
    neo: bool = False

    @property
    def label(self) -> str:
        name = "Forge Neo" if self.neo else _LABELS[self.family]
        return f"{name} {self.band}" if self.band else name

    @property
    def is_forge(self) -> bool:
        """Forge (not reForge): modules instead of VAEs, its own ControlNet, no error middleware."""
        return self.family is Family.FORGE

    @property
    def builtin_controlnet(self) -> bool:
        """Forge and reForge bring their own ControlNet (its unit shape differs: docs/extensions.md)."""
        return self.family in (Family.FORGE, Family.REFORGE)

    @property
    def combined_sampler_names(self) -> bool:
        """A1111 ≤1.8 names samplers with their schedule: "DPM++ 2M Karras"."""
        return not self.scheduler_field and self.family is not Family.SDNEXT

    @property
    def sends_hr_cfg(self) -> bool:
        """Forge and reForge default the hires-pass CFG to 1.0 unless told otherwise."""
        return self.family in (Family.FORGE, Family.REFORGE)

    @property
    def needs_hr_additional_modules(self) -> bool:
        """Forge raises a TypeError for enable_hr when hr_additional_modules is null."""
        return self.is_forge

    @property
    def vae_setting(self) -> str:
        """The override_settings key that selects a VAE."""
        return "forge_additional_modules" if self.is_forge else "sd_vae"

    @property
    def vae_route(self) -> str:
        return "/sdapi/v1/sd-modules" if self.is_forge else "/sdapi/v1/sd-vae"

    @property
    def clip_skip_is_field(self) -> bool:
        """SD.Next takes clip_skip in the request; the A1111 family takes it as an option."""
        return self.family is Family.SDNEXT

    @property
    def missing_interrogate(self) -> str | None:
        """Why this server cannot interrogate, or None. SD.Next (058a7f0c) answers 404 there."""
        if self.neo:
            return (
                "Forge Neo has no /sdapi/v1/interrogate route (it answers 404): its API does not describe "
                "pictures. Use interrogate with an AUTOMATIC1111, Forge or reForge server."
            )
        if self.family is Family.SDNEXT:
            return (
                "SD.Next has no /sdapi/v1/interrogate route (it answers 404): it describes pictures "
                "at /sdapi/v1/caption (and /sdapi/v1/vqa, /sdapi/v1/tagger), which this plugin does "
                "not call. Use interrogate with an AUTOMATIC1111, Forge or reForge server."
            )
        return None

    @property
    def extras_failure(self) -> str | None:
        """What a 500 from the Extras routes means on this server, or None."""
        if self.family is Family.SDNEXT:
            return (
                "SD.Next (master 058a7f0c) fails its own Extras answer (html_info missing) whatever "
                "the upscaler, so upscaling through its API does not work there; use AUTOMATIC1111, "
                "Forge or reForge for upscale."
            )
        return None

    @property
    def keeps_vae_override(self) -> bool:
        """Forge does not restore an sd_vae override: it stays the server's VAE for everybody."""
        return self.is_forge

    def describe(self) -> dict[str, Any]:
        return {"family": self.family.value, "label": self.label, "band": self.band or None, "neo": self.neo}


def _mapping(value: Any, key: str) -> dict[str, Any]:
    """value[key] when both are JSON objects, else {} (a malformed document tells nothing)."""
    inner = value.get(key) if isinstance(value, dict) else None
    return inner if isinstance(inner, dict) else {}


def _txt2img_properties(openapi: Any) -> set[str] | None:
    """The property names of the txt2img request schema, whatever it is called."""
    schemas = _mapping(_mapping(openapi, "components"), "schemas")
    preferred = schemas.get("StableDiffusionProcessingTxt2Img")
    candidates = [preferred] if isinstance(preferred, dict) else list(schemas.values())
    for schema in candidates:
        props = _mapping(schema, "properties")
        if "enable_hr" in props and "prompt" in props:
            return set(props)
    return None


def from_openapi(openapi: Any) -> Flavour | None:
    """Decide the flavour from an /openapi.json document, or None if it cannot tell."""
    props = _txt2img_properties(openapi)
    if props is None:
        return None
    paths = set(_mapping(openapi, "paths"))
    has_list = "/sdapi/v1/schedulers" in paths
    if "distilled_cfg_scale" in props:
        neo = "/sdapi/v1/interrogate" not in paths and "/sdapi/v1/image-stitch/txt2img" in paths
        return Flavour(Family.FORGE, scheduler_field=True, schedulers_route=has_list, neo=neo)
    if "hr_cfg" in props:
        return Flavour(Family.REFORGE, scheduler_field=True, schedulers_route=has_list)
    if "clip_skip" in props or "hr_force" in props or "/sdapi/v1/version" in paths:
        return Flavour(Family.SDNEXT, scheduler_field=False, schedulers_route=False)
    if "scheduler" not in props:
        return Flavour(Family.A1111, Band.V1_8, scheduler_field=False, schedulers_route=False)
    if not has_list:
        return Flavour(Family.A1111, Band.V1_9, scheduler_field=True, schedulers_route=False)
    return Flavour(Family.A1111, Band.V1_10)


def from_probes(*, sdnext_version: bool, sd_modules: bool, schedulers: bool, combined_samplers: bool) -> Flavour:
    """Decide from route probes when /openapi.json is not served."""
    if sdnext_version:
        return Flavour(Family.SDNEXT, scheduler_field=False, schedulers_route=False)
    if sd_modules:
        return Flavour(Family.FORGE, schedulers_route=schedulers)
    if schedulers:
        return Flavour(Family.A1111, Band.V1_10)
    if combined_samplers:
        return Flavour(Family.A1111, Band.V1_8, scheduler_field=False, schedulers_route=False)
    return Flavour(Family.A1111, Band.V1_9, schedulers_route=False)
