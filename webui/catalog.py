"""The server's own lists (checkpoints, samplers, ...), fetched once and cached briefly."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from webui.cache import LIST_TTL, TTLCache
from webui.errors import ApiDisabled, InvalidResponse, ServerRejected
from webui.flavour import Flavour
from webui.http import Transport
from webui.names import Choice

LATENT_MODES_FALLBACK = (
    "Latent",
    "Latent (antialiased)",
    "Latent (bicubic)",
    "Latent (bicubic antialiased)",
    "Latent (nearest)",
    "Latent (nearest-exact)",
)
# Values A1111 accepts for sd_vae besides the file names in /sdapi/v1/sd-vae.
VAE_BUILTINS = ("Automatic", "None")


def _items(data: Any, what: str) -> list[dict[str, Any]]:
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InvalidResponse(f"The server's {what} list is not a JSON list of objects.")
    return data


def _stem(path: str) -> str:
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


class Catalog:
    """Reads list endpoints through one cache; each list is fetched at most once per TTL."""

    def __init__(self, transport: Transport, cache: TTLCache, ttl: float = LIST_TTL) -> None:
        self._transport = transport
        self._cache = cache
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

        return self._cached(route, load)

    def _cached(self, name: str, load: Callable[[], Any]) -> Any:
        return self._cache.get_or_load((self._prefix, name), self._ttl, load)

    def checkpoints(self) -> list[Choice]:
        choices = []
        for item in _items(self.get("/sdapi/v1/sd-models", "checkpoints"), "checkpoint"):
            title = str(item.get("title") or item.get("model_name") or "")
            if not title:
                continue
            spellings = [str(item[key]) for key in ("model_name", "hash", "sha256") if item.get(key)]
            if item.get("filename"):
                filename = str(item["filename"]).replace("\\", "/").rsplit("/", 1)[-1]
                spellings += [filename, _stem(filename)]
            choices.append(Choice(title, title, tuple(spellings)))
        return choices

    def samplers(self) -> list[Choice]:
        return [
            Choice(str(item["name"]), spellings=tuple(str(a) for a in item.get("aliases") or ()))
            for item in _items(self.get("/sdapi/v1/samplers", "samplers"), "sampler")
            if item.get("name")
        ]

    def schedulers(self, flavour: Flavour) -> list[Choice] | None:
        """None when the server has no /schedulers route (A1111 ≤1.9, SD.Next)."""
        if not flavour.schedulers_route:
            return None
        data = self.get("/sdapi/v1/schedulers", "schedulers", optional=True)
        if data is None:
            return None
        return [
            Choice(
                str(item.get("label") or item["name"]),
                spellings=(str(item["name"]), *(str(a) for a in item.get("aliases") or ())),
            )
            for item in _items(data, "scheduler")
            if item.get("name")
        ]

    def upscalers(self) -> list[Choice]:
        """Latent modes and upscaler models: every value hr_upscaler accepts."""
        latent = self.get("/sdapi/v1/latent-upscale-modes", "latent upscale modes", optional=True)
        names = [str(item["name"]) for item in _items(latent, "latent mode")] if latent else list(LATENT_MODES_FALLBACK)
        upscalers = self.get("/sdapi/v1/upscalers", "upscalers")
        names += [str(item["name"]) for item in _items(upscalers, "upscaler") if item.get("name")]
        return [Choice(name) for name in dict.fromkeys(names)]

    def vaes(self, flavour: Flavour) -> list[Choice]:
        """Values for the VAE setting: file names from /sd-vae (Forge: /sd-modules)."""
        data = self.get(flavour.vae_route, "VAEs", optional=True) or []
        choices = [] if flavour.vae_setting == "forge_additional_modules" else [Choice(v) for v in VAE_BUILTINS]
        for item in _items(data, "VAE"):
            name = str(item.get("model_name") or "")
            filename = str(item.get("filename") or "")
            if not name:
                continue
            # Forge selects modules by the file path /sd-modules reports.
            value = filename if flavour.vae_setting == "forge_additional_modules" and filename else name
            choices.append(Choice(value, name, (name, filename, _stem(name))))
        return choices

    def loras(self) -> list[Choice] | None:
        """None when the server has no /sdapi/v1/loras (built-in Lora extension off, SD.Next outside diffusers)."""
        data = self.get("/sdapi/v1/loras", "LoRAs", optional=True)
        if data is None:
            return None
        choices = []
        for item in _items(data, "LoRA"):
            name, alias = str(item.get("name") or ""), str(item.get("alias") or "")
            if name:
                label = name if alias in ("", name) else f"{name} (alias {alias})"
                choices.append(Choice(name, label, (alias,) if alias else ()))
        return choices

    def hypernetworks(self) -> list[Choice]:
        data = self.get("/sdapi/v1/hypernetworks", "hypernetworks", optional=True) or []
        return [Choice(str(item["name"])) for item in _items(data, "hypernetwork") if item.get("name")]

    def styles(self) -> list[Choice]:
        data = self.get("/sdapi/v1/prompt-styles", "styles", optional=True) or []
        return [Choice(str(item["name"])) for item in _items(data, "style") if item.get("name")]

    def embeddings(self) -> list[str]:
        data = self.get("/sdapi/v1/embeddings", "embeddings", optional=True)
        loaded = data.get("loaded") if isinstance(data, dict) else None
        return sorted(loaded) if isinstance(loaded, dict) else []

    def controlnet(self) -> dict[str, list[str]] | None:
        """ControlNet models and modules, or None when the extension is not installed."""
        models = self.get("/controlnet/model_list", "ControlNet models", optional=True)
        if not isinstance(models, dict):
            return None
        modules = self.get("/controlnet/module_list", "ControlNet modules", optional=True)
        return {
            "models": [str(name) for name in models.get("model_list") or []],
            "modules": [str(name) for name in (modules or {}).get("module_list") or []],
        }
