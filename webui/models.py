"""Typed requests for /sdapi/v1/txt2img and /sdapi/v1/img2img.

Field names, types and meaning are A1111 1.10.1's (docs/a1111-api.md). A field that
A1111 1.10.1 does not have (a Forge field, a newer A1111 field) is declared with
:func:`only_on`, which names the servers that have it; that is the whole change.
Defaults are this plugin's: where A1111's API default surprises (50 steps, the
inpainting trio) we use what its UI uses; ``None`` means "not sent, the server
decides". Bounds and defaults here are also what the tool YAML shows
(scripts/gen_tools.py reads them).

Inputs arrive from workflows as numbers or numeric strings, and JSON fields as text:
the validators accept both and fail with messages that name the field.
"""

from __future__ import annotations

import json
from enum import IntEnum, StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from webui.errors import InvalidParameter
from webui.names import MAX_NAME_CHARS

MAX_PIXELS = 4096
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 65536
MAX_JSON_DEPTH = 32


def only_on(servers: str, default: Any = None, **constraints: Any) -> Any:
    """A request field A1111 1.10.1 does not have; ``servers`` names who has it ("Forge")."""
    return Field(default, json_schema_extra={"only_on": servers}, **constraints)


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


def _parse_json(value: Any, kind: type, example: str) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
        except RecursionError:
            raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    if value is not None and not isinstance(value, kind):
        noun = "object" if kind is dict else "array"
        raise ValueError(f"must be a JSON {noun} such as {example}, got a JSON {type(value).__name__}")
    return value


def _json_object(example: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _parse_json(value, dict, example))


def _json_array(example: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _parse_json(value, list, example))


def _name_list(value: Any) -> Any:
    """Styles: a list, a JSON array, or names separated by commas or new lines."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return _parse_json(text, list, '["Style A", "Style B"]')
        names = [part.strip() for part in text.replace("\n", ",").split(",")]
        return [name for name in names if name] or None
    return value


def _multiple_of_8(value: int) -> int:
    if value % 8:
        lower, upper = value - value % 8, value - value % 8 + 8
        raise ValueError(
            f"must be a multiple of 8 (A1111 would silently shrink {value} to {lower}); use {lower} or {upper}"
        )
    return value


def _choice(enum: type[IntEnum]) -> BeforeValidator:
    """Accept an enum member's name, its number, or its UI label in any case."""

    def parse(value: Any) -> Any:
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if text.lstrip("-").isdigit():
                return int(text)
            key = "_".join(text.lower().replace("(", " ").replace(")", " ").replace("-", " ").split())
            if key in enum.__members__:
                return enum.__members__[key]
            names = ", ".join(enum.__members__)
            raise ValueError(f"must be one of {names} (or 0–{len(enum) - 1}), got {value!r}")
        return value

    return BeforeValidator(parse)


class ResizeMode(IntEnum):
    just_resize = 0
    crop_and_resize = 1
    resize_and_fill = 2
    just_resize_latent_upscale = 3


class InpaintingFill(IntEnum):
    fill = 0
    original = 1
    latent_noise = 2
    latent_nothing = 3


class MaskInvert(IntEnum):
    inpaint_masked = 0
    inpaint_not_masked = 1


Pixels = Annotated[int, Field(ge=64, le=MAX_PIXELS), AfterValidator(_multiple_of_8)]
HiresPixels = Annotated[int, Field(ge=0, le=2 * MAX_PIXELS), AfterValidator(_multiple_of_8)]
Seed = Annotated[int, Field(ge=-1, le=MAX_SEED)]
Fraction = Annotated[float, Field(ge=0, le=1)]
# Far beyond any real prompt (A1111 encodes 75 tokens per chunk); keeps echoes bounded.
Prompt = Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]
# A checkpoint, sampler, script... name: checked against the server's lists, so bounded.
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
JsonObject = Annotated[dict[str, Any], _json_object('{"CLIP_stop_at_last_layers": 2}')]
ScriptArgs = Annotated[list[Any], _json_array('[1, true, "text"]')]
Styles = Annotated[list[Name], BeforeValidator(_name_list), Field(max_length=64)]

_CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True)


class GenerationRequest(BaseModel):
    """Fields txt2img and img2img share."""

    model_config = _CONFIG

    prompt: Prompt = ""
    negative_prompt: Prompt = ""
    styles: Styles | None = None
    seed: Seed = Field(-1, description="-1 = random")
    subseed: Seed | None = Field(None, description="-1 = random")
    subseed_strength: Fraction | None = None
    seed_resize_from_h: int | None = Field(None, ge=-1, le=2 * MAX_PIXELS)
    seed_resize_from_w: int | None = Field(None, ge=-1, le=2 * MAX_PIXELS)
    sampler_name: Name | None = None
    scheduler: Name | None = None
    batch_size: int = Field(1, ge=1, le=16)
    n_iter: int = Field(1, ge=1, le=100)
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=0, le=30)
    width: Pixels = 512
    height: Pixels = 512
    restore_faces: bool | None = None
    tiling: bool | None = None
    do_not_save_samples: bool | None = None
    do_not_save_grid: bool | None = None
    eta: float | None = Field(None, ge=0, le=1)
    denoising_strength: Fraction | None = None
    s_min_uncond: float | None = Field(None, ge=0, le=100)
    s_churn: float | None = Field(None, ge=0, le=100)
    s_tmax: float | None = Field(None, ge=0)
    s_tmin: float | None = Field(None, ge=0)
    s_noise: float | None = Field(None, ge=0, le=2)
    override_settings: JsonObject | None = None
    override_settings_restore_afterwards: bool | None = None
    refiner_checkpoint: Name | None = None
    refiner_switch_at: Fraction | None = None
    disable_extra_networks: bool | None = None
    firstpass_image: str | None = None
    comments: JsonObject | None = None
    force_task_id: Name | None = None
    sampler_index: Name | None = None
    script_name: Name | None = None
    script_args: ScriptArgs | None = None
    send_images: bool | None = None
    save_images: bool | None = None
    alwayson_scripts: JsonObject | None = None
    infotext: Annotated[str, Field(max_length=4 * MAX_PROMPT_CHARS)] | None = None
    # Forge's guidance for distilled models (Flux); A1111 ignores it.
    distilled_cfg_scale: float | None = only_on("Forge", ge=0, le=30)


class Txt2ImgRequest(GenerationRequest):
    """POST /sdapi/v1/txt2img."""

    enable_hr: bool | None = None
    firstphase_width: int | None = Field(None, ge=0, le=MAX_PIXELS)
    firstphase_height: int | None = Field(None, ge=0, le=MAX_PIXELS)
    hr_scale: float | None = Field(None, ge=1, le=8)
    hr_upscaler: Name | None = None
    hr_second_pass_steps: int | None = Field(None, ge=0, le=150)
    hr_resize_x: HiresPixels | None = None
    hr_resize_y: HiresPixels | None = None
    hr_checkpoint_name: Name | None = None
    hr_sampler_name: Name | None = None
    hr_scheduler: Name | None = None
    hr_prompt: Prompt | None = None
    hr_negative_prompt: Prompt | None = None


class Img2ImgRequest(GenerationRequest):
    """POST /sdapi/v1/img2img. Width/height unset = the init image's size."""

    width: Pixels | None = None
    height: Pixels | None = None
    init_images: list[str] | None = None
    resize_mode: Annotated[ResizeMode, _choice(ResizeMode)] | None = None
    denoising_strength: Fraction = 0.75
    image_cfg_scale: float | None = Field(None, ge=0, le=30)
    mask: str | None = None
    mask_blur_x: int | None = Field(None, ge=0, le=64)
    mask_blur_y: int | None = Field(None, ge=0, le=64)
    mask_blur: int | None = Field(None, ge=0, le=64)
    mask_round: bool | None = None
    # A1111's UI defaults, not its API's (0 "fill", true "only masked", padding 0).
    inpainting_fill: Annotated[InpaintingFill, _choice(InpaintingFill)] = InpaintingFill.original
    inpaint_full_res: bool = False
    inpaint_full_res_padding: int = Field(32, ge=0, le=256)
    inpainting_mask_invert: Annotated[MaskInvert, _choice(MaskInvert)] | None = None
    initial_noise_multiplier: float | None = Field(None, ge=0, le=1.5)
    latent_mask: str | None = None
    include_init_images: bool | None = None


class ExtrasRequest(BaseModel):
    """POST /sdapi/v1/extra-single-image and extra-batch-images (A1111's "Extras" tab)."""

    model_config = _CONFIG

    # 0 = scale by upscaling_resize, 1 = scale to upscaling_resize_w × _h (the tool decides).
    resize_mode: int | None = Field(None, ge=0, le=1)
    show_extras_results: bool | None = None
    gfpgan_visibility: Fraction | None = None
    codeformer_visibility: Fraction | None = None
    codeformer_weight: Fraction | None = None
    upscaling_resize: float = Field(2.0, ge=1, le=8)
    upscaling_resize_w: int | None = Field(None, ge=64, le=4 * MAX_PIXELS)
    upscaling_resize_h: int | None = Field(None, ge=64, le=4 * MAX_PIXELS)
    upscaling_crop: bool | None = None
    upscaler_1: Name | None = None
    upscaler_2: Name | None = None
    extras_upscaler_2_visibility: Fraction | None = None
    upscale_first: bool | None = None


class InterrogateModel(StrEnum):
    clip = "clip"
    deepdanbooru = "deepdanbooru"


class InterrogateRequest(BaseModel):
    """POST /sdapi/v1/interrogate (the image is added by the tool)."""

    model_config = _CONFIG

    model: InterrogateModel = InterrogateModel.clip


class PngInfoRequest(BaseModel):
    """POST /sdapi/v1/png-info: nothing but the image, which the tool adds."""

    model_config = _CONFIG


class ToolOptions(BaseModel):
    """Inputs every server tool has that are not A1111 request fields."""

    model_config = _CONFIG

    # Seconds to wait for the server; unset = the provider's timeout.
    timeout: float | None = Field(None, ge=1, le=86400)
    # Merged into the request last; keys A1111 does not know pass through unchecked.
    extra_payload: JsonObject | None = None


class GenerationOptions(ToolOptions):
    """Inputs of the generation tools that are not A1111 request fields, and where they go."""

    # override_settings.sd_model_checkpoint, checked against /sdapi/v1/sd-models.
    checkpoint: Name | None = None
    # override_settings.sd_vae (A1111, reForge, SD.Next) or forge_additional_modules (Forge).
    vae: Name | None = None
    # override_settings.CLIP_stop_at_last_layers (A1111 family) or clip_skip (SD.Next).
    clip_skip: int | None = Field(None, ge=1, le=12)
    # "name:0.8, other:0.5": appended to the prompt as <lora:name:0.8> tags, names checked.
    loras: Annotated[str, Field(max_length=8192)] | None = None


_MESSAGES = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "extra_forbidden": "is not a parameter of this tool",
    "enum": "is not one of the allowed values",
}


def _describe_error(error: dict[str, Any], model: type[BaseModel]) -> str:
    loc = [str(part) for part in error["loc"]]
    name = ".".join(loc)
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        text = f"must be at most {ctx.get('le', ctx.get('lt'))}"
    elif kind == "string_too_long":
        text = f"is too long ({len(error.get('input', ''))} characters; at most {ctx.get('max_length')})"
    else:
        text = _MESSAGES.get(kind, error["msg"])
    field = model.model_fields.get(loc[0]) if loc else None
    if field is not None and field.description and kind != "value_error":
        text += f" ({field.description})"
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) or kind == "extra_forbidden" else f" = {value!r}"
    if len(shown) > 83:
        shown = shown[:80] + "…"
    return f"{name}{shown}: {text}"


def parse_model[M: BaseModel](model: type[M], values: dict[str, Any]) -> M:
    """Validate tool inputs into ``model``; raise InvalidParameter naming every bad field."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        problems = [_describe_error(item, model) for item in error.errors(include_url=False)]
        raise InvalidParameter("Invalid parameter: " + "; ".join(problems) + ".") from None
