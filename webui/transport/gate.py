"""The one gate: every body the plugin sends to a WebUI is checked here, right before it
is encoded and sent (webui/transport/http.py calls :func:`encode_body`), after every
builder ran, so nothing added on the way escapes it.

Tool inputs may be chosen by an LLM that a prompt-injected page steers, and the WebUI is
shared. So no request from this plugin may run code on the server, read or write files
on it, change where or how files are written, change the server beyond the request,
make it decode pictures larger than any route needs, or slip values past the bounds the
typed parameters have. Extension units are checked against an allow-list of their fields
and the shapes of their values; an unknown field is refused with its name.
docs/security.md explains each rule and where in A1111/Forge/SD.Next it comes from.
"""

from __future__ import annotations

import binascii
import json
import math
import shlex
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from webui.errors import InputImageError, InvalidParameter, UnsafeInput
from webui.extensions.adetailer import ADetailerUnit
from webui.images.formats import check_image, decode_base64, looks_like_base64, sniff, split_data_uri
from webui.images.sources import check_dimensions
from webui.requests.fields import MAX_PIXELS, parse_model
from webui.requests.models import ExtrasRequest, Img2ImgRequest, Txt2ImgRequest

CUSTOM_CODE = "custom code"
# Selectable scripts that read or write folders on the server (SD.Next lists this one).
_FOLDER_SCRIPTS = {"ceeteedees i2i folder batch inference"}
# The prompt-list script of each flavour: A1111, Forge and reForge call it "Prompts from file or
# textbox" (args: checkbox_iterate, checkbox_iterate_batch, prompt_position, prompt_txt; older
# A1111 without prompt_position), SD.Next "Prompts from file" (checkbox_iterate,
# checkbox_iterate_batch, prompt_txt). Every text argument is read as its prompt list.
PROMPTS_FROM_FILE = {"prompts from file or textbox", "prompts from file"}
_MAX_SCRIPT_LINES = 100
_MAX_SCRIPT_IMAGES = 1600
# The line options of "Prompts from file or textbox" (prompt_tags) and how A1111 reads them.
_LINE_TAGS = {
    "sd_model": str,
    "outpath_samples": str,
    "outpath_grids": str,
    "prompt_for_display": str,
    "prompt": str,
    "negative_prompt": str,
    "styles": str,
    "seed": int,
    "subseed_strength": float,
    "subseed": int,
    "seed_resize_from_h": int,
    "seed_resize_from_w": int,
    "sampler_index": int,
    "sampler_name": str,
    "batch_size": int,
    "n_iter": int,
    "steps": int,
    "cfg_scale": float,
    "width": int,
    "height": int,
    "restore_faces": bool,
    "tiling": bool,
    "do_not_save_samples": bool,
    "do_not_save_grid": bool,
}
# Line options that choose where files go, or that files are written.
_LINE_WRITES = {"outpath_samples", "outpath_grids", "do_not_save_samples", "do_not_save_grid"}
# Line options checked with the bounds of the request field of the same name.
_LINE_BOUNDED = {"seed", "subseed", "subseed_strength", "seed_resize_from_h", "seed_resize_from_w"} | {
    "batch_size",
    "n_iter",
    "steps",
    "cfg_scale",
    "width",
    "height",
}
# Words in setting names (A1111 shared_options.py, Forge, extensions) that choose where or
# whether files are written: output folders and name patterns, saving, logs, temp dirs.
_WRITE_WORDS = ("dir", "path", "file", "save", "export", "log", "profil", "temp")
# ... and words of settings that change the server beyond the request: caches, extensions,
# the API's own restrictions, the config snapshot to restore at start, what pictures carry
# (enable_pnginfo), their format and quality, the UI's lists, and the limits the server
# keeps for everybody (sd_checkpoints_limit, img_max_size_mp, ...).
_STATE_WORDS = ("cache", "extension", "restore_config", "api_", "pnginfo", "format", "quality", "lossless",
                "4chan", "hide", "limit", "max_size", "_mp", "threshold", "target_side", "keep_in_cpu",
                "quicksettings", "localization", "ui_", "gradio", "browser", "notification", "requests",
                "memmon")  # fmt: skip
# sd-webui-controlnet (1.1.455 internal_controlnet/args.py) and Forge's built-in ControlNet:
# the unit fields the plugin sends, with the JSON types of their values. Images are checked
# apart (_check_image_field). Anything else is refused by name.
_CONTROLNET_FIELDS: dict[str, tuple[type, ...]] = {
    "enabled": (bool,),
    "module": (str,),
    "model": (str,),
    "weight": (int, float),
    "resize_mode": (str, int),
    "low_vram": (bool,),
    "processor_res": (int, float),
    "threshold_a": (int, float),
    "threshold_b": (int, float),
    "guidance_start": (int, float),
    "guidance_end": (int, float),
    "pixel_perfect": (bool,),
    "control_mode": (str, int),
    "save_detected_map": (bool,),
    "hr_option": (str,),
    "union_control_type": (str,),
    "input_mode": (str,),
}
_CONTROLNET_IMAGE_FIELDS = ("image", "mask", "mask_image")
# Unit fields that read or write server folders, and one the extension unpickles.
_CONTROLNET_PATH_FIELDS = (
    "batch_images",
    "batch_image_dir",
    "batch_mask_dir",
    "batch_image_files",
    "batch_input_gallery",
    "batch_mask_gallery",
    "multi_inputs_gallery",
    "output_dir",
)
_CONTROLNET_SIMPLE_MODES = {"simple", "single image", "single_image", ""}
# ADetailer (25.3.0 adetailer/args.py ADetailerArgs): its unit fields; is_api it sets itself.
_ADETAILER_FIELDS = frozenset(ADetailerUnit.model_fields) | {"is_api"}
# Top-level keys the plugin's own builders write besides the request models' fields.
_BUILT_KEYS = {"clip_skip", "hr_cfg", "hr_additional_modules"}
_GENERATION_KEYS = frozenset(Txt2ImgRequest.model_fields) | frozenset(Img2ImgRequest.model_fields) | _BUILT_KEYS
_BOUNDED = ("batch_size", "n_iter", "steps", "width", "height", "hr_scale", "hr_resize_x", "hr_resize_y")
# An image's header is read from this much base64 before the whole picture is decoded.
_HEADER_CHARS = 64 * 1024


def _named_like(key: str, words: tuple[str, ...]) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in words)


def _read_line(line: str) -> dict[str, Any] | None:
    """The options of one "Prompts from file" line as A1111's cmdargs reads them, or None
    when A1111 would use the whole line as a prompt (it has no "--", or does not parse)."""
    if "--" not in line:
        return None
    try:
        words = shlex.split(line)
    except ValueError:
        return None
    found: dict[str, Any] = {}
    position = 0
    while position < len(words):
        word = words[position]
        if not word.startswith("--") or position + 1 >= len(words):
            return None
        tag = word[2:]
        if tag in ("prompt", "negative_prompt"):
            position += 1
            parts = [words[position]]
            position += 1
            while position < len(words) and not words[position].startswith("--"):
                parts.append(words[position])
                position += 1
            found[tag] = " ".join(parts)
            continue
        kind = _LINE_TAGS.get(tag)
        if kind is None:
            return None
        value = words[position + 1]
        try:
            found[tag] = value == "true" if kind is bool else kind(value)
        except ValueError:
            return None
        position += 2
    return found


def _check_prompt_lines(text: str, model: type[BaseModel]) -> None:
    """The lines of a prompt list: no line that writes files, bounded like the typed fields."""
    lines = [line for line in (raw.strip() for raw in text.splitlines()) if line]
    if len(lines) > _MAX_SCRIPT_LINES:
        raise InvalidParameter(
            f"script_args: the prompt list has {len(lines)} lines; at most {_MAX_SCRIPT_LINES} are sent."
        )
    images = 0
    for number, line in enumerate(lines, start=1):
        options = _read_line(line) or {}
        writes = sorted(_LINE_WRITES & set(options))
        if writes:
            raise UnsafeInput(
                f"script_args line {number}: --{writes[0]} would choose where or whether the WebUI writes files; "
                "the plugin does not send such lines."
            )
        bounded = {key: value for key, value in options.items() if key in _LINE_BOUNDED}
        if bounded:
            try:
                parse_model(model, bounded)
            except InvalidParameter as error:
                raise InvalidParameter(f"script_args line {number}: {error.message}") from None
        images += options.get("batch_size", 1) * options.get("n_iter", 1)
    if images > _MAX_SCRIPT_IMAGES:
        raise InvalidParameter(f"script_args: the prompt list asks for {images} images; at most {_MAX_SCRIPT_IMAGES}.")


def _fail(where: str, key: str, text: str) -> UnsafeInput:
    return UnsafeInput(f"{where}: '{key[:60]}' {text}")


def _check_numbers(body: Any) -> None:
    """No NaN or Infinity anywhere: JSON has neither, and a server reads them as it likes."""
    pending: list[tuple[str, Any]] = [("", body)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidParameter(
                f"{where.lstrip('.') or 'The request'} is {value!r} (NaN or Infinity); only finite numbers are sent."
            )
        if isinstance(value, dict):
            pending.extend((f"{where}.{key}", item) for key, item in value.items())
        elif isinstance(value, list):
            pending.extend((f"{where}[{index}]", item) for index, item in enumerate(value))


def _check_image_text(value: Any, where: str, key: str) -> None:
    """A picture sent as text: base64 or a data:image URI (a WebUI reads other text as a
    file path or a URL it fetches itself), of bounded declared dimensions."""
    if not isinstance(value, str):
        raise _fail(where, key, f"must be base64 image data, not a {type(value).__name__}.")
    try:
        uri = split_data_uri(value[:512])
    except ValueError:
        uri = ("", "")
    if (uri is not None and not uri[0].startswith("image/")) or (uri is None and not looks_like_base64(value)):
        raise _fail(
            where, key, "is neither base64 nor a data:image URI; a WebUI reads such a text as a file path on the "
            "server or a URL it fetches itself."
        )  # fmt: skip
    what = f"{where}: '{key}'"
    try:
        info = sniff(_head(value, uri is not None)) or check_image(decode_base64(value), what)
    except ValueError:
        raise InputImageError(f"{what} is not valid base64.") from None
    check_dimensions(info, what)


def _head(value: str, data_uri: bool) -> bytes:
    """The first bytes of a long base64 picture (where its header is), or b"" for a short
    one or when its beginning does not decode alone."""
    if len(value) <= _HEADER_CHARS:
        return b""
    start = value.index(",", 0, 512) + 1 if data_uri else 0
    chunk = "".join(value[start : start + _HEADER_CHARS].split())
    try:
        return binascii.a2b_base64(chunk[: len(chunk) - len(chunk) % 4], strict_mode=True)
    except ValueError:
        return b""


def _check_controlnet(args: Any) -> None:
    units = args if isinstance(args, list) else []
    for index, unit in enumerate(units):
        if not isinstance(unit, dict):
            continue
        where = f"ControlNet unit {index + 1}"
        paths = [key for key in _CONTROLNET_PATH_FIELDS if key in unit]
        mode = str(unit.get("input_mode", "") or "").strip().lower()
        if paths or mode not in _CONTROLNET_SIMPLE_MODES:
            what = f"'{paths[0]}'" if paths else f"input_mode {mode[:30]!r}"
            raise UnsafeInput(
                f"{where}: {what} makes the WebUI read or write a folder on the server; "
                "the plugin sends control images itself."
            )
        if "ipadapter_input" in unit:
            raise _fail(
                where, "ipadapter_input", "is unpickled by sd-webui-controlnet (torch.load), which can run code on "
                "the server; the plugin never sends it."
            )  # fmt: skip
        for key, value in unit.items():
            if key in _CONTROLNET_IMAGE_FIELDS:
                _check_control_image(value, where, str(key))
            elif key not in _CONTROLNET_FIELDS:
                raise _fail(
                    where, str(key), "is not a ControlNet field the plugin sends; it sends "
                    + ", ".join(sorted([*_CONTROLNET_FIELDS, *_CONTROLNET_IMAGE_FIELDS])) + "."
                )  # fmt: skip
            elif value is not None and (
                not isinstance(value, _CONTROLNET_FIELDS[key])
                or (isinstance(value, bool) and bool not in _CONTROLNET_FIELDS[key])
            ):
                raise _fail(where, str(key), f"must be {' or '.join(t.__name__ for t in _CONTROLNET_FIELDS[key])}.")


def _check_control_image(value: Any, where: str, key: str) -> None:
    """None, base64, or {"image": base64, "mask": base64} as sd-webui-controlnet reads it."""
    if value is None:
        return
    if isinstance(value, dict):
        unknown = sorted(str(name) for name in value if name not in ("image", "mask"))
        if unknown:
            raise _fail(where, key, f"may hold only 'image' and 'mask', not {unknown[0][:60]!r}.")
        for part in ("image", "mask"):
            if value.get(part) is not None:
                _check_image_text(value[part], where, f"{key}.{part}")
        return
    _check_image_text(value, where, key)


def _check_adetailer(args: Any) -> None:
    for index, unit in enumerate(args if isinstance(args, list) else []):
        if isinstance(unit, bool):
            continue
        if not isinstance(unit, dict):
            raise UnsafeInput(f"ADetailer argument {index + 1} must be a unit object or one of the leading flags.")
        unknown = sorted(str(key) for key in unit if key not in _ADETAILER_FIELDS)
        if unknown:
            raise _fail(f"ADetailer unit {index + 1}", unknown[0], "is not an ADetailer field.")


def _check_settings(settings: Any, field: str, words: tuple[str, ...]) -> None:
    if settings is None:
        return
    if not isinstance(settings, dict):
        raise InvalidParameter(f"{field} must be a JSON object.")
    refused = sorted(str(key) for key in settings if _named_like(str(key), words))
    if refused:
        shown = ", ".join(repr(key[:60]) for key in refused[:5])
        raise UnsafeInput(
            f"{field}: {shown} would change where or whether the WebUI writes files, or change the server "
            "beyond this request; the plugin does not send such settings. Ask the WebUI's operator to set them."
        )


def _check_unknown_keys(body: dict[str, Any], known: frozenset[str]) -> None:
    """Keys the plugin does not know: A1111 ignores them, other servers may read file options from them."""
    _check_settings({key: None for key in body if key not in known}, "extra_payload", _WRITE_WORDS)
    if "callback_url" in body:
        raise UnsafeInput(
            "extra_payload: callback_url makes the WebUI's queue post the pictures to that address; "
            "the plugin never sends it."
        )


def _check_hires(body: dict[str, Any]) -> None:
    """Refuse a hires target the server would fail on after the whole first pass."""
    if not body.get("enable_hr"):
        return
    width, height = float(body.get("width") or 512), float(body.get("height") or 512)
    resize_x, resize_y = float(body.get("hr_resize_x") or 0), float(body.get("hr_resize_y") or 0)
    scale = float(body.get("hr_scale") or 2.0)
    if not resize_x and not resize_y:  # A1111's StableDiffusionProcessingTxt2Img.calculate_target_resolution
        target = (width * scale, height * scale)
    elif not resize_x:
        target = (resize_y * width / height, resize_y)
    elif not resize_y:
        target = (resize_x, resize_x * height / width)
    else:
        target = (resize_x, resize_y)
    if target[0] * target[1] > MAX_PIXELS * MAX_PIXELS:
        raise InvalidParameter(
            f"The hires pass would make {int(target[0])}×{int(target[1])} pictures; the plugin sends hires targets "
            f"of at most {MAX_PIXELS}×{MAX_PIXELS} pixels in area (larger ones run out of GPU memory after the "
            "whole first pass, and their PNG files run to tens of MiB). Use a smaller hr_scale or "
            "hr_resize_x / hr_resize_y."
        )


def _check_generation(body: dict[str, Any], img2img: bool) -> None:
    model = Img2ImgRequest if img2img else Txt2ImgRequest
    bounded = {key: body[key] for key in _BOUNDED if body.get(key) is not None}
    if bounded:
        parse_model(model, bounded)
    script = str(body.get("script_name") or "").strip().lower()
    if script == CUSTOM_CODE:
        raise UnsafeInput("script_name 'Custom code' runs Python on the WebUI server; the plugin never sends it.")
    if script in _FOLDER_SCRIPTS:
        raise UnsafeInput(f"script_name {script[:60]!r} reads and writes folders on the server; never sent.")
    if script in PROMPTS_FROM_FILE:
        for arg in body.get("script_args") or []:
            if isinstance(arg, str):
                _check_prompt_lines(arg, model)
    if body.get("override_settings_restore_afterwards") is False:
        raise UnsafeInput(
            "override_settings_restore_afterwards: false would leave the settings of this request in place "
            "for everybody using the WebUI; the plugin always lets the WebUI restore them."
        )
    _check_settings(body.get("override_settings"), "override_settings", _WRITE_WORDS + _STATE_WORDS)
    scripts = body.get("alwayson_scripts") or {}
    for title, entry in scripts.items() if isinstance(scripts, dict) else []:
        name = str(title).strip().lower()
        args = entry.get("args") if isinstance(entry, dict) else None
        if name == CUSTOM_CODE:
            raise UnsafeInput("alwayson_scripts 'Custom code' runs Python on the WebUI server; never sent.")
        if name == "controlnet":
            _check_controlnet(args)
        elif name == "adetailer":
            _check_adetailer(args)
    for index, image in enumerate(body.get("init_images") or []):
        _check_image_text(image, "img2img", f"init_images[{index}]")
    for key in ("mask", "firstpass_image"):
        if body.get(key) is not None:
            _check_image_text(body[key], "img2img" if key == "mask" else "txt2img", key)
    _check_hires(body)
    _check_unknown_keys(body, _GENERATION_KEYS)


_EXTRAS_KEYS = frozenset(ExtrasRequest.model_fields) | {"image", "imageList"}


def _check_extras(body: dict[str, Any]) -> None:
    if "image" in body:
        _check_image_text(body["image"], "upscale", "image")
    for index, item in enumerate(body.get("imageList") or []):
        _check_image_text(item.get("data") if isinstance(item, dict) else item, "upscale", f"imageList[{index}]")
    _check_unknown_keys(body, _EXTRAS_KEYS)


def _exactly(*keys: str, image: bool = True) -> Callable[[dict[str, Any]], None]:
    def check(body: dict[str, Any]) -> None:
        unknown = sorted(str(key) for key in body if key not in keys)
        if unknown:
            raise UnsafeInput(f"The plugin does not send {unknown[0][:60]!r} to this route.")
        if image:
            _check_image_text(body.get("image"), "the request", "image")

    return check


_ROUTES: dict[str, Callable[[dict[str, Any]], None]] = {
    "/sdapi/v1/txt2img": lambda body: _check_generation(body, img2img=False),
    "/sdapi/v1/img2img": lambda body: _check_generation(body, img2img=True),
    "/agent-scheduler/v1/queue/txt2img": lambda body: _check_generation(body, img2img=False),
    "/agent-scheduler/v1/queue/img2img": lambda body: _check_generation(body, img2img=True),
    "/sdapi/v1/extra-single-image": _check_extras,
    "/sdapi/v1/extra-batch-images": _check_extras,
    "/sdapi/v1/png-info": _exactly("image"),
    "/sdapi/v1/interrogate": _exactly("image", "model"),
    "/internal/progress": _exactly("id_task", "id_live_preview", "live_preview", image=False),
}


def check_body(path: str, body: Any) -> None:
    """Raise UnsafeInput, InvalidParameter or InputImageError when ``body`` may not go to
    the route ``path``; a route the gate does not know gets no body at all."""
    check = _ROUTES.get(path.split("?", 1)[0])
    if check is None or not isinstance(body, dict):
        raise UnsafeInput(f"The plugin sends no request body to {path.split('?', 1)[0][:80]}.")
    _check_numbers(body)
    check(body)


def encode_body(path: str, body: Any) -> bytes:
    """``body`` checked for the route ``path`` (:func:`check_body`), then encoded."""
    check_body(path, body)
    try:
        return json.dumps(body, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidParameter(
            "The request holds text that is not valid Unicode (a lone UTF-16 surrogate, such as \\ud800); "
            "correct the text and try again."
        ) from None
