"""Check every name in a request against the server's lists and make it canonical.

Only lists a request actually names are fetched. Sampler and scheduler are adapted
to the flavour: A1111 ≤1.8 wants "DPM++ 2M Karras", 1.9+ wants "DPM++ 2M" plus
scheduler "Karras" (1.9 answers 404 to the combined name).
"""

from __future__ import annotations

from typing import Any

from webui.errors import InvalidParameter
from webui.requests.fields import is_use_same
from webui.requests.models import GenerationOptions, GenerationRequest, Txt2ImgRequest
from webui.requests.prompt import find_tags, lora_tags, parse_lora_list, rename_tags
from webui.server.catalog import Catalog
from webui.server.flavour import Family, Flavour
from webui.server.names import Choice, resolve

PROMPT_FIELDS = ("prompt", "negative_prompt", "hr_prompt", "hr_negative_prompt")
AUTOMATIC = "Automatic"


def _is_automatic(scheduler: str) -> bool:
    return scheduler.strip().lower() == AUTOMATIC.lower()


def _listed(name: str, choices: list[Choice]) -> bool:
    folded = name.strip().casefold()
    return any(folded == spelling.casefold() for choice in choices for spelling in choice.names())


class NameResolver:
    def __init__(self, catalog: Catalog, flavour: Flavour) -> None:
        self.catalog = catalog
        self.flavour = flavour

    def checkpoint(self, name: str, field: str = "checkpoint") -> str:
        return resolve(field, name, self.catalog.checkpoints()).value

    def _split_legacy(self, sampler: str, samplers: list[Choice]) -> tuple[str, str | None]:
        """'DPM++ 2M Karras' -> ('DPM++ 2M', 'Karras') when the first part is a sampler."""
        for choice in self.catalog.schedulers(self.flavour):
            for name in choice.names():
                suffix = " " + name
                if sampler.lower().endswith(suffix.lower()):
                    head = sampler[: -len(suffix)]
                    if _listed(head, samplers):
                        return head, choice.value
        return sampler, None

    def sampler_and_scheduler(
        self, sampler: str | None, scheduler: str | None, field: str
    ) -> tuple[str | None, str | None]:
        """Canonical (sampler, scheduler) for this flavour; ``field`` prefixes messages."""
        if sampler is None and scheduler is None:
            return None, None
        samplers = self.catalog.samplers()
        if self.flavour.combined_sampler_names:
            if sampler is None:
                raise InvalidParameter(
                    f"{field}scheduler needs {field}sampler_name on this server ({self.flavour.label}): "
                    "it names samplers with their schedule, e.g. 'DPM++ 2M Karras'."
                )
            if scheduler and not _is_automatic(scheduler):
                sampler = f"{sampler.strip()} {scheduler.strip()}"
            return resolve(f"{field}sampler", sampler, samplers).value, None
        if scheduler is not None and self.flavour.family is Family.SDNEXT:
            if not _is_automatic(scheduler):
                raise InvalidParameter(
                    f"SD.Next has no per-request {field}scheduler; leave it empty and pick the "
                    "sampler's schedule in SD.Next's settings."
                )
            scheduler = None
        if sampler is not None and not _listed(sampler, samplers) and self.flavour.scheduler_field:
            sampler, implied = self._split_legacy(sampler.strip(), samplers)
            scheduler = scheduler if scheduler is not None else implied
        resolved_sampler = resolve(f"{field}sampler", sampler, samplers).value if sampler else None
        resolved_scheduler = None
        if scheduler is not None:
            resolved_scheduler = resolve(f"{field}scheduler", scheduler, self.catalog.schedulers(self.flavour)).value
        return resolved_sampler, resolved_scheduler

    def upscaler(self, name: str) -> str:
        return resolve("hr_upscaler", name, self.catalog.upscalers()).value

    def vae(self, name: str) -> str:
        return resolve("VAE", name, self.catalog.vaes(self.flavour)).value

    def styles(self, names: list[str]) -> list[str]:
        choices = self.catalog.styles()
        return [resolve("style", name, choices).value for name in names]

    def _network_names(self, request: GenerationRequest, extra_tags: str) -> dict[tuple[str, str], str]:
        """Canonical names for every <lora:...>/<hypernet:...> tag in the prompts."""
        tags = [tag for field in PROMPT_FIELDS for tag in find_tags(getattr(request, field, None) or "")]
        tags += find_tags(extra_tags)
        renames: dict[tuple[str, str], str] = {}
        if any(tag.kind == "lora" for tag in tags):
            loras = self.catalog.loras()
            if loras is not None:  # no /sdapi/v1/loras on this server: nothing to check against
                for tag in (t for t in tags if t.kind == "lora"):
                    renames[("lora", tag.name)] = resolve("LoRA", tag.name, loras).value
        if any(tag.kind == "hypernet" for tag in tags):
            hypernetworks = self.catalog.hypernetworks()
            for tag in (t for t in tags if t.kind == "hypernet"):
                renames[("hypernet", tag.name)] = resolve("hypernetwork", tag.name, hypernetworks).value
        return renames

    def prompts(self, request: GenerationRequest, options: GenerationOptions) -> dict[str, Any]:
        """Prompt updates: the loras list appended as tags, every tag's name checked."""
        if request.disable_extra_networks:
            return {}
        extra = lora_tags(parse_lora_list(options.loras)) if options.loras else ""
        renames = self._network_names(request, extra)
        update: dict[str, Any] = {}
        for field in PROMPT_FIELDS:
            text = getattr(request, field, None)
            if text:
                update[field] = rename_tags(text, renames)
        if extra:
            prompt = update.get("prompt", request.prompt)
            update["prompt"] = f"{prompt} {rename_tags(extra, renames)}".strip()
        return update

    def apply[R: GenerationRequest](self, request: R, options: GenerationOptions) -> tuple[R, GenerationOptions]:
        """Copies of request and options with every given name checked and canonical."""
        update: dict[str, Any] = self.prompts(request, options)
        if request.styles:
            update["styles"] = self.styles(request.styles)
        option_update: dict[str, Any] = {}
        if options.checkpoint:
            option_update["checkpoint"] = self.checkpoint(options.checkpoint)
        if options.vae:
            option_update["vae"] = self.vae(options.vae)
        settings = dict(request.override_settings or {})
        if "sd_vae" in settings and self.flavour.keeps_vae_override:
            raise InvalidParameter(
                f"override_settings.sd_vae is not sent to {self.flavour.label}: it does not restore an "
                "sd_vae override after the generation (Forge bug), so the VAE would stay the server's VAE for "
                "everybody. Use the vae input instead (sent per request as forge_additional_modules)."
            )
        if isinstance(settings.get("sd_model_checkpoint"), str):
            settings["sd_model_checkpoint"] = self.checkpoint(
                settings["sd_model_checkpoint"], "override_settings.sd_model_checkpoint"
            )
            update["override_settings"] = settings
        if isinstance(settings.get("sd_vae"), str):  # unknown ones are ignored (reForge, A1111)
            settings["sd_vae"] = resolve(
                "override_settings.sd_vae", settings["sd_vae"], self.catalog.vaes(self.flavour)
            ).value
            update["override_settings"] = settings
        for field in ("refiner_checkpoint", "hr_checkpoint_name"):
            value = getattr(request, field, None)
            if value is not None and not is_use_same(value) and value.strip().lower() != "none":
                update[field] = self.checkpoint(value, field)
        sampler, scheduler = self.sampler_and_scheduler(request.sampler_name, request.scheduler, "")
        update["sampler_name"], update["scheduler"] = sampler, scheduler
        if isinstance(request, Txt2ImgRequest):
            hr_sampler = None if is_use_same(request.hr_sampler_name) else request.hr_sampler_name
            hr_scheduler = None if is_use_same(request.hr_scheduler) else request.hr_scheduler
            if hr_scheduler is not None and hr_sampler is None and self.flavour.combined_sampler_names:
                hr_sampler = sampler
            update["hr_sampler_name"], update["hr_scheduler"] = self.sampler_and_scheduler(
                hr_sampler, hr_scheduler, "hr_"
            )
            if request.hr_upscaler:
                update["hr_upscaler"] = self.upscaler(request.hr_upscaler)
        return request.model_copy(update=update), options.model_copy(update=option_update)
