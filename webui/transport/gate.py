"""The trust boundary for request content: what an agent may not make the WebUI do.

Tool inputs may be chosen by an LLM that a prompt-injected page steers, and the WebUI is
shared. So no request from this plugin may run code on the server, write files outside
the operator's output folders, change where or how files are written, leave settings
changed after the request, or slip values past the bounds the typed parameters have.
docs/security.md explains each rule and where in A1111/Forge it comes from.
"""

from __future__ import annotations

import shlex
from typing import Any

from pydantic import BaseModel

from webui.errors import InvalidParameter, UnsafeInput
from webui.images.formats import looks_like_base64
from webui.requests.fields import parse_model
from webui.requests.models import GenerationRequest

CUSTOM_CODE = "custom code"
PROMPTS_FROM_FILE = "prompts from file or textbox"
# scripts/prompts_from_file.py: run(p, checkbox_iterate, checkbox_iterate_batch, prompt_position, prompt_txt)
_PROMPT_TEXT_ARG = 3
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
# the API's own restrictions, the config snapshot to restore at start.
_STATE_WORDS = ("cache", "extension", "restore_config", "api_")
# ControlNet unit fields (sd-webui-controlnet, Forge's built-in) that read or write server folders.
_CONTROLNET_PATH_FIELDS = (
    "batch_images",
    "batch_image_dir",
    "batch_mask_dir",
    "batch_image_files",
    "batch_input_gallery",
    "batch_mask_gallery",
    "output_dir",
)
_CONTROLNET_SIMPLE_MODES = {"simple", "single image", "single_image", ""}
_CONTROLNET_IMAGE_FIELDS = ("image", "mask", "mask_image", "input_image", "image_fg", "mask_image_fg")


def _named_like(key: str, words: tuple[str, ...]) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in words)


def _check_settings(settings: dict[str, Any] | None, field: str, words: tuple[str, ...]) -> None:
    refused = sorted(str(key) for key in settings or {} if _named_like(str(key), words))
    if refused:
        shown = ", ".join(repr(key[:60]) for key in refused[:5])
        raise UnsafeInput(
            f"{field}: {shown} would change where or whether the WebUI writes files, or change the server "
            "beyond this request; the plugin does not send such settings. Ask the WebUI's operator to set them."
        )


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


def _check_controlnet(args: Any) -> None:
    units = args if isinstance(args, list) else []
    for index, unit in enumerate(units):
        if not isinstance(unit, dict):
            continue
        where = f"ControlNet unit {index + 1}"
        paths = [key for key in _CONTROLNET_PATH_FIELDS if unit.get(key)]
        mode = str(unit.get("input_mode", "") or "").strip().lower()
        if paths or mode not in _CONTROLNET_SIMPLE_MODES:
            what = f"'{paths[0]}'" if paths else f"input_mode {mode[:30]!r}"
            raise UnsafeInput(
                f"{where}: {what} makes the WebUI read or write a folder on the server; "
                "the plugin sends control images itself."
            )
        if unit.get("ipadapter_input") is not None:
            raise UnsafeInput(
                f"{where}: ipadapter_input is unpickled by sd-webui-controlnet (torch.load), which runs code "
                "on the server; the plugin never sends it."
            )
        for key in _CONTROLNET_IMAGE_FIELDS:
            value = unit.get(key)
            if isinstance(value, str) and value and not (value.startswith("data:") or looks_like_base64(value)):
                raise UnsafeInput(
                    f"{where}: '{key}' is neither base64 nor a data: URI; sd-webui-controlnet reads such a text "
                    "as a file path on the server."
                )


def check_extra_payload(passthrough: dict[str, Any] | None) -> None:
    """Unknown top-level keys: A1111 ignores them, other servers may read file options from them."""
    _check_settings(passthrough, "extra_payload", _WRITE_WORDS)
    if passthrough and "callback_url" in passthrough:
        raise UnsafeInput(
            "extra_payload: callback_url makes the WebUI's queue post the pictures to that address; "
            "the plugin never sends it."
        )


def check_request(request: GenerationRequest, passthrough: dict[str, Any] | None = None) -> None:
    """Raise UnsafeInput (or InvalidParameter for bounds) for anything the trust rules refuse."""
    script = (request.script_name or "").strip().lower()
    if script == CUSTOM_CODE:
        raise UnsafeInput("script_name 'Custom code' runs Python on the WebUI server; the plugin never sends it.")
    if script == PROMPTS_FROM_FILE and request.script_args and len(request.script_args) > _PROMPT_TEXT_ARG:
        text = request.script_args[_PROMPT_TEXT_ARG]
        if isinstance(text, str):
            _check_prompt_lines(text, type(request))
    if request.override_settings_restore_afterwards is False:
        raise UnsafeInput(
            "override_settings_restore_afterwards: false would leave the settings of this request in place "
            "for everybody using the WebUI; the plugin always lets the WebUI restore them."
        )
    _check_settings(request.override_settings, "override_settings", _WRITE_WORDS + _STATE_WORDS)
    for title, entry in (request.alwayson_scripts or {}).items():
        if str(title).strip().lower() == CUSTOM_CODE:
            raise UnsafeInput("alwayson_scripts 'Custom code' runs Python on the WebUI server; never sent.")
        if str(title).strip().lower() == "controlnet" and isinstance(entry, dict):
            _check_controlnet(entry.get("args"))
    check_extra_payload(passthrough)
