"""What differs between the servers the emulator can pretend to be.

Every flavour but A1111 1.9 was run for real and recorded: A1111 1.10.1 in tests/captures/,
the others in tests/captures/<set>/ (CAPTURE_SETS). A flavour's request fields, OpenAPI
document, lists and generation-info keys come from its own set; what a set does not show
is taken from A1111 1.10.1 and marked as a guess where it is one. A1111 1.9 has no
recording: it is 1.10.1 without the scheduler route and field fallback (a guess from the
changelog, see docs/flavours.md).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

CAPTURES = Path(__file__).resolve().parent.parent / "captures"
# flavour -> the directory of its recorded captures (INDEX.md in each names the version run)
CAPTURE_SETS = {
    "a1111": CAPTURES,
    "a1111-1.8": CAPTURES / "a1111-18",
    "forge": CAPTURES / "forge",
    "forge-neo": CAPTURES / "forge-neo",
    "reforge": CAPTURES / "reforge",
    "sdnext": CAPTURES / "sdnext",
}
EXTENSIONS_SET = CAPTURES / "a1111-110-ext"  # A1111 1.10.1 with agent-scheduler, ControlNet, ADetailer
# Routes whose answer is the emulator's state (tests change it), never a recorded body.
STATE_ROUTES = {
    "/sdapi/v1/sd-models", "/sdapi/v1/loras", "/sdapi/v1/prompt-styles", "/sdapi/v1/embeddings",
    "/sdapi/v1/options", "/sdapi/v1/progress", "/sdapi/v1/sd-vae", "/sdapi/v1/sd-modules", "/sdapi/v1/scripts",
    "/sdapi/v1/script-info", "/openapi.json", "/controlnet/model_list", "/controlnet/module_list",
    "/adetailer/v1/ad_model",
}  # fmt: skip


@cache
def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def capture(name: str, directory: Path = CAPTURES) -> Any:
    """The recorded document (for raw documents) or response body of a capture file."""
    data = load(directory / f"{name}.json")
    return data["body"] if isinstance(data, dict) and "request" in data and "body" in data else data


def recorded_gets(directory: Path) -> dict[str, tuple[int, Any]]:
    """GET path (with its query) -> (status, body) of the plain GET captures in a set."""
    found: dict[str, tuple[int, Any]] = {}
    for path in sorted(directory.glob("*.json")):
        data = load(path)
        request = data.get("request") if isinstance(data, dict) else None
        if not request or request["method"] != "GET" or "basic_auth" in request:
            continue
        if path.stem.startswith(("auth_", "rl_", "as_", "ip_", "err_")) or request["path"] in found:
            continue
        found[request["path"]] = (data["status"], data["body"])
    return found


def _kind(prop: dict[str, Any]) -> str:
    if "anyOf" in prop:  # pydantic 2 documents: Optional[X] is anyOf [X, null]
        prop = next((p for p in prop["anyOf"] if p.get("type") != "null"), {})
    kind = prop.get("type", "any")
    if kind == "array":
        return "array[string]" if prop.get("items", {}).get("type") == "string" else "array"
    return kind


def _fields(schema: str, document: dict[str, Any] | None = None) -> tuple[dict[str, str], dict[str, Any]]:
    props = (document or capture("openapi"))["components"]["schemas"][schema]["properties"]
    return {name: _kind(p) for name, p in props.items()}, {name: p.get("default") for name, p in props.items()}


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


@dataclass
class Flavour:
    name: str
    version: str
    txt2img_fields: dict[str, str]
    img2img_fields: dict[str, str]
    defaults: dict[str, Any]
    samplers: list[dict[str, Any]]
    schedulers: list[dict[str, Any]] | None  # None: no usable /schedulers list
    scheduler_field: bool = True
    unknown_sampler: str = "fallback"  # "fallback" (1.10 family) or "404"
    sampler_not_found_status: int = 400
    pydantic2: bool = False
    pydantic_url: str | None = "https://errors.pydantic.dev/2.8/v/"  # SD.Next's 422 items have no url
    errors: str = "a1111"  # "a1111", "forge" (500 bodies say "message") or "sdnext" (bodies carry "code")
    vae_route: str = "/sdapi/v1/sd-vae"
    openapi: dict[str, Any] | None = None
    gzip: bool = False
    forge_hr_modules: bool = False
    unauthenticated: set[str] = field(default_factory=set)
    captures: Path | None = None  # the recorded set of this flavour
    recorded: dict[str, tuple[int, Any]] = field(default_factory=dict)  # GET answers as recorded
    info_keys: list[str] | None = None  # the keys of a generation's info, as recorded
    info_extra: dict[str, Any] = field(default_factory=dict)  # recorded values of keys A1111 lacks
    unknown_overrides: str = "error"  # "error": KeyError 500 (A1111, Forge) or "ignore" (SD.Next)
    checks_hr_upscaler: bool = True
    # (error class, message) of an unknown hires upscaler (err_hr_upscaler_unknown.json)
    missing_upscaler: tuple[str, str] = ("Exception", "could not find upscaler named {name}")
    restored_overrides: bool = True  # False: Forge keeps an sd_vae override (ov_options_after.json)
    sparse_options: bool = False  # GET /options lists only the keys that were set (SD.Next)
    rate_limit: bool = False  # SD.Next: server_rate_limit per client and route
    interrogate: bool = True
    extras_error: bool = False  # SD.Next: extra-single-image / extra-batch-images answer 500

    @property
    def family(self) -> str:
        return self.name.split("-")[0]

    def capture(self, name: str) -> Any:
        """A body from this flavour's own set, else the A1111 1.10.1 one."""
        own = self.captures / f"{name}.json" if self.captures else None
        return capture(name, self.captures) if own and own.exists() else capture(name)


def _openapi_without(remove: set[str], remove_paths: set[str]) -> dict[str, Any]:
    document = copy.deepcopy(capture("openapi"))
    for schema in ("StableDiffusionProcessingTxt2Img", "StableDiffusionProcessingImg2Img"):
        props = document["components"]["schemas"][schema]["properties"]
        for name in remove:
            props.pop(name, None)
    for path in remove_paths:
        document["paths"].pop(path, None)
    return document


def _generation_info(directory: Path) -> dict[str, Any]:
    body = capture("t2i_minimal", directory)
    return json.loads(body["info"])


def _recorded_flavour(name: str, version: str, directory: Path, **options: Any) -> Flavour:
    """A flavour whose fields, defaults, lists and info keys are those its recording shows."""
    document = capture("openapi", directory)
    txt2img, t2i_defaults = _fields("StableDiffusionProcessingTxt2Img", document)
    img2img, i2i_defaults = _fields("StableDiffusionProcessingImg2Img", document)
    defaults = {**t2i_defaults, **i2i_defaults, "denoising_strength": None}
    recorded = recorded_gets(directory)
    status, schedulers = recorded.get("/sdapi/v1/schedulers", (404, None))
    info = _generation_info(directory)
    a1111_info = json.loads(capture("txt2img_minimal")["info"])
    return Flavour(
        name,
        version,
        txt2img,
        img2img,
        {**defaults, **options.pop("defaults", {})},
        recorded["/sdapi/v1/samplers"][1],
        schedulers if status == 200 else None,
        openapi=document,
        captures=directory,
        recorded=recorded,
        info_keys=list(info),
        info_extra={key: value for key, value in info.items() if key not in a1111_info},
        **options,
    )


def make_flavour(name: str) -> Flavour:
    t2i_defaults = _fields("StableDiffusionProcessingTxt2Img")[1]
    i2i_defaults = _fields("StableDiffusionProcessingImg2Img")[1]
    defaults = {**t2i_defaults, **i2i_defaults, "denoising_strength": None}
    a1111_samplers = capture("get_samplers")
    if name == "a1111":
        t2i, i2i = _fields("StableDiffusionProcessingTxt2Img")[0], _fields("StableDiffusionProcessingImg2Img")[0]
        return Flavour(
            name,
            "1.10.1",
            t2i,
            i2i,
            defaults,
            a1111_samplers,
            capture("get_schedulers"),
            openapi=capture("openapi"),
            captures=CAPTURES,
        )
    if name == "a1111-1.9":  # not recorded: 1.10.1 without the scheduler route, names checked (a guess)
        document = _openapi_without(set(), {"/sdapi/v1/schedulers"})
        t2i, i2i = (
            _fields("StableDiffusionProcessingTxt2Img", document)[0],
            _fields("StableDiffusionProcessingImg2Img")[0],
        )
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
            openapi=document,
        )
    if name == "a1111-1.8":
        return _recorded_flavour(
            name,
            "v1.8.0",
            CAPTURE_SETS[name],
            scheduler_field=False,
            unknown_sampler="404",
            sampler_not_found_status=404,
        )
    if name == "forge":
        return _recorded_flavour(
            name,
            "f2.0.1v1.10.1-previous-669-gdfdcbab6",
            CAPTURE_SETS[name],
            pydantic2=True,
            errors="forge",
            vae_route="/sdapi/v1/sd-modules",
            forge_hr_modules=True,
            unauthenticated={"/sdapi/v1/progress"},  # a guess: no --auth recording of Forge
            restored_overrides=False,
        )
    if name == "forge-neo":
        return _recorded_flavour(
            name,
            "neo-2.26",
            CAPTURE_SETS[name],
            pydantic2=True,
            errors="forge",
            vae_route="/sdapi/v1/sd-modules",
            forge_hr_modules=True,
            interrogate=False,
            pydantic_url=None,
            missing_upscaler=("ValueError", 'Could not find upscaler named "{name}"'),
        )
    if name == "reforge":
        return _recorded_flavour(name, "f1.0.0v2-v1.10.1RC-latest-2510-g3b56b268", CAPTURE_SETS[name])
    if name == "sdnext":
        return _recorded_flavour(
            name,
            "058a7f0c",
            CAPTURE_SETS[name],
            defaults={"sampler_name": "UniPC"},  # a guess: every recorded request names its sampler
            scheduler_field=False,
            unknown_sampler="404",
            sampler_not_found_status=404,
            pydantic2=True,
            pydantic_url=None,
            errors="sdnext",
            gzip=True,
            unknown_overrides="ignore",
            checks_hr_upscaler=False,
            sparse_options=True,
            rate_limit=True,
            interrogate=False,
            extras_error=True,
        )
    raise ValueError(f"unknown flavour {name!r}")


FLAVOURS = ("a1111", "a1111-1.9", "a1111-1.8", "forge", "forge-neo", "reforge", "sdnext")
