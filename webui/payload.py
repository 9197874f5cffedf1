"""Pure builders: validated request + options + flavour -> the JSON body to POST.

Nothing here talks to the network, so every rule is unit-tested offline
(tests/unit/test_payload.py). Names are expected to be resolved already
(webui/resolve.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webui.flavour import Flavour
from webui.models import GenerationOptions, GenerationRequest, Img2ImgRequest, Txt2ImgRequest

# A1111's UI default for the hires-fix denoising strength; the API has none and fails
# with a TypeError 500 after the whole first pass when it is missing.
HIRES_DENOISING_DEFAULT = 0.7
FORGE_SAME_MODULES = ["Use same choices"]


def split_extra(model: type[BaseModel], extra: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """extra_payload keys the model knows (validated like typed inputs) and the rest (passed through)."""
    known: dict[str, Any] = {}
    unknown: dict[str, Any] = {}
    for key, value in (extra or {}).items():
        (known if key in model.model_fields else unknown)[key] = value
    return known, unknown


def round_to_8(pixels: int) -> int:
    return max(64, round(pixels / 8) * 8)


def _override_settings(request: GenerationRequest, options: GenerationOptions, flavour: Flavour) -> dict[str, Any]:
    settings = dict(request.override_settings or {})
    if options.checkpoint:
        settings["sd_model_checkpoint"] = options.checkpoint
    if options.vae:
        key = flavour.vae_setting
        settings[key] = [options.vae] if key == "forge_additional_modules" else options.vae
    if options.clip_skip is not None and not flavour.clip_skip_is_field:
        settings["CLIP_stop_at_last_layers"] = options.clip_skip
    return settings


def _adapt_samplers(body: dict[str, Any], flavour: Flavour) -> None:
    if not flavour.scheduler_field:
        body.pop("scheduler", None)
        body.pop("hr_scheduler", None)


def _adapt_hires(body: dict[str, Any], flavour: Flavour) -> None:
    if not body.get("enable_hr"):
        return
    if body.get("denoising_strength") is None:
        body["denoising_strength"] = HIRES_DENOISING_DEFAULT
    if flavour.sends_hr_cfg:
        body.setdefault("hr_cfg", body["cfg_scale"])
    if flavour.needs_hr_additional_modules:
        body.setdefault("hr_additional_modules", list(FORGE_SAME_MODULES))


def build_payload(
    request: GenerationRequest,
    options: GenerationOptions,
    flavour: Flavour,
    passthrough: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON body for txt2img or img2img on ``flavour``.

    ``passthrough`` holds extra_payload keys the model does not know; they are merged
    last and win, as A1111 ignores keys it does not know.
    """
    body = request.model_dump(mode="json", exclude_none=True)
    settings = _override_settings(request, options, flavour)
    if settings:
        body["override_settings"] = settings
    if options.clip_skip is not None and flavour.clip_skip_is_field:
        body["clip_skip"] = options.clip_skip
    _adapt_samplers(body, flavour)
    if isinstance(request, Txt2ImgRequest):
        _adapt_hires(body, flavour)
    body.update(passthrough or {})
    return body


def fill_img2img_size(request: Img2ImgRequest, init_size: tuple[int, int] | None) -> Img2ImgRequest:
    """Width/height not given: the first init image's size, rounded to a multiple of 8."""
    if init_size is None or (request.width is not None and request.height is not None):
        return request
    width, height = init_size
    return request.model_copy(
        update={
            "width": request.width if request.width is not None else round_to_8(width),
            "height": request.height if request.height is not None else round_to_8(height),
        }
    )
