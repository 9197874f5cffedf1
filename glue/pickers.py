"""Server-backed pickers (dynamic-select) and how they coexist with free-text inputs.

Each picker is a `form: form` dynamic-select beside a free-text `form: llm` input that
a workflow variable or an agent can fill. The free value wins when it is not empty; the
picked value is the node's default. When the server cannot be reached, a picker shows
the last list it got for these credentials (or nothing) instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from dify_plugin.entities import I18nObject, ParameterOption

from glue.call import PICTURE_LIMIT, PROCESS_CACHE
from glue.credentials import server_config
from webui import CHOICES, WebUIClient, WebUIError


class Picker(NamedTuple):
    fills: str  # the free-text parameter it fills when that one is empty
    kind: str  # the kind of name it lists (webui.server.catalog.CHOICES)


PICKERS = {
    "pick_checkpoint": Picker("checkpoint", "checkpoint"),
    "pick_sampler": Picker("sampler_name", "sampler"),
    "pick_scheduler": Picker("scheduler", "scheduler"),
    "pick_vae": Picker("vae", "vae"),
    "pick_hr_upscaler": Picker("hr_upscaler", "hr_upscaler"),
    "pick_styles": Picker("styles", "style"),
    "pick_upscaler_1": Picker("upscaler_1", "upscaler"),
    "pick_controlnet_module": Picker("controlnet_module", "controlnet_module"),
    "pick_controlnet_model": Picker("controlnet_model", "controlnet_model"),
    "pick_adetailer_model": Picker("adetailer_model", "adetailer_model"),
}


def _empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def merge_picks(parameters: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``parameters`` without pickers; a picked value fills its empty free input."""
    merged = dict(parameters)
    for pick, picker in PICKERS.items():
        picked = merged.pop(pick, None)
        if not _empty(picked) and _empty(merged.get(picker.fills)):
            merged[picker.fills] = picked
    return merged


def picker_options(credentials: Mapping[str, Any], parameter: str) -> list[ParameterOption]:
    """Options for one picker; never raises. While the server cannot be reached, the last
    list it gave these credentials (glue/call.py's cache), or nothing."""
    picker = PICKERS.get(parameter)
    if picker is None:
        return []
    try:
        client = WebUIClient(server_config(credentials), PROCESS_CACHE, PICTURE_LIMIT, stale_lists=True)
        choices = CHOICES[picker.kind](client.catalog, client.flavour()) or []
    except WebUIError:
        return []
    return [ParameterOption(value=choice.value, label=I18nObject(en_US=choice.label)) for choice in choices]
