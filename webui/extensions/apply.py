"""ControlNet and ADetailer units into a request's ``alwayson_scripts``, checked first.

A server without the extension is an error naming it; more units than the server has
slots for is an error naming the setting (A1111 copies only as many always-on arguments
as the script has slots, and drops the rest without a word); a user's own
``alwayson_scripts`` entry for the script is kept, after the plugin's units.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from webui.errors import ExtensionMissing, InvalidParameter
from webui.extensions import adetailer, controlnet
from webui.images.sources import InputImage
from webui.requests.models import GenerationOptions, GenerationRequest, Img2ImgRequest
from webui.server.catalog import Catalog
from webui.server.flavour import Flavour


@dataclass
class ControlImages:
    """The ControlNet images a tool call brought: the typed unit's, and the numbered list."""

    typed: InputImage | None = None
    listed: list[InputImage] = field(default_factory=list)


def _entry(scripts: dict[str, Any], title: str) -> tuple[str, list[Any]]:
    """The user's own entry for ``title`` (A1111 matches titles in any case) and its args."""
    for key, value in scripts.items():
        if str(key).lower() == title.lower():
            args = value.get("args") if isinstance(value, dict) else None
            return key, list(args) if isinstance(args, list) else []
    return title, []


def _check_slots(total: int, slots: int | None, what: str, setting: str) -> None:
    if slots is not None and total > slots:
        raise InvalidParameter(
            f"This request has {total} {what} but the server has {slots} slot(s); the WebUI would drop the rest "
            f"without a word. Send at most {slots}, or raise '{setting}' in the WebUI's settings (then reload its UI)."
        )


def _controlnet(scripts: dict[str, Any], units: list[controlnet.ControlNetUnit], catalog: Catalog,
                flavour: Flavour, img2img: bool) -> None:  # fmt: skip
    models = catalog.controlnet_models()
    if models is None:
        raise ExtensionMissing(
            "ControlNet is not installed on this WebUI: install sd-webui-controlnet (Extensions → "
            "Available, or https://github.com/Mikubill/sd-webui-controlnet) and restart it. Forge and "
            "reForge have ControlNet built in."
        )
    key, existing = _entry(scripts, controlnet.TITLE)
    args = controlnet.unit_args(units, models, catalog.controlnet_modules() or [], flavour)
    slots = catalog.script_slots(controlnet.TITLE, img2img)
    _check_slots(len(args) + len(existing), slots, "ControlNet units", controlnet.SLOTS_SETTING)
    scripts[key] = {"args": args + existing}


def _adetailer(scripts: dict[str, Any], units: list[adetailer.ADetailerUnit], catalog: Catalog, img2img: bool) -> None:
    models = catalog.adetailer_models()
    if models is None:
        raise ExtensionMissing(
            "ADetailer is not installed on this WebUI: install it (Extensions → Available → ADetailer, or "
            "https://github.com/Bing-su/adetailer) and restart the WebUI."
        )
    key, existing = _entry(scripts, adetailer.TITLE)
    leading = [arg for arg in existing[: adetailer.LEADING_ARGS] if isinstance(arg, bool)]
    theirs = existing[len(leading) :]
    args = adetailer.unit_args(units, models) + theirs
    slots = catalog.script_slots(adetailer.TITLE, img2img)
    unit_slots = None if slots is None else max(slots - adetailer.LEADING_ARGS, 0)
    _check_slots(len(args), unit_slots, "ADetailer units", adetailer.SLOTS_SETTING)
    enable = leading[0] if leading else True
    skip_img2img = leading[1] if len(leading) > 1 else False
    scripts[key] = {"args": [enable, skip_img2img, *args]}


def with_extensions[R: GenerationRequest](
    request: R,
    options: GenerationOptions,
    images: ControlImages,
    catalog: Catalog,
    flavour: Flavour,
) -> R:
    """``request`` with the ControlNet and ADetailer units its options ask for."""
    control_units = controlnet.requested_units(options, images.typed, images.listed)
    detailer_units = adetailer.requested_units(options)
    if not control_units and not detailer_units:
        return request
    img2img = isinstance(request, Img2ImgRequest)
    scripts = dict(request.alwayson_scripts or {})
    if control_units:
        _controlnet(scripts, control_units, catalog, flavour, img2img)
    if detailer_units:
        _adetailer(scripts, detailer_units, catalog, img2img)
    return request.model_copy(update={"alwayson_scripts": scripts})
