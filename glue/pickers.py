"""Server-backed pickers (dynamic-select) and how they coexist with free-text inputs.

Each picker is a `form: form` dynamic-select beside a free-text `form: llm` input that
a workflow variable or an agent can fill. The free value wins when it is not empty; the
picked value is the node's default. When the server cannot be reached, a picker shows
the last list it got for these credentials (or nothing) instead of failing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from dify_plugin.entities import I18nObject, ParameterOption

from glue.credentials import server_config
from webui.client import WebUIClient
from webui.errors import WebUIError
from webui.names import Choice
from webui.resolve import NameResolver

# picker parameter -> the free-text parameter it fills when that one is empty
PICKERS = {
    "pick_checkpoint": "checkpoint",
    "pick_sampler": "sampler_name",
    "pick_scheduler": "scheduler",
    "pick_vae": "vae",
    "pick_hr_upscaler": "hr_upscaler",
    "pick_styles": "styles",
}
_LAST_GOOD: dict[tuple[str, str], list[Choice]] = {}
_LOCK = threading.Lock()


def _empty(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def merge_picks(parameters: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``parameters`` without pickers; a picked value fills its empty free input."""
    merged = dict(parameters)
    for pick, target in PICKERS.items():
        picked = merged.pop(pick, None)
        if not _empty(picked) and _empty(merged.get(target)):
            merged[target] = picked
    return merged


def _fetchers(client: WebUIClient) -> dict[str, Callable[[], list[Choice]]]:
    catalog = client.catalog
    return {
        "pick_checkpoint": catalog.checkpoints,
        "pick_sampler": catalog.samplers,
        "pick_scheduler": lambda: NameResolver(catalog, client.flavour()).scheduler_choices(),
        "pick_vae": lambda: catalog.vaes(client.flavour()),
        "pick_hr_upscaler": catalog.upscalers,
        "pick_styles": catalog.styles,
    }


def picker_options(credentials: Mapping[str, Any], parameter: str) -> list[ParameterOption]:
    """Options for one picker; never raises for an unreachable or misconfigured server."""
    try:
        config = server_config(credentials)
    except WebUIError:
        return []
    fetch = _fetchers(WebUIClient(config)).get(parameter)
    if fetch is None:
        return []
    key = (config.fingerprint(), parameter)
    try:
        choices = fetch()
    except WebUIError:
        with _LOCK:
            choices = _LAST_GOOD.get(key, [])
    else:
        with _LOCK:
            _LAST_GOOD[key] = choices
    return [ParameterOption(value=choice.value, label=I18nObject(en_US=choice.label)) for choice in choices]
