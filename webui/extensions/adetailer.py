"""ADetailer (face and hand repair after the generation): typed units, checked before sending.

ADetailer reads ``alwayson_scripts["ADetailer"]["args"]`` as ``[enable, skip_img2img,
unit, unit, ...]`` with as many unit slots as its ``ad_max_models`` setting gave the UI
(2 on a fresh install). It validates each unit with ``extra="forbid"`` and silently skips
one with an unknown key, and it writes "ADetailer model: ..." into the infotext even for a
model it then fails to load — so the infotext proves nothing, and the plugin checks the
fields and the model against ``/adetailer/v1/ad_model`` before anything is generated.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from webui.errors import InvalidParameter
from webui.requests.fields import Fraction, JsonArray, Name, Prompt, describe_errors, unit_inputs
from webui.server.names import Choice, resolve

TITLE = "ADetailer"
SLOTS_SETTING = "ad_max_models"
LEADING_ARGS = 2  # enable, skip_img2img


class ADetailerUnit(BaseModel):
    """ADetailer's ADetailerArgs (v25.3.0): the same names, bounds and defaults; no other keys."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    ad_model: Name = "None"
    ad_model_classes: Name = ""
    ad_tab_enable: bool = True
    ad_prompt: Prompt = ""
    ad_negative_prompt: Prompt = ""
    ad_confidence: Fraction = 0.3
    ad_mask_filter_method: Literal["Area", "Confidence"] = "Area"
    ad_mask_k: int = Field(0, ge=0)
    ad_mask_min_ratio: Fraction = 0.0
    ad_mask_max_ratio: Fraction = 1.0
    ad_dilate_erode: int = 4
    ad_x_offset: int = 0
    ad_y_offset: int = 0
    ad_mask_merge_invert: Literal["None", "Merge", "Merge and Invert"] = "None"
    ad_mask_blur: int = Field(4, ge=0, le=256)
    ad_denoising_strength: Fraction = 0.4
    ad_inpaint_only_masked: bool = True
    ad_inpaint_only_masked_padding: int = Field(32, ge=0, le=1024)
    ad_use_inpaint_width_height: bool = False
    ad_inpaint_width: int = Field(512, ge=1, le=8192)
    ad_inpaint_height: int = Field(512, ge=1, le=8192)
    ad_use_steps: bool = False
    ad_steps: int = Field(28, ge=1, le=150)
    ad_use_cfg_scale: bool = False
    ad_cfg_scale: float = Field(7.0, ge=0, le=30)
    ad_use_checkpoint: bool = False
    ad_checkpoint: Name | None = None
    ad_use_vae: bool = False
    ad_vae: Name | None = None
    ad_use_sampler: bool = False
    ad_sampler: Name = "DPM++ 2M Karras"
    ad_scheduler: Name = "Use same scheduler"
    ad_use_noise_multiplier: bool = False
    ad_noise_multiplier: float = Field(1.0, ge=0.5, le=1.5)
    ad_use_clip_skip: bool = False
    ad_clip_skip: int = Field(1, ge=1, le=12)
    ad_restore_face: bool = False
    ad_controlnet_model: Name = "None"
    ad_controlnet_module: Name = "None"
    ad_controlnet_weight: Fraction = 1.0
    ad_controlnet_guidance_start: Fraction = 0.0
    ad_controlnet_guidance_end: Fraction = 1.0


# The tool inputs of the unit the typed parameters describe: adetailer_<field without ad_>,
# the fields ADetailer's UI shows first. An empty adetailer_model means no unit.
_TYPED = (
    "ad_prompt",
    "ad_negative_prompt",
    "ad_denoising_strength",
    "ad_confidence",
    "ad_mask_blur",
    "ad_inpaint_only_masked",
    "ad_inpaint_only_masked_padding",
)


def input_name(field: str) -> str:
    """The tool input that sets a field of the typed unit (its name without ``ad_``)."""
    return f"adetailer_{field.removeprefix('ad_')}"


ADetailerInputs = unit_inputs(
    "ADetailerInputs",
    ADetailerUnit,
    _TYPED,
    input_name,
    adetailer_model=(Name | None, None),
    adetailer_units=(JsonArray | None, None),
)


def requested_units(options: Any) -> list[ADetailerUnit]:
    """The typed unit (when adetailer_model is set), then the adetailer_units JSON."""
    units: list[ADetailerUnit] = []
    if options.adetailer_model:
        typed = {name: getattr(options, input_name(name)) for name in _TYPED}
        units.append(ADetailerUnit(ad_model=options.adetailer_model, **typed))
    for index, raw in enumerate(options.adetailer_units or []):
        where = f"adetailer_units[{index}]"
        if not isinstance(raw, dict):
            raise InvalidParameter(f'{where} must be a JSON object such as {{"ad_model": "hand_yolov8n.pt"}}.')
        try:
            units.append(ADetailerUnit.model_validate(raw))
        except ValidationError as error:
            raise InvalidParameter(
                f"Invalid parameter: {describe_errors(error, ADetailerUnit, where)} "
                "(ADetailer would skip this unit without a word)."
            ) from None
    return units


def unit_args(units: list[ADetailerUnit], models: list[str]) -> list[dict[str, Any]]:
    """Each unit with its model checked against /adetailer/v1/ad_model, as ADetailer reads it."""
    choices = [Choice(name) for name in models]
    args = []
    for number, unit in enumerate(units, start=1):
        model = unit.ad_model
        if model.strip().lower() != "none":  # "None" is ADetailer's own "this tab is off"
            model = resolve(f"ADetailer model (unit {number})", model, choices).value
        args.append({**unit.model_dump(mode="json", exclude_none=True), "ad_model": model})
    return args
