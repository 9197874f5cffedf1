"""ControlNet units: typed, checked against the server's lists, in the shape its ControlNet reads.

Two implementations answer to the always-on script title "ControlNet" (docs/extensions.md):
sd-webui-controlnet on A1111, and the built-in ControlNet of Forge and reForge. Both read
one dict per unit from ``alwayson_scripts["ControlNet"]["args"]``, only as many as the
server has unit slots (``control_net_unit_count``, 3 by default), and both ignore a unit
they cannot read without an error. So the plugin names, checks and counts everything first.
"""

from __future__ import annotations

import binascii
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webui.errors import InputImageError, InvalidParameter
from webui.images.formats import check_image, decode_base64, encode_base64
from webui.images.sources import InputImage, check_dimensions
from webui.requests.fields import Fraction, JsonArray, Name, choice, describe_errors, unit_inputs
from webui.server.flavour import Flavour
from webui.server.names import Choice, resolve

TITLE = "ControlNet"
SLOTS_SETTING = "control_net_unit_count"
_HASH = " ["


class ControlMode(StrEnum):
    balanced = "Balanced"
    prompt = "My prompt is more important"
    controlnet = "ControlNet is more important"


class ControlResizeMode(StrEnum):
    just_resize = "Just Resize"
    crop_and_resize = "Crop and Resize"
    resize_and_fill = "Resize and Fill"


class ControlNetUnit(BaseModel):
    """One unit, with sd-webui-controlnet's field names. Other fields of the extension
    (hr_option, save_detected_map, ...) pass through as given; docs/security.md lists the
    ones refused."""

    model_config = ConfigDict(extra="allow", allow_inf_nan=False)

    image: str | int | None = None  # base64, or in controlnet_units an index into controlnet_images
    mask: str | int | None = None
    module: Name = "none"
    model: Name | None = None
    weight: float = Field(1.0, ge=0, le=2)
    guidance_start: Fraction = 0.0
    guidance_end: Fraction = 1.0
    control_mode: Annotated[ControlMode, choice(ControlMode)] = ControlMode.balanced
    resize_mode: Annotated[ControlResizeMode, choice(ControlResizeMode)] = ControlResizeMode.crop_and_resize
    pixel_perfect: bool = False
    processor_res: int = Field(-1, ge=-1, le=4096)
    threshold_a: float = Field(-1, ge=-1, le=10000)
    threshold_b: float = Field(-1, ge=-1, le=10000)


# The tool inputs of the one unit that typed parameters describe: controlnet_<field>.
_TYPED = (
    "module",
    "model",
    "weight",
    "guidance_start",
    "guidance_end",
    "control_mode",
    "resize_mode",
    "pixel_perfect",
    "processor_res",
    "threshold_a",
    "threshold_b",
)


def input_name(field: str) -> str:
    """The tool input that sets a field of the typed unit."""
    return f"controlnet_{field}"


ControlNetInputs = unit_inputs(
    "ControlNetInputs",
    ControlNetUnit,
    _TYPED,
    input_name,
    controlnet_units=(JsonArray | None, None),
)


def _image(value: Any, images: list[InputImage], where: str) -> str | None:
    """A unit's image as base64: an index into controlnet_images, or base64 checked to be an
    image (sd-webui-controlnet would read a string that names a server file from disk)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < len(images):
            raise InvalidParameter(
                f"{where} is {value}, but controlnet_images has {len(images)} file(s) (numbered from 0)."
            )
        return images[value].base64()
    try:
        data = decode_base64(str(value))
    except (binascii.Error, ValueError):
        raise InputImageError(f"{where} must be an index into controlnet_images or base64 image data.") from None
    check_dimensions(check_image(data, where), where)
    return encode_base64(data)


def requested_units(options: Any, typed_image: InputImage | None, images: list[InputImage]) -> list[ControlNetUnit]:
    """The units a request asks for: the typed one (when an image or a model is given), then
    the controlnet_units JSON, in that order; images resolved to base64."""
    units: list[ControlNetUnit] = []
    if typed_image is not None or options.controlnet_model:
        typed = {name: getattr(options, input_name(name)) for name in _TYPED}
        units.append(ControlNetUnit(**typed, image=typed_image.base64() if typed_image else None))
    for index, raw in enumerate(options.controlnet_units or []):
        where = f"controlnet_units[{index}]"
        if not isinstance(raw, dict):
            raise InvalidParameter(f'{where} must be a JSON object such as {{"module": "canny", "image": 0}}.')
        try:
            unit = ControlNetUnit.model_validate(raw)
        except ValidationError as error:
            raise InvalidParameter(f"Invalid parameter: {describe_errors(error, ControlNetUnit, where)}.") from None
        unit.image = _image(unit.image, images, f"{where}.image")
        unit.mask = _image(unit.mask, images, f"{where}.mask")
        units.append(unit)
    return units


def _model_choices(listed: list[str]) -> list[Choice]:
    """A listed model is found by its name, or by its name without the " [hash]" suffix."""
    return [Choice(name, spellings=(name.split(_HASH, 1)[0],) if _HASH in name else ()) for name in listed]


def unit_args(
    units: list[ControlNetUnit], models: list[str], modules: list[str], flavour: Flavour
) -> list[dict[str, Any]]:
    """Each unit checked against the server's lists and written as its ControlNet reads it."""
    model_choices = _model_choices(models)
    module_choices = [Choice(name) for name in modules]
    args = []
    for number, unit in enumerate(units, start=1):
        module = resolve(f"ControlNet module (unit {number})", unit.module, module_choices).value
        model = "None"
        if unit.model and unit.model.strip().lower() != "none":
            model = resolve(f"ControlNet model (unit {number})", unit.model, model_choices).value
        body = unit.model_dump(mode="json", exclude_none=True)
        body.update(enabled=True, module=module, model=model)
        if flavour.builtin_controlnet and "mask" in body:
            body["mask_image"] = body.pop("mask")  # Forge's field name
        args.append(body)
    return args


def queued_units(payload: dict[str, Any]) -> dict[str, Any]:
    """The body with each ControlNet unit's image as agent-scheduler reads a queued unit:
    ``{"image": base64, "mask": base64 | None}`` (it answers 500 to a plain string,
    as_queue_txt2img_controlnet_b64.json). Only the queue gets this shape: Forge returns no
    detected map for it."""
    scripts = payload.get("alwayson_scripts")
    script = scripts.get(TITLE) if isinstance(scripts, dict) else None
    args = script.get("args") if isinstance(script, dict) else None
    if not isinstance(scripts, dict) or not isinstance(script, dict) or not isinstance(args, list):
        return payload
    units = []
    for unit in args:
        if isinstance(unit, dict) and isinstance(unit.get("image"), str):
            mask = unit.get("mask") or unit.get("mask_image")
            unit = {key: value for key, value in unit.items() if key not in ("mask", "mask_image")}
            unit["image"] = {"image": unit["image"], "mask": mask if isinstance(mask, str) else None}
        units.append(unit)
    return {**payload, "alwayson_scripts": {**scripts, TITLE: {**script, "args": units}}}
