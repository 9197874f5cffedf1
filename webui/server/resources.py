"""Everything a client can name on the server, for people and agents choosing names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webui.client import WebUIClient
from webui.errors import InvalidParameter
from webui.server.catalog import CHOICES
from webui.server.names import Choice

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


def _names(choices: list[Choice] | None, attribute: str = "value") -> list[str] | None:
    return None if choices is None else [getattr(choice, attribute) for choice in choices]


def list_resources(client: WebUIClient, kinds: list[str]) -> dict[str, Any]:
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

    fetch: dict[str, Callable[[], Any]] = {
        "checkpoints": lambda: [
            {"title": item.title, "model_name": item.model_name, "hash": item.hash}
            for item in catalog.checkpoint_items()
        ],
        "samplers": lambda: _names(choices("sampler")),
        "schedulers": lambda: _names(choices("scheduler")),
        "upscalers": lambda: _names(choices("hr_upscaler")),
        "loras": loras,
        "embeddings": catalog.embeddings,
        "styles": lambda: _names(choices("style")),
        "vaes": lambda: _names(choices("vae"), "label"),
        "hypernetworks": lambda: _names(choices("hypernetwork")),
        "controlnet": controlnet,
    }
    result: dict[str, Any] = {"server": {**flavour.describe(), "base_url": client.config.base_url}}
    for kind in kinds:
        result[kind] = fetch[kind]()
    return result
