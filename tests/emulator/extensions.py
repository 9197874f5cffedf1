"""sd-webui-controlnet, Forge's built-in ControlNet and ADetailer, as the emulator runs them.

Read from their sources (sd-webui-controlnet 1.1.455: internal_controlnet/args.py,
scripts/controlnet.py, scripts/api.py; Forge: extensions-builtin/sd_forge_controlnet;
ADetailer 25.3.0: adetailer/args.py, scripts/!adetailer.py):

- each reads its always-on args up to its number of UI slots (A1111 copies no more);
- sd-webui-controlnet validates each unit with pydantic (``enabled`` defaults to false,
  the module must be a known preprocessor, modes are the UI's strings); Forge builds a
  dataclass from the known keys (``enabled`` defaults to true, names are exact);
- an exception inside a script is caught and logged by A1111: the picture is made
  without the extension's effect and the answer is 200;
- a ControlNet unit adds its detected map to the answer's images (save_detected_map);
- ADetailer skips a unit with an unknown key, and writes "ADetailer model" into the
  infotext whatever the model (a missing one fails later, only in the server's log).
"""

from __future__ import annotations

from typing import Any

from tests.emulator import pictures

CONTROLNET_MODELS = ["control_v11p_sd15_canny [d14c016b]", "control_v11f1p_sd15_depth [cfd03158]",
                     "control_v11p_sd15_openpose [cab727d4]"]  # fmt: skip
CONTROLNET_MODULES = ["none", "canny", "depth_midas", "openpose_full", "lineart_realistic", "reference_only"]
FORGE_CONTROLNET_MODELS = ["None", "control_v11p_sd15_canny", "control_v11p_sd15_openpose", "diffusers_xl_depth_full"]
FORGE_CONTROLNET_MODULES = ["None", "canny", "depth_midas", "openpose_full", "lineart_realistic"]
CONTROLNET_UNIT_SLOTS = 3  # control_net_unit_count
ADETAILER_MODELS = ["face_yolov8n.pt", "face_yolov8s.pt", "hand_yolov8n.pt", "person_yolov8n-seg.pt",
                    "mediapipe_face_full", "mediapipe_face_short"]  # fmt: skip
ADETAILER_TABS = 2  # ad_max_models as the UI reads it on a fresh install
ADETAILER_VERSION = "25.3.0"
_RESIZE = {"Just Resize", "Crop and Resize", "Resize and Fill"}
_RESIZE_ALIASES = {"Inner Fit (Scale to Fit)": "Crop and Resize", "Outer Fit (Shrink to Fit)": "Resize and Fill"}
_CONTROL = ["Balanced", "My prompt is more important", "ControlNet is more important"]
_FORGE_FIELDS = {"input_mode", "use_preview_as_input", "batch_image_dir", "batch_mask_dir", "batch_input_gallery",
                 "batch_mask_gallery", "generated_image", "mask_image", "mask_image_fg", "hr_option", "enabled", "module",
                 "model", "weight", "image", "image_fg", "resize_mode", "processor_res", "threshold_a", "threshold_b",
                 "guidance_start", "guidance_end", "pixel_perfect", "control_mode", "save_detected_map"}  # fmt: skip
# adetailer/args.py ADetailerArgs: field -> (default, check)
_ADETAILER_FIELDS: dict[str, Any] = {
    "ad_model": "None", "ad_model_classes": "", "ad_tab_enable": True, "ad_prompt": "", "ad_negative_prompt": "",
    "ad_confidence": 0.3, "ad_mask_filter_method": "Area", "ad_mask_k": 0, "ad_mask_min_ratio": 0.0,
    "ad_mask_max_ratio": 1.0, "ad_dilate_erode": 4, "ad_x_offset": 0, "ad_y_offset": 0, "ad_mask_merge_invert": "None",
    "ad_mask_blur": 4, "ad_denoising_strength": 0.4, "ad_inpaint_only_masked": True,
    "ad_inpaint_only_masked_padding": 32, "ad_use_inpaint_width_height": False, "ad_inpaint_width": 512,
    "ad_inpaint_height": 512, "ad_use_steps": False, "ad_steps": 28, "ad_use_cfg_scale": False, "ad_cfg_scale": 7.0,
    "ad_use_checkpoint": False, "ad_checkpoint": None, "ad_use_vae": False, "ad_vae": None, "ad_use_sampler": False,
    "ad_sampler": "DPM++ 2M Karras", "ad_scheduler": "Use same scheduler", "ad_use_noise_multiplier": False,
    "ad_noise_multiplier": 1.0, "ad_use_clip_skip": False, "ad_clip_skip": 1, "ad_restore_face": False,
    "ad_controlnet_model": "None", "ad_controlnet_module": "None", "ad_controlnet_weight": 1.0,
    "ad_controlnet_guidance_start": 0.0, "ad_controlnet_guidance_end": 1.0, "is_api": True,
}  # fmt: skip
_ADETAILER_FRACTIONS = {"ad_confidence", "ad_mask_min_ratio", "ad_mask_max_ratio", "ad_denoising_strength",
                        "ad_controlnet_weight", "ad_controlnet_guidance_start", "ad_controlnet_guidance_end"}  # fmt: skip


def script_info(extensions: set[str], forge: bool) -> list[dict[str, Any]]:
    """The /sdapi/v1/script-info entries the extensions add (one arg per UI component)."""
    entries = []
    for img2img in (False, True):
        if forge or "controlnet" in extensions:
            args = [{"label": "", "value": None} for _ in range(CONTROLNET_UNIT_SLOTS)]
            entries.append({"name": "controlnet", "is_alwayson": True, "is_img2img": img2img, "args": args})
        if "adetailer" in extensions:
            args = [{"label": "ADetailer", "value": False}, {"label": "Skip img2img", "value": False}]
            args += [{"label": "", "value": None} for _ in range(ADETAILER_TABS)]
            entries.append({"name": "adetailer", "is_alwayson": True, "is_img2img": img2img, "args": args})
    return entries


class ScriptFailed(ValueError):
    """An exception inside an always-on script: A1111 logs it and carries on without the script."""


def _controlnet_unit(raw: dict[str, Any], forge: bool) -> dict[str, Any]:
    if forge:
        unit = {"enabled": True, "module": "None", "model": "None", "weight": 1.0, "resize_mode": "Crop and Resize",
                "control_mode": "Balanced", "guidance_start": 0.0, "guidance_end": 1.0, "processor_res": -1,
                "threshold_a": -1, "threshold_b": -1, "pixel_perfect": False, "save_detected_map": True}  # fmt: skip
        unit |= {key: value for key, value in raw.items() if key in _FORGE_FIELDS}
        if unit["module"] not in FORGE_CONTROLNET_MODULES or unit["model"] not in FORGE_CONTROLNET_MODELS:
            raise ScriptFailed(f"unknown module or model {unit['module']!r}/{unit['model']!r}")
    else:
        unit = {"enabled": False, "module": "none", "model": "None", "weight": 1.0, "resize_mode": "Crop and Resize",
                "control_mode": "Balanced", "guidance_start": 0.0, "guidance_end": 1.0, "processor_res": -1,
                "threshold_a": -1, "threshold_b": -1, "pixel_perfect": False, "save_detected_map": True}  # fmt: skip
        unit |= {key: value for key, value in raw.items() if key != "mask_image"}
        if "mask_image" in raw:
            unit["mask"] = raw["mask_image"]
        if unit["module"] not in CONTROLNET_MODULES:
            raise ScriptFailed(f"module({unit['module']}) not found in supported modules.")
        if not 0 <= float(unit["weight"]) <= 2:
            raise ScriptFailed("weight out of range")
        if float(unit["guidance_start"]) > float(unit["guidance_end"]):
            raise ScriptFailed("guidance_start > guidance_end")
    resize = _RESIZE_ALIASES.get(unit["resize_mode"], unit["resize_mode"])
    if isinstance(resize, int) and 0 <= resize < 3:
        resize = ["Just Resize", "Crop and Resize", "Resize and Fill"][resize]
    control = unit["control_mode"]
    if isinstance(control, int) and 0 <= control < 3:
        control = _CONTROL[control]
    if resize not in _RESIZE or control not in _CONTROL:
        raise ScriptFailed(f"'{resize}' / '{control}' is not a valid mode")
    return {**unit, "resize_mode": resize, "control_mode": control}


def _control_image(value: Any) -> Any:
    """A unit's image: base64, or {"image": base64, "mask": base64} as sd-webui-controlnet's
    API takes it (internal_controlnet/args.py). Any other shape is taken for a failure of the
    script (a guess: the extension's behaviour with lists was not captured)."""
    if isinstance(value, dict):
        if value.get("mask") is not None:
            _control_image(value["mask"])
        value = value.get("image")
    if not isinstance(value, str):
        raise ScriptFailed("control image of an unknown shape")
    try:
        return pictures.decode(value)
    except ValueError as error:
        raise ScriptFailed("bad control image") from error


def run_controlnet(args: list[Any], forge: bool, size: tuple[int, int]) -> tuple[dict[str, str], list[Any]]:
    """(infotext entries, detected maps) of the ControlNet units in ``args``."""
    try:
        units = [_controlnet_unit(arg, forge) for arg in args[:CONTROLNET_UNIT_SLOTS] if isinstance(arg, dict)]
        params, maps = {}, []
        for index, unit in enumerate(unit for unit in units if unit["enabled"]):
            if unit.get("image"):
                control = _control_image(unit["image"])
                # Forge returns no detected map for the {image, mask} form (captures-forge)
                if unit["save_detected_map"] and not (forge and isinstance(unit["image"], dict)):
                    maps.append(control.convert("RGB").resize(size))
            params[f"ControlNet {index}"] = (
                f'"Module: {unit["module"]}, Model: {unit["model"]}, Weight: {unit["weight"]}, '
                f"Resize Mode: {unit['resize_mode']}, Guidance Start: {unit['guidance_start']}, "
                f"Guidance End: {unit['guidance_end']}, Pixel Perfect: {unit['pixel_perfect']}, "
                f'Control Mode: {unit["control_mode"]}"'
            )
        return params, maps
    except (ScriptFailed, TypeError, ValueError):
        return {}, []


def _adetailer_unit(raw: dict[str, Any]) -> dict[str, Any]:
    if set(raw) - set(_ADETAILER_FIELDS):
        raise ScriptFailed(f"extra fields not permitted: {sorted(set(raw) - set(_ADETAILER_FIELDS))}")
    unit = {**_ADETAILER_FIELDS, **raw}
    if any(not 0 <= float(unit[key]) <= 1 for key in _ADETAILER_FRACTIONS):
        raise ScriptFailed("a ratio is out of 0..1")
    return unit


def run_adetailer(args: list[Any]) -> dict[str, Any]:
    """The infotext entries ADetailer writes for ``args`` ([enable, skip_img2img, unit, ...])."""
    args = args[: 2 + ADETAILER_TABS]
    dicts = [arg for arg in args if isinstance(arg, dict)]
    if not dicts or (args and args[0] is False):
        return {}
    units = []
    for raw in dicts:
        try:
            units.append(_adetailer_unit(raw))
        except (ScriptFailed, TypeError, ValueError):
            continue  # "[-] ADetailer: ValidationError when validating ... arguments"
    active = [unit for unit in units if unit["ad_model"] != "None" and unit["ad_tab_enable"]]
    if not active:
        return {}
    params: dict[str, Any] = {}
    for number, unit in enumerate(active):
        suffix = "" if number == 0 else f" {['2nd', '3rd'][number - 1] if number < 3 else f'{number + 1}th'}"
        params[f"ADetailer model{suffix}"] = unit["ad_model"]
        params[f"ADetailer confidence{suffix}"] = unit["ad_confidence"]
        params[f"ADetailer mask blur{suffix}"] = unit["ad_mask_blur"]
        params[f"ADetailer denoising strength{suffix}"] = unit["ad_denoising_strength"]
        params[f"ADetailer inpaint only masked{suffix}"] = unit["ad_inpaint_only_masked"]
        if unit["ad_prompt"]:
            params[f"ADetailer prompt{suffix}"] = f'"{unit["ad_prompt"]}"'
    params["ADetailer version"] = ADETAILER_VERSION
    return params
