"""Pure builders: validated request + options + flavour -> the JSON body to POST.

Nothing here talks to the network, so every rule is unit-tested offline
(tests/unit/test_payload.py). Names are expected to be resolved already
(webui/server/resolve.py).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from webui.errors import InvalidParameter
from webui.images.sources import InputImage
from webui.requests.fields import MAX_PIXELS, size_near
from webui.requests.models import GenerationOptions, GenerationRequest, Img2ImgRequest, Txt2ImgRequest
from webui.server.flavour import Flavour

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


def _fitting_size(width: int, height: int, longest: int = 1536) -> tuple[int, int]:
    scale = min(1.0, longest / max(width, height))
    return size_near(int(width * scale)), size_near(int(height * scale))


def with_init_images(request: Img2ImgRequest, images: list[InputImage], mask: InputImage | None) -> Img2ImgRequest:
    """A1111's img2img input rules applied to ``request``.

    - images travel as base64 (A1111 would fetch URLs itself, but refuses local ones);
    - A1111 uses one init image per batch slot and fails with more images than slots,
      so several images set batch_size to their number;
    - width/height not given default to the first image's size rounded to a multiple
      of 8, within the same bounds as typed sizes.
    """
    update: dict[str, Any] = {
        "init_images": [image.base64() for image in images],
        "mask": mask.base64() if mask else None,
    }
    if len(images) > 1:
        update["batch_size"] = len(images)
    first = images[0].image
    for name, pixels in (("width", first.width), ("height", first.height)):
        if getattr(request, name) is None:
            update[name] = size_near(pixels)
            if update[name] > MAX_PIXELS:
                width, height = _fitting_size(first.width, first.height)
                raise InvalidParameter(
                    f"{name} defaults to the init image's {name}, but the image is {first.width}×{first.height} "
                    f"and the most this plugin sends is {MAX_PIXELS}: set width and height "
                    f"(for example {width}×{height}, the same shape)."
                )
    return request.model_copy(update=update)
