"""What differs between the servers the emulator can pretend to be.

A1111 1.10.1 is the ground truth: its request fields, lists and OpenAPI document come
from the recorded captures in tests/captures/. The other flavours are derived from it
with the differences docs/flavours.md lists.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CAPTURES = Path(__file__).resolve().parent.parent / "captures"


@cache
def capture(name: str) -> Any:
    """The recorded document (for raw documents) or response body of a capture file."""
    data = json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data["body"] if isinstance(data, dict) and "request" in data and "body" in data else data


def _kind(prop: dict[str, Any]) -> str:
    kind = prop.get("type", "any")
    if kind == "array":
        return "array[string]" if prop.get("items", {}).get("type") == "string" else "array"
    return kind


def _fields(schema: str) -> tuple[dict[str, str], dict[str, Any]]:
    props = capture("openapi")["components"]["schemas"][schema]["properties"]
    return {name: _kind(p) for name, p in props.items()}, {name: p.get("default") for name, p in props.items()}


A1111_SAMPLERS_1_8 = [
    "DPM++ 2M Karras",
    "DPM++ SDE Karras",
    "DPM++ 2M SDE Exponential",
    "DPM++ 2M SDE Karras",
    "Euler a",
    "Euler",
    "LMS",
    "Heun",
    "DPM2",
    "DPM2 a",
    "DPM++ 2S a",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M SDE Heun",
    "DPM++ 2M SDE Heun Karras",
    "DPM++ 2M SDE Heun Exponential",
    "DPM++ 3M SDE",
    "DPM++ 3M SDE Karras",
    "DPM++ 3M SDE Exponential",
    "DPM fast",
    "DPM adaptive",
    "LMS Karras",
    "DPM2 Karras",
    "DPM2 a Karras",
    "DPM++ 2S a Karras",
    "Restart",
    "DDIM",
    "PLMS",
    "UniPC",
    "LCM",
]
SDNEXT_SAMPLERS = [
    "Default",
    "UniPC",
    "DDIM",
    "Euler",
    "Euler a",
    "Euler SGM",
    "Euler EDM",
    "DPM++ 2M",
    "DPM++ 1S",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 2M EDM",
    "DPM SDE",
    "DPM2 FlowMatch",
    "Heun",
    "LMS",
    "KDPM2",
    "DEIS",
    "SA Solver",
    "DC Solver",
    "VDM Solver",
    "TCD",
    "LCM",
    "Euler FlowMatch",
]
FORGE_SAMPLERS = [
    "Euler a",
    "Euler",
    "DPM++ 2M",
    "DPM++ SDE",
    "DPM++ 2M SDE",
    "DPM++ 3M SDE",
    "DDIM",
    "LCM",
    "UniPC",
    "[Forge] Flux Realistic",
]
SCHEDULERS_1_9 = ["automatic", "uniform", "karras", "exponential", "polyexponential", "sgm_uniform"]

DEFAULT_CHECKPOINTS = [
    {
        "title": "v1-5-pruned-emaonly.safetensors [6ce0161689]",
        "model_name": "v1-5-pruned-emaonly",
        "hash": "6ce0161689",
        "sha256": "6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa",
        "filename": "/srv/webui/models/Stable-diffusion/v1-5-pruned-emaonly.safetensors",
        "config": None,
    },
    {
        "title": "sdxl/animagineXL_v31.safetensors [e3c47aedb0]",
        "model_name": "sdxl_animagineXL_v31",
        "hash": "e3c47aedb0",
        "sha256": "e3c47aedb06418c6c331443cd89f2b3b3b34b7ed2102a3d4c4408a8d35aad6b5",
        "filename": "/srv/webui/models/Stable-diffusion/sdxl/animagineXL_v31.safetensors",
        "config": None,
    },
    {
        "title": "empty.pt",
        "model_name": "empty",
        "hash": None,
        "sha256": None,
        "filename": "/srv/webui/test/test_files/empty.pt",
        "config": None,
    },
]
DEFAULT_VAES = [{"model_name": "sdxl_vae.safetensors", "filename": "/srv/webui/models/VAE/sdxl_vae.safetensors"}]
FORGE_MODULES = [
    {"model_name": "ae.safetensors", "filename": "/srv/webui/models/VAE/ae.safetensors"},
    {"model_name": "clip_l.safetensors", "filename": "/srv/webui/models/text_encoder/clip_l.safetensors"},
]
DEFAULT_LORAS = [
    {
        "name": "add_detail",
        "alias": "add_detail",
        "path": "/srv/webui/models/Lora/add_detail.safetensors",
        "metadata": {"ss_output_name": "add_detail", "ss_base_model_version": "sd_v1", "ss_network_dim": "32"},
    },
    {
        "name": "anime_eyes_v2",
        "alias": "animeEyes",
        "path": "/srv/webui/models/Lora/style/anime_eyes_v2.safetensors",
        "metadata": {"ss_output_name": "animeEyes", "ss_base_model_version": "sdxl_base_v1-0"},
    },
]
DEFAULT_STYLES = [
    {"name": "Cinematic", "prompt": "{prompt}, cinematic lighting, film grain", "negative_prompt": "cartoon, flat"},
    {"name": "Watercolor", "prompt": "watercolor painting", "negative_prompt": ""},
]
DEFAULT_EMBEDDINGS = {
    "loaded": {
        "EasyNegative": {"step": None, "sd_checkpoint": None, "sd_checkpoint_name": None, "shape": 768, "vectors": 8}
    },
    "skipped": {},
}


def _sampler_items(names: list[str]) -> list[dict[str, Any]]:
    return [{"name": name, "aliases": [name.lower().replace(" ", "_")], "options": {}} for name in names]


def _scheduler_items(names: list[str]) -> list[dict[str, Any]]:
    labels = {item["name"]: item for item in capture("get_schedulers")}
    return [labels[name] for name in names]


@dataclass
class Flavour:
    name: str
    version: str
    txt2img_fields: dict[str, str]
    img2img_fields: dict[str, str]
    defaults: dict[str, Any]
    samplers: list[dict[str, Any]]
    schedulers: list[dict[str, Any]] | None  # None: no /schedulers route
    scheduler_field: bool = True
    unknown_sampler: str = "fallback"  # "fallback" (1.10 family) or "404"
    sampler_not_found_status: int = 400
    pydantic2: bool = False
    errors: str = "a1111"  # "a1111", "forge" (no middleware) or "sdnext"
    vae_route: str = "/sdapi/v1/sd-vae"
    openapi: dict[str, Any] | None = None
    version_route: bool = False
    gzip: bool = False
    forge_hr_modules: bool = False
    unauthenticated: set[str] = field(default_factory=set)

    @property
    def family(self) -> str:
        return self.name.split("-")[0]


def _openapi(
    add: dict[str, dict[str, Any]], remove: set[str], add_paths: set[str], remove_paths: set[str]
) -> dict[str, Any]:
    document = copy.deepcopy(capture("openapi"))
    for schema in ("StableDiffusionProcessingTxt2Img", "StableDiffusionProcessingImg2Img"):
        props = document["components"]["schemas"][schema]["properties"]
        for name in remove:
            props.pop(name, None)
        props.update(copy.deepcopy(add))
    for path in remove_paths:
        document["paths"].pop(path, None)
    for path in add_paths:
        document["paths"][path] = {"get": {"summary": path.rsplit("/", 1)[-1]}}
    return document


def _variant(add: dict[str, str], remove: set[str]) -> tuple[dict[str, str], dict[str, str]]:
    txt2img, _ = _fields("StableDiffusionProcessingTxt2Img")
    img2img, _ = _fields("StableDiffusionProcessingImg2Img")
    for fields in (txt2img, img2img):
        for name in remove:
            fields.pop(name, None)
    txt2img.update(add)
    img2img.update({k: v for k, v in add.items() if not k.startswith("hr_")})
    return txt2img, img2img


def _props(kinds: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {
        name: {"title": name, "type": "array" if kind.startswith("array") else kind} for name, kind in kinds.items()
    }


def make_flavour(name: str) -> Flavour:
    t2i_defaults = _fields("StableDiffusionProcessingTxt2Img")[1]
    i2i_defaults = _fields("StableDiffusionProcessingImg2Img")[1]
    defaults = {**t2i_defaults, **i2i_defaults, "denoising_strength": None}
    a1111_samplers = capture("get_samplers")
    if name == "a1111":
        t2i, i2i = _variant({}, set())
        return Flavour(
            name, "1.10.1", t2i, i2i, defaults, a1111_samplers, capture("get_schedulers"), openapi=capture("openapi")
        )
    if name == "a1111-1.9":
        t2i, i2i = _variant({}, set())
        samplers = [s for s in a1111_samplers if s["name"] != "DDIM CFG++"]
        return Flavour(
            name,
            "1.9.4",
            t2i,
            i2i,
            defaults,
            samplers,
            None,
            unknown_sampler="404",
            sampler_not_found_status=404,
            openapi=_openapi({}, set(), set(), {"/sdapi/v1/schedulers"}),
        )
    if name == "a1111-1.8":
        t2i, i2i = _variant({}, {"scheduler", "hr_scheduler"})
        return Flavour(
            name,
            "1.8.0",
            t2i,
            i2i,
            defaults,
            _sampler_items(A1111_SAMPLERS_1_8),
            None,
            scheduler_field=False,
            unknown_sampler="404",
            sampler_not_found_status=404,
            openapi=_openapi({}, {"scheduler", "hr_scheduler"}, set(), {"/sdapi/v1/schedulers"}),
        )
    if name == "forge":
        extra = {
            "distilled_cfg_scale": "number",
            "hr_distilled_cfg": "number",
            "hr_cfg": "number",
            "hr_additional_modules": "array",
        }
        t2i, i2i = _variant(extra, set())
        return Flavour(
            name,
            "f2.0.1v1.10.1-previous-665-gae278f79",
            t2i,
            i2i,
            {**defaults, "distilled_cfg_scale": 3.5, "hr_distilled_cfg": 3.5, "hr_cfg": 1.0},
            _sampler_items(FORGE_SAMPLERS),
            capture("get_schedulers"),
            pydantic2=True,
            errors="forge",
            vae_route="/sdapi/v1/sd-modules",
            openapi=_openapi(_props(extra), set(), {"/sdapi/v1/sd-modules"}, {"/sdapi/v1/sd-vae"}),
            forge_hr_modules=True,
            unauthenticated={"/sdapi/v1/progress"},
        )
    if name == "reforge":
        t2i, i2i = _variant({"hr_cfg": "number"}, set())
        return Flavour(
            name,
            "1.10.1",
            t2i,
            i2i,
            {**defaults, "hr_cfg": 1.0},
            a1111_samplers,
            capture("get_schedulers"),
            openapi=_openapi(_props({"hr_cfg": "number"}), set(), set(), set()),
        )
    if name == "sdnext":
        extra = {
            "clip_skip": "integer",
            "vae_type": "string",
            "hr_force": "boolean",
            "hr_denoising_strength": "number",
            "refiner_steps": "integer",
            "refiner_prompt": "string",
            "pag_scale": "number",
        }
        t2i, i2i = _variant(extra, {"scheduler", "hr_scheduler"})
        sdnext_defaults = {
            **defaults,
            "steps": 20,
            "width": 1024,
            "height": 1024,
            "cfg_scale": 6.0,
            "sampler_name": "UniPC",
        }
        return Flavour(
            name,
            "2025-03-02",
            t2i,
            i2i,
            sdnext_defaults,
            _sampler_items(SDNEXT_SAMPLERS),
            None,
            scheduler_field=False,
            unknown_sampler="404",
            sampler_not_found_status=404,
            errors="sdnext",
            openapi=None,
            version_route=True,
            gzip=True,
        )
    raise ValueError(f"unknown flavour {name!r}")


FLAVOURS = ("a1111", "a1111-1.9", "a1111-1.8", "forge", "reforge", "sdnext")
