"""The server's own lists (checkpoints, samplers, ...), fetched once, cached briefly, and
parsed into typed items the way A1111's api/models.py declares them.

A list whose items do not have the declared shape is an InvalidResponse, never a raw
Python error. ``CHOICES`` is the one table from a kind of name to its fetcher; pickers,
list_resources and the name checks all read it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from webui.errors import ApiDisabled, InvalidResponse, ServerRejected, WebUIError
from webui.requests.fields import Name
from webui.server.cache import LIST_TTL, TTLCache
from webui.server.flavour import Family, Flavour
from webui.server.names import MAX_NAME_CHARS, Choice
from webui.transport.http import Transport

# Values A1111 accepts for sd_vae besides the file names in /sdapi/v1/sd-vae.
VAE_BUILTINS = ("Automatic", "None")
LATENT_MODES_FALLBACK = (
    "Latent",
    "Latent (antialiased)",
    "Latent (bicubic)",
    "Latent (bicubic antialiased)",
    "Latent (nearest)",
    "Latent (nearest-exact)",
)
# Scheduler labels of A1111 1.9, which has the field but no /schedulers list.
A1111_19_SCHEDULERS = ("Automatic", "Uniform", "Karras", "Exponential", "Polyexponential", "SGM Uniform")

Text = Annotated[str, StringConstraints(max_length=65536)]


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")


class CheckpointItem(_Item):
    title: Name
    model_name: Name | None = None
    hash: Name | None = None
    sha256: Name | None = None
    filename: Text | None = None


class SamplerItem(_Item):
    name: Name
    aliases: list[Name] = Field(default_factory=list)


class SchedulerItem(_Item):
    name: Name
    label: Name | None = None
    aliases: list[Name] | None = None


class NamedItem(_Item):
    """Upscalers, latent modes, hypernetworks, styles: items known by ``name``."""

    name: Name


class VaeItem(_Item):
    model_name: Name
    filename: Text | None = None


class LoraItem(_Item):
    name: Name
    alias: Name | None = None


class Embeddings(_Item):
    # A1111: {name: details}; SD.Next: a list (sdnext/get_embeddings.json; only empty ones were
    # recorded, so names or {"name": ...} items are both read)
    loaded: dict[Name, Any] | list[Any] = Field(default_factory=dict)

    def names(self) -> list[str]:
        if isinstance(self.loaded, dict):
            return sorted(self.loaded)
        found = [item.get("name") if isinstance(item, dict) else item for item in self.loaded]
        return sorted(name for name in found if isinstance(name, str) and name)


class ControlNetModels(_Item):
    model_list: list[Name]


class ControlNetModules(_Item):
    module_list: list[Name] = Field(default_factory=list)


class ADetailerModels(_Item):
    ad_model: list[Name]


class ScriptInfo(_Item):
    name: Name
    is_alwayson: bool = False
    is_img2img: bool = False
    args: list[Any] = Field(default_factory=list)


def parse_items[T](data: Any, kind: type[T], what: str) -> T:
    """``data`` validated as ``kind``; InvalidResponse naming the list otherwise."""
    try:
        return TypeAdapter(kind).validate_python(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "the answer"
        raise InvalidResponse(
            f"The server's {what} list is not in the shape A1111 uses ({where}: {first['msg']})."
        ) from None
    except RecursionError:
        raise InvalidResponse(f"The server's {what} list is nested too deeply.") from None


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


class Catalog:
    """Reads list endpoints through one cache; each list is fetched at most once per TTL."""

    def __init__(self, transport: Transport, cache: TTLCache, ttl: float = LIST_TTL, stale_lists: bool = False) -> None:
        self._transport = transport
        self._cache = cache
        # With stale_lists, a list the server cannot give now is the last one it gave.
        self._stale_if = WebUIError if stale_lists else ()
        self._ttl = ttl
        self._prefix = transport.config.fingerprint()

    def get(self, route: str, what: str, *, optional: bool = False) -> Any:
        """GET ``route`` through the cache; with ``optional``, a missing route gives None."""

        def load() -> Any:
            try:
                return self._transport.call("GET", route, action=f"list the {what}")
            except ApiDisabled:
                if optional:
                    return None
                raise
            except ServerRejected as error:
                if optional and error.status == 404:
                    return None
                raise

        return self._cache.get_or_load((self._prefix, route), self._ttl, load, self._stale_if)

    def checkpoint_items(self) -> list[CheckpointItem]:
        return parse_items(self.get("/sdapi/v1/sd-models", "checkpoints"), list[CheckpointItem], "checkpoint")

    def checkpoints(self, flavour: Flavour | None = None) -> list[Choice]:
        choices = []
        for item in self.checkpoint_items():
            spellings = [value for value in (item.model_name, item.hash, item.sha256) if value]
            if item.filename:
                filename = item.filename.replace("\\", "/").rsplit("/", 1)[-1][:MAX_NAME_CHARS]
                spellings += [filename, _stem(filename)]
            choices.append(Choice(item.title, item.title, tuple(spellings)))
        return choices

    def samplers(self, flavour: Flavour | None = None) -> list[Choice]:
        items = parse_items(self.get("/sdapi/v1/samplers", "samplers"), list[SamplerItem], "sampler")
        return [Choice(item.name, spellings=tuple(item.aliases)) for item in items]

    def schedulers(self, flavour: Flavour) -> list[Choice]:
        """The schedule types this server takes: its /schedulers list, A1111 1.9's fixed
        ones where that route is missing, none on SD.Next (no per-request scheduler)."""
        if flavour.family is Family.SDNEXT:
            return []
        data = self.get("/sdapi/v1/schedulers", "schedulers", optional=True) if flavour.schedulers_route else None
        if data is None:
            return [Choice(label, spellings=(label.lower().replace(" ", "_"),)) for label in A1111_19_SCHEDULERS]
        items = parse_items(data, list[SchedulerItem], "scheduler")
        return [Choice(item.label or item.name, spellings=(item.name, *(item.aliases or ()))) for item in items]

    def upscalers(self, flavour: Flavour | None = None) -> list[Choice]:
        """Latent modes and upscaler models: every value hr_upscaler accepts."""
        latent = self.get("/sdapi/v1/latent-upscale-modes", "latent upscale modes", optional=True)
        names = (
            [item.name for item in parse_items(latent, list[NamedItem], "latent mode")]
            if latent is not None
            else list(LATENT_MODES_FALLBACK)
        )
        names += [choice.value for choice in self.upscaler_models()]
        return [Choice(name) for name in dict.fromkeys(names)]

    def upscaler_models(self, flavour: Flavour | None = None) -> list[Choice]:
        """The upscaler models of /sdapi/v1/upscalers (what the Extras tab accepts)."""
        items = parse_items(self.get("/sdapi/v1/upscalers", "upscalers"), list[NamedItem], "upscaler")
        return [Choice(item.name) for item in items]

    def vaes(self, flavour: Flavour) -> list[Choice]:
        """Values for the VAE setting: file names from /sd-vae (Forge: module paths from /sd-modules)."""
        data = self.get(flavour.vae_route, "VAEs", optional=True) or []
        choices = [] if flavour.is_forge else [Choice(v) for v in VAE_BUILTINS]
        for item in parse_items(data, list[VaeItem], "VAE"):
            # Forge selects modules by the file path /sd-modules reports.
            value = item.filename if flavour.is_forge and item.filename else item.model_name
            choices.append(
                Choice(value, item.model_name, (item.model_name, item.filename or "", _stem(item.model_name)))
            )
        return choices

    def loras(self, flavour: Flavour | None = None) -> list[Choice] | None:
        """None when the server has no /sdapi/v1/loras (built-in Lora extension off, SD.Next outside diffusers)."""
        data = self.get("/sdapi/v1/loras", "LoRAs", optional=True)
        if data is None:
            return None
        choices = []
        for item in parse_items(data, list[LoraItem], "LoRA"):
            alias = item.alias or ""
            label = item.name if alias in ("", item.name) else f"{item.name} (alias {alias})"
            choices.append(Choice(item.name, label, (alias,) if alias else ()))
        return choices

    def hypernetworks(self, flavour: Flavour | None = None) -> list[Choice]:
        data = self.get("/sdapi/v1/hypernetworks", "hypernetworks", optional=True) or []
        return [Choice(item.name) for item in parse_items(data, list[NamedItem], "hypernetwork")]

    def styles(self, flavour: Flavour | None = None) -> list[Choice]:
        data = self.get("/sdapi/v1/prompt-styles", "styles", optional=True) or []
        return [Choice(item.name) for item in parse_items(data, list[NamedItem], "style")]

    def embeddings(self) -> list[str]:
        data = self.get("/sdapi/v1/embeddings", "embeddings", optional=True)
        return parse_items(data, Embeddings, "embedding").names() if data is not None else []

    def controlnet_models(self) -> list[str] | None:
        """ControlNet models, or None when no ControlNet (extension or Forge's built-in) is there."""
        data = self.get("/controlnet/model_list", "ControlNet models", optional=True)
        return None if data is None else parse_items(data, ControlNetModels, "ControlNet model").model_list

    def controlnet_modules(self) -> list[str] | None:
        data = self.get("/controlnet/module_list", "ControlNet modules", optional=True)
        return None if data is None else parse_items(data, ControlNetModules, "ControlNet module").module_list

    def adetailer_models(self) -> list[str] | None:
        """ADetailer's detection models, or None when the extension is not installed."""
        data = self.get("/adetailer/v1/ad_model", "ADetailer models", optional=True)
        return None if data is None else parse_items(data, ADetailerModels, "ADetailer model").ad_model

    def script_slots(self, title: str, img2img: bool) -> int | None:
        """How many arguments the always-on script ``title`` takes (its UI components), from
        /sdapi/v1/script-info; None when the server does not say."""
        data = self.get("/sdapi/v1/script-info", "scripts", optional=True)
        if data is None:
            return None
        for script in parse_items(data, list[ScriptInfo], "script"):
            if script.name.lower() == title.lower() and script.is_alwayson and script.is_img2img == img2img:
                return len(script.args)
        return None


# Every kind of name a person picks, and where its valid values come from.
CHOICES: dict[str, Callable[[Catalog, Flavour], list[Choice] | None]] = {
    "checkpoint": Catalog.checkpoints,
    "sampler": Catalog.samplers,
    "scheduler": Catalog.schedulers,
    "vae": Catalog.vaes,
    "hr_upscaler": Catalog.upscalers,
    "upscaler": Catalog.upscaler_models,
    "controlnet_module": lambda catalog, flavour: [Choice(name) for name in catalog.controlnet_modules() or []],
    "controlnet_model": lambda catalog, flavour: [Choice(name) for name in catalog.controlnet_models() or []],
    "adetailer_model": lambda catalog, flavour: [Choice(name) for name in catalog.adetailer_models() or []],
    "style": Catalog.styles,
    "lora": Catalog.loras,
    "hypernetwork": Catalog.hypernetworks,
}
