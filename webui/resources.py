"""Everything a client can name on the server, for people and agents choosing names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webui.client import WebUIClient
from webui.errors import InvalidParameter
from webui.resolve import NameResolver

KINDS = (
    "checkpoints",
    "samplers",
    "schedulers",
    "upscalers",
    "loras",
    "embeddings",
    "styles",
    "vaes",
    "hypernetworks",
    "controlnet",
)


def parse_kinds(text: str | None) -> list[str]:
    """'checkpoints, loras' -> those kinds in KINDS order; empty -> all."""
    wanted = [part.strip().lower() for part in (text or "").replace("\n", ",").split(",") if part.strip()]
    unknown = [kind for kind in wanted if kind not in KINDS]
    if unknown:
        raise InvalidParameter(
            f"include: unknown list {', '.join(map(repr, unknown))}; choose from {', '.join(KINDS)}."
        )
    return [kind for kind in KINDS if kind in wanted] if wanted else list(KINDS)


def list_resources(client: WebUIClient, kinds: list[str]) -> dict[str, Any]:
    """The server's names per kind (each list fetched once, through the cache)."""
    flavour = client.flavour()
    catalog = client.catalog
    resolver = NameResolver(catalog, flavour)

    def checkpoints() -> list[dict[str, Any]]:
        raw = catalog.get("/sdapi/v1/sd-models", "checkpoints")
        return [{"title": m.get("title"), "model_name": m.get("model_name"), "hash": m.get("hash")} for m in raw]

    def loras() -> list[dict[str, Any]] | None:
        listed = catalog.loras()
        if listed is None:
            return None
        return [{"name": choice.value, "alias": (choice.spellings or (choice.value,))[0]} for choice in listed]

    fetch: dict[str, Callable[[], Any]] = {
        "checkpoints": checkpoints,
        "samplers": lambda: [choice.value for choice in catalog.samplers()],
        "schedulers": lambda: [choice.value for choice in resolver.scheduler_choices()],
        "upscalers": lambda: [choice.value for choice in catalog.upscalers()],
        "loras": loras,
        "embeddings": catalog.embeddings,
        "styles": lambda: [choice.value for choice in catalog.styles()],
        "vaes": lambda: [choice.label for choice in catalog.vaes(flavour)],
        "hypernetworks": lambda: [choice.value for choice in catalog.hypernetworks()],
        "controlnet": catalog.controlnet,
    }
    result: dict[str, Any] = {"server": {**flavour.describe(), "base_url": client.config.base_url}}
    for kind in kinds:
        result[kind] = fetch[kind]()
    return result
