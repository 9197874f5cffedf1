"""Everything a client can name on the server, for people and agents choosing names."""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from webui.client import WebUIClient
from webui.errors import InvalidParameter
from webui.server.catalog import CHOICES
from webui.server.names import Choice


class ResourceKind(StrEnum):
    """The lists list_resources can give, in the order it gives them."""

    CHECKPOINTS = "checkpoints"
    SAMPLERS = "samplers"
    SCHEDULERS = "schedulers"
    UPSCALERS = "upscalers"
    LORAS = "loras"
    EMBEDDINGS = "embeddings"
    STYLES = "styles"
    VAES = "vaes"
    HYPERNETWORKS = "hypernetworks"
    CONTROLNET = "controlnet"


def parse_kinds(text: str | None) -> list[ResourceKind]:
    """'checkpoints, loras' -> those kinds in KINDS order; empty -> all."""
    wanted = [part.strip().lower() for part in (text or "").replace("\n", ",").split(",") if part.strip()]
    unknown = [kind for kind in wanted if kind not in set(ResourceKind)]
    if unknown:
        raise InvalidParameter(
            f"include: unknown list {', '.join(map(repr, unknown))}; choose from {', '.join(ResourceKind)}."
        )
    return [kind for kind in ResourceKind if kind in wanted] if wanted else list(ResourceKind)


def _names(choices: list[Choice] | None, attribute: str = "value") -> list[str] | None:
    return None if choices is None else [getattr(choice, attribute) for choice in choices]


def list_resources(client: WebUIClient, kinds: list[ResourceKind]) -> dict[str, Any]:
    """The server's names per kind (each list fetched once, through the cache)."""
    flavour = client.flavour()
    catalog = client.catalog

    def choices(kind: str) -> list[Choice] | None:
        return CHOICES[kind](catalog, flavour)

    def loras() -> list[dict[str, Any]] | None:
        listed = choices("lora")
        if listed is None:
            return None
        return [{"name": choice.value, "alias": (choice.spellings or (choice.value,))[0]} for choice in listed]

    def controlnet() -> dict[str, list[str]] | None:
        models = catalog.controlnet_models()
        return None if models is None else {"models": models, "modules": catalog.controlnet_modules() or []}

    fetch: dict[ResourceKind, Callable[[], Any]] = {
        ResourceKind.CHECKPOINTS: lambda: [
            {"title": item.title, "model_name": item.model_name, "hash": item.hash}
            for item in catalog.checkpoint_items()
        ],
        ResourceKind.SAMPLERS: lambda: _names(choices("sampler")),
        ResourceKind.SCHEDULERS: lambda: _names(choices("scheduler")),
        ResourceKind.UPSCALERS: lambda: _names(choices("hr_upscaler")),
        ResourceKind.LORAS: loras,
        ResourceKind.EMBEDDINGS: catalog.embeddings,
        ResourceKind.STYLES: lambda: _names(choices("style")),
        ResourceKind.VAES: lambda: _names(choices("vae"), "label"),
        ResourceKind.HYPERNETWORKS: lambda: _names(choices("hypernetwork")),
        ResourceKind.CONTROLNET: controlnet,
    }
    result: dict[str, Any] = {"server": {**flavour.describe(), "base_url": client.config.base_url}}
    for kind in kinds:
        result[kind] = fetch[kind]()
    return result
