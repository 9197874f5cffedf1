"""What happens behind /sdapi/v1/txt2img and /img2img: A1111's rules, silent fallbacks and failures.

Each rule cites the capture or sheet line it reproduces. Errors are raised as
HTTPError (FastAPI HTTPException) or ServerError (any other exception -> 500); the
HTTP layer renders them in the flavour's own error format.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from tests.emulator import extensions, pictures
from tests.emulator.flavours import (
    DEFAULT_CHECKPOINTS,
    DEFAULT_EMBEDDINGS,
    DEFAULT_LORAS,
    DEFAULT_STYLES,
    DEFAULT_VAES,
    FORGE_MODULES,
    Flavour,
    capture,
)

MAX_SEED = 2**32 - 1
INPAINTING_FILL = ["fill", "original", "latent noise", "latent nothing"]
# Keys a fresh install has in config.json: overrides of any other key are never
# restored (options_after_override_leak.json).
FRESH_CONFIG_KEYS = {"sd_model_checkpoint", "sd_checkpoint_hash", "sd_vae"}


class HTTPError(Exception):
    """fastapi.HTTPException"""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status, self.detail = status, detail


class ServerError(Exception):
    """Any other exception inside a handler (500)."""

    def __init__(self, error_class: str, message: str) -> None:
        super().__init__(message)
        self.error_class, self.message = error_class, message


class FIFOLock:
    """modules.call_queue.queue_lock: generations run one at a time, first come first served."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self.waiting = 0

    def __enter__(self) -> None:
        with self._cond:
            ticket = self._next_ticket
            self._next_ticket += 1
            self.waiting += 1
            while ticket != self._serving:
                self._cond.wait()
            self.waiting -= 1

    def __exit__(self, *exc: object) -> None:
        with self._cond:
            self._serving += 1
            self._cond.notify_all()


@dataclass
class TaskQueue:
    """modules/progress.py: pending tasks (id -> arrival), the current one, the last finished."""

    pending: dict[str, float] = field(default_factory=dict)
    current: str | None = None
    finished: list[str] = field(default_factory=list)

    def add(self, task_id: str) -> None:
        self.pending[task_id] = time.time()

    def start(self, task_id: str) -> None:
        self.current = task_id
        self.pending.pop(task_id, None)

    def finish(self, task_id: str) -> None:
        if self.current == task_id:
            self.current = None
        self.finished = [*self.finished, task_id][-16:]


@dataclass
class Progress:
    job: str = ""
    job_count: int = 0
    job_no: int = 0
    sampling_step: int = 0
    sampling_steps: int = 0
    job_timestamp: str = "20261124000000"
    started: float = 0.0
    interrupted: bool = False
    skipped: bool = False
    task_id: str | None = None

    def internal(self, id_task: str | None, tasks: TaskQueue) -> dict[str, Any]:
        """modules/progress.py progressapi: where one task is (UI mode only)."""
        active, queued = id_task == tasks.current, id_task in tasks.pending
        completed = id_task in tasks.finished
        if not active:
            textinfo = "Waiting..."
            if queued:
                ordered = sorted(tasks.pending, key=lambda task: tasks.pending[task])
                textinfo = f"In queue: {ordered.index(id_task) + 1}/{len(ordered)}"
            return {"active": False, "queued": queued, "completed": completed, "progress": None, "eta": None,
                    "live_preview": None, "id_live_preview": -1, "textinfo": textinfo}  # fmt: skip
        fraction = 0.0
        if self.job_count > 0:
            fraction += self.job_no / self.job_count
            if self.sampling_steps > 0:
                fraction += 1 / self.job_count * self.sampling_step / self.sampling_steps
        fraction = min(fraction, 1)
        elapsed = time.monotonic() - self.started
        eta = elapsed / fraction - elapsed if fraction > 0 else None
        return {"active": True, "queued": queued, "completed": completed, "progress": fraction, "eta": eta,
                "live_preview": None, "id_live_preview": -1, "textinfo": None}  # fmt: skip

    def report(self) -> dict[str, Any]:
        total = max(self.sampling_steps, 1) * max(self.job_count, 1)
        done = self.sampling_steps * self.job_no + self.sampling_step
        fraction = done / total if self.job_count and done else (0.01 if self.job_count else 0.0)
        elapsed = time.monotonic() - self.started if self.job_count else 0.0
        return {
            "progress": fraction,
            "eta_relative": (elapsed / fraction - elapsed) if self.job_count and fraction else 0.0,
            "state": {
                "skipped": self.skipped,
                "interrupted": self.interrupted,
                "stopping_generation": False,
                "job": self.job,
                "job_count": self.job_count,
                "job_timestamp": self.job_timestamp,
                "job_no": self.job_no,
                "sampling_step": self.sampling_step,
                "sampling_steps": self.sampling_steps,
            },
            "current_image": None,
            "textinfo": None,
        }


def _lora_names(prompt: str) -> list[str]:
    """The names of <lora:NAME...> tags, as A1111's <(\\w+):([^>]+)> reads them (in linear time,
    so that hostile prompts cost the tests nothing)."""
    names, position, end = [], 0, -1
    while (start := prompt.find("<lora:", position)) != -1:
        if end < start:
            end = prompt.find(">", start)
        if end == -1:
            break
        name = prompt[start + 6 : end].split(":", 1)[0]
        if name:
            names.append(name)
        position = start + 1 if not name else end + 1
    return names


def _quoted(value: Any) -> Any:
    """infotext.quote: a value with a comma, colon or line break goes in JSON quotes."""
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if any(c in text for c in ",:\n") else value


@dataclass
class Engine:
    flavour: Flavour
    checkpoints: list[dict[str, Any]] = field(default_factory=lambda: [dict(c) for c in DEFAULT_CHECKPOINTS])
    loras: list[dict[str, Any]] = field(default_factory=lambda: [dict(item) for item in DEFAULT_LORAS])
    styles: list[dict[str, Any]] = field(default_factory=lambda: [dict(item) for item in DEFAULT_STYLES])
    embeddings: dict[str, Any] = field(default_factory=lambda: json.loads(json.dumps(DEFAULT_EMBEDDINGS)))
    vaes: list[dict[str, Any]] = field(default_factory=list)
    generation_delay: float = 0.0  # seconds a generation takes, spent in steps
    noise_images: bool = False  # incompressible pixels, for realistic PNG sizes
    config_keys: set[str] = field(default_factory=lambda: set(FRESH_CONFIG_KEYS))
    lock: FIFOLock = field(default_factory=FIFOLock)
    progress: Progress = field(default_factory=Progress)
    tasks: TaskQueue = field(default_factory=TaskQueue)
    options: dict[str, Any] = field(default_factory=dict)
    generations: int = 0
    extensions: set[str] = field(default_factory=lambda: {"lora"})
    # GET path (with query) -> (status, body) answered as recorded: the flavour's recorded lists
    recorded: dict[str, tuple[int, Any]] = field(default_factory=dict)
    controlnet_models: list[str] = field(default_factory=list)
    controlnet_modules: list[str] = field(default_factory=list)
    adetailer_models: list[str] = field(default_factory=lambda: list(extensions.ADETAILER_MODELS))

    def __post_init__(self) -> None:
        family = self.flavour.family
        if not self.options:
            self.options = json.loads(json.dumps(capture("get_options")))
            recorded_options = self.flavour.captures and (self.flavour.captures / "ov_options_after.json").exists()
            if family == "forge" and recorded_options:  # the recorded options (sd_vae was "Automatic" before)
                self.options = json.loads(json.dumps(self.flavour.capture("ov_options_after")))
                self.options["sd_vae"] = "Automatic"
            elif family in ("reforge", "forge"):  # its recorded keys; values A1111 1.10.1 lacks were not recorded
                keys = self.flavour.capture("get_options_keys")["keys"]
                self.options = {key: self.options.get(key) for key in keys}
            if family == "sdnext":  # the keys set on the recorded install (values not recorded: "")
                keys = self.flavour.capture("get_options_keys")["keys"]
                self.options |= {key: self.options.get(key, "") for key in keys}
                self.options |= {"samples_format": "jpg", "server_rate_limit": 300}  # SD.Next's defaults
                self.config_keys = set(keys)
            self.options["sd_model_checkpoint"] = self.checkpoints[0]["title"]
        if not self.vaes:
            self.vaes = [dict(v) for v in (FORGE_MODULES if family == "forge" else DEFAULT_VAES)]
        self.recorded = self.recorded or dict(self.flavour.recorded)
        forge = family == "forge"
        self.controlnet_models = self.controlnet_models or list(
            extensions.FORGE_CONTROLNET_MODELS if forge else extensions.CONTROLNET_MODELS
        )
        self.controlnet_modules = self.controlnet_modules or list(
            extensions.FORGE_CONTROLNET_MODULES if forge else extensions.CONTROLNET_MODULES
        )
        if family == "sdnext" and self.embeddings == DEFAULT_EMBEDDINGS:
            self.embeddings = {"loaded": [], "skipped": []}  # SD.Next's shape (get_embeddings.json)

    # --- lookups -----------------------------------------------------------------

    def checkpoint_by_alias(self, name: str) -> dict[str, Any] | None:
        """sd_models.checkpoint_aliases: exact title, name, model_name, hash, ..."""
        for item in self.checkpoints:
            path = item["filename"].split("/Stable-diffusion/")[-1].split("/test_files/")[-1]
            aliases = {item["title"], item["model_name"], path}
            if item.get("hash"):
                aliases |= {item["hash"], f"{path} [{item['hash']}]"}
            if item.get("sha256"):
                aliases.add(item["sha256"])
            if name in aliases:
                return item
        return None

    def checkpoint_fuzzy(self, name: str) -> dict[str, Any] | None:
        """get_closet_checkpoint_match: an alias, else the shortest title containing the name."""
        found = self.checkpoint_by_alias(name)
        if found:
            return found
        matches = sorted((c for c in self.checkpoints if name in c["title"]), key=lambda c: len(c["title"]))
        return matches[0] if matches else None

    def current_checkpoint(self) -> dict[str, Any]:
        return self.checkpoint_by_alias(self.options["sd_model_checkpoint"]) or self.checkpoints[0]

    def upscaler_names(self) -> list[str]:
        modes = self.flavour.capture("get_latent_upscale_modes")
        modes = modes if isinstance(modes, list) else []  # SD.Next has no such route
        return [m["name"] for m in modes] + [u["name"] for u in self.flavour.capture("get_upscalers")]

    def script_info(self) -> list[dict[str, Any]]:
        """/sdapi/v1/script-info: A1111's scripts and the installed extensions' ones."""
        return [*capture("get_script_info"), *extensions.script_info(self.extensions, self.flavour.family == "forge")]

    def scripts(self, img2img: bool) -> tuple[set[str], set[str]]:
        """(selectable titles, always-on titles), lower case."""
        selectable, alwayson = set(), set()
        for script in self.script_info():
            if script["is_img2img"] == img2img:
                (alwayson if script["is_alwayson"] else selectable).add(script["name"].lower())
        listed = self.flavour.capture("get_scripts")["img2img" if img2img else "txt2img"]
        alwayson |= {title.lower() for title in listed if title.lower() not in selectable}
        return selectable, alwayson

    # --- request-time checks (before the queue) -----------------------------------

    def check_scripts(self, request: dict[str, Any], img2img: bool) -> None:
        selectable, alwayson = self.scripts(img2img)
        name = request.get("script_name")
        if name and name.lower() not in selectable:
            raise HTTPError(422, f"Script '{name}' not found")
        for title in request.get("alwayson_scripts") or {}:
            if title.lower() not in selectable | alwayson:
                raise HTTPError(422, f"Script '{title}' not found")  # err_alwayson_unknown.json
            if title.lower() in selectable:
                raise HTTPError(422, "Cannot have a selectable script in the always on scripts params")

    def resolve_sampler(self, request: dict[str, Any]) -> tuple[str, str]:
        """(sampler, schedule type label) as the flavour resolves them."""
        names = [s["name"] for s in self.flavour.samplers]
        name = (
            request.get("sampler_name")
            or request.get("sampler_index")
            or self.flavour.defaults.get("sampler_name")
            or "Euler"
        )
        scheduler = request.get("scheduler") if self.flavour.scheduler_field else None
        if self.flavour.unknown_sampler == "404":
            # validate_sampler_name on the raw name (A1111 ≤1.9, SD.Next)
            if name not in names:
                raise HTTPError(self.flavour.sampler_not_found_status, "Sampler not found")
            known = {s["label"]: s["label"] for s in capture("get_schedulers")} | {
                s["name"]: s["label"] for s in capture("get_schedulers")
            }
            return name, known.get(scheduler or "", "Automatic")
        # A1111 1.10 get_sampler_and_scheduler: a trailing schedule label is split off
        # unless a scheduler was given; an unknown sampler silently becomes the first one.
        schedulers = self.flavour.schedulers or []
        labels = {s["label"]: s for s in schedulers} | {s["name"]: s for s in schedulers}
        chosen = labels.get(scheduler) if scheduler else None
        for item in schedulers:
            suffix = " " + item["label"]
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                chosen = chosen or item
                break
        sampler = next((s for s in self.flavour.samplers if s["name"] == name), self.flavour.samplers[0])
        if chosen is None or chosen["name"] == "automatic":
            default = sampler.get("options", {}).get("scheduler")
            chosen = labels.get(default) if default else None
        return sampler["name"], chosen["label"] if chosen else "Automatic"

    # --- generation ---------------------------------------------------------------

    def _apply_overrides(self, overrides: dict[str, Any]) -> dict[str, Any]:
        """Set override_settings; return what to restore (only keys in config.json)."""
        restore: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in self.options:
                if self.flavour.unknown_overrides == "ignore":
                    continue  # SD.Next: err_500_override_unknown_key.json is a 200
                raise ServerError("KeyError", f"'{key}'")  # err_override_unknown_key.json
            if key == "sd_model_checkpoint":
                found = self.checkpoint_by_alias(str(value))
                if found is None:
                    continue  # silently dropped: err_override_ckpt_unknown.json, Forge's ov_*_unknown.json
                value = found["title"]
            if key == "sd_vae" and self.flavour.family == "forge":
                known = {"Automatic", "None", *(item["model_name"] for item in self.vaes)}
                if value not in known:
                    continue  # ov_override_sd_vae_unknown.json: ignored, the info is unchanged
                self.options[key] = value  # never restored: ov_options_after.json shows "None"
                continue
            if key in self.config_keys:
                restore[key] = self.options[key]
            self.options[key] = value
        return restore

    def _wait(self, steps: int, batches: int, hires_steps: int = 0) -> None:
        """Spend generation_delay over the steps, updating /progress like A1111 (with hires
        fix every batch is two jobs: processing.py doubles job_count)."""
        progress = self.progress
        passes = [steps, hires_steps] if hires_steps else [steps]
        progress.job_count, progress.job_no = batches * len(passes), 0
        per_step = self.generation_delay / max(sum(passes) * batches, 1)
        for batch in range(batches):
            for number, pass_steps in enumerate(passes):
                progress.job_no, progress.sampling_steps = batch * len(passes) + number, pass_steps
                for step in range(pass_steps):
                    progress.sampling_step = step
                    if progress.interrupted or progress.skipped:
                        return
                    if per_step:
                        time.sleep(per_step)

    def _infotext(
        self, request: dict[str, Any], data: dict[str, Any], seed: int, subseed: int, prompt: str, negative: str
    ) -> str:
        checkpoint = data["checkpoint"]
        params: dict[str, Any] = {
            "Steps": request.get("steps", self.flavour.defaults["steps"]),
            "Sampler": data["sampler"],
            "Schedule type": data["scheduler"],
            "CFG scale": float(request.get("cfg_scale", self.flavour.defaults["cfg_scale"])),
            "Seed": seed,
            "Size": f"{request.get('width', 512)}x{request.get('height', 512)}",
        }
        if checkpoint.get("hash"):
            params["Model hash"] = checkpoint["hash"]
        params["Model"] = data["model_name"]
        if (request.get("subseed_strength") or 0) > 0:
            params["Variation seed"], params["Variation seed strength"] = subseed, request["subseed_strength"]
        if data["clip_skip"] != 1:
            params["Clip skip"] = data["clip_skip"]
        for key, value in data["extra"].items():
            if value is not None and key != "Schedule type":
                params[key] = _quoted(value)
        params["Version"] = self.flavour.version
        lines = [prompt]
        if negative:
            lines.append(f"Negative prompt: {negative}")
        lines.append(", ".join(f"{key}: {value}" for key, value in params.items()))
        return "\n".join(lines)

    def _styled(self, request: dict[str, Any]) -> tuple[str, str]:
        prompt, negative = request.get("prompt", ""), request.get("negative_prompt", "")
        for name in request.get("styles") or []:
            style = next((s for s in self.styles if s["name"] == name), None)
            if style is None:
                continue  # unknown styles are ignored: txt2img_styles_unknown.json
            for attr, text in (("prompt", style["prompt"]), ("negative_prompt", style["negative_prompt"])):
                current = prompt if attr == "prompt" else negative
                merged = (
                    text.replace("{prompt}", current)
                    if "{prompt}" in text
                    else ", ".join(p for p in (current, text) if p)
                )
                prompt, negative = (merged, negative) if attr == "prompt" else (prompt, merged)
        return prompt, negative

    def _lora_hashes(self, prompt: str, request: dict[str, Any]) -> str | None:
        if request.get("disable_extra_networks"):
            return None
        found = []
        for name in _lora_names(prompt):
            lora = next((item for item in self.loras if name in (item["name"], item["alias"])), None)
            if lora:  # unknown LoRAs are dropped silently: txt2img_prompt_lora_unknown.json
                found.append(f"{name}: {abs(hash(lora['name'])) % 16**12:012x}")
        return ", ".join(found) or None

    def apply_infotext(self, request: dict[str, Any]) -> dict[str, Any]:
        """api.apply_infotext: fields not given explicitly come from a PNG-info text (txt2img_infotext.json)."""
        text = request.get("infotext")
        if not text:
            return request
        lines = text.strip().split("\n")
        params = dict(re.findall(r"\s*([\w ]+): ([^,]+)(?:,|$)", lines[-1]))
        negative = next(
            (line[len("Negative prompt: ") :] for line in lines if line.startswith("Negative prompt: ")), ""
        )
        sampler = params.get("Sampler", request.get("sampler_name"))
        schedule = params.get("Schedule type", "Automatic")
        default = next(
            (s.get("options", {}).get("scheduler") for s in self.flavour.samplers if s["name"] == sampler), None
        )
        if default and schedule.lower() == default:
            schedule = "Automatic"
        width, _, height = params.get("Size", "").partition("x")
        found = {
            "prompt": lines[0],
            "negative_prompt": negative,
            "steps": int(params["Steps"]) if "Steps" in params else None,
            "sampler_name": sampler,
            "scheduler": schedule,
            "cfg_scale": float(params["CFG scale"]) if "CFG scale" in params else None,
            "seed": int(params["Seed"]) if "Seed" in params else None,
            "width": int(width) if width else None,
            "height": int(height) if height else None,
            "override_settings": {},
            "hr_checkpoint_name": "Use same checkpoint",
            "hr_sampler_name": "Use same sampler",
            "hr_scheduler": "Automatic",
        }
        return {**{k: v for k, v in found.items() if v is not None}, **request}

    def generate(
        self, request: dict[str, Any], *, img2img: bool, init_images: list[Any] | None = None, mask: Any = None
    ) -> dict[str, Any]:
        """Run one job under the FIFO lock; returns the response body."""
        request = self.apply_infotext(request)
        sampler, scheduler = self.resolve_sampler(request)
        task_id = (
            request.get("force_task_id") or f"task({'img2img' if img2img else 'txt2img'}-{random.randrange(16**7):07X})"
        )
        self.tasks.add(task_id)  # api.py: add_task_to_queue before waiting for the lock
        with self.lock:
            self.tasks.start(task_id)
            progress = self.progress
            progress.job, progress.started = ("scripts_img2img" if img2img else "scripts_txt2img"), time.monotonic()
            progress.interrupted = progress.skipped = False
            progress.task_id = task_id
            progress.job_timestamp = time.strftime("%Y%m%d%H%M%S")
            restore: dict[str, Any] = {}
            try:  # api.py: shared.state.end() in a finally, finish_task only after success
                restore = self._apply_overrides(request.get("override_settings") or {})
                response, images = self._run(request, sampler, scheduler, img2img, init_images, mask)
            finally:
                # process_images restores options before the API encodes the images, so an
                # override of samples_format only shows when it leaked (key not in config.json).
                self.options.update(restore)
                progress.job_no, progress.job_count, progress.sampling_step = progress.job_count, 0, 0
                progress.job = ""
                self.generations += 1
            self.tasks.finish(task_id)
            samples_format = str(self.options.get("samples_format", "png"))
            try:
                response["images"] = [pictures.encode(image, samples_format, text) for image, text in images]
            except ValueError as error:
                raise HTTPError(500, str(error)) from None  # "Invalid image format"
            return response

    def _run(
        self,
        request: dict[str, Any],
        sampler: str,
        scheduler: str,
        img2img: bool,
        init_images: list[Any] | None,
        mask: Any,
    ) -> tuple[dict[str, Any], list[tuple[Any, str | None]]]:
        defaults = self.flavour.defaults
        width = request.get("width", defaults["width"])
        height = request.get("height", defaults["height"])
        if width < 8 or height < 8:
            raise ServerError(
                "RuntimeError",
                f"Given groups=1, weight of size [320, 4, 3, 3], expected input with non-zero size, got {width}x{height}",
            )
        out_w, out_h = width - width % 8, height - height % 8  # latent is h//8 x w//8: txt2img_non_multiple_of_8.json
        steps = request.get("steps", defaults["steps"])
        batch_size, n_iter = request.get("batch_size", 1), request.get("n_iter", 1)
        if init_images is not None:
            if len(init_images) > batch_size and len(init_images) != 1:
                raise ServerError(
                    "RuntimeError", f"bad number of images passed: {len(init_images)}; expecting {batch_size} or less"
                )
            if len(init_images) > 1:
                batch_size = len(init_images)
        extra: dict[str, Any] = {}
        if scheduler != "Automatic":
            extra["Schedule type"] = scheduler
        denoising = request.get("denoising_strength")
        if img2img:
            denoising = 0.75 if denoising is None else denoising
            extra["Denoising strength"] = denoising
            if mask is not None:
                self._mask_params(request, extra)
        elif request.get("enable_hr"):
            out_w, out_h = self._hires(request, extra, out_w, out_h, denoising, steps, n_iter)
        hashes = self._lora_hashes(request.get("prompt", ""), request)
        if hashes:
            extra["Lora hashes"] = hashes
        detected_maps = self._alwayson(request, extra, (out_w, out_h))
        hires_steps = (request.get("hr_second_pass_steps") or steps) if request.get("enable_hr") and not img2img else 0
        self._wait(steps, n_iter, hires_steps)
        total = batch_size * n_iter
        seed = request.get("seed", -1)
        seed = random.randint(0, MAX_SEED) if seed in (None, -1) else seed
        subseed = request.get("subseed", -1)
        subseed = random.randint(0, MAX_SEED) if subseed in (None, -1) else subseed
        checkpoint = self.current_checkpoint()
        clip_skip = int(self.options.get("CLIP_stop_at_last_layers", 1))
        data = {
            "checkpoint": checkpoint,
            "model_name": checkpoint["filename"].rsplit("/", 1)[-1].rsplit(".", 1)[0],
            "sampler": sampler,
            "scheduler": scheduler,
            "extra": extra,
            "clip_skip": clip_skip,
        }
        prompt, negative = self._styled(request)
        # processing.py: with a variation strength every image keeps the seed (only subseeds move)
        seeds = [seed + (i if not request.get("subseed_strength") else 0) for i in range(total)]
        subseeds = [subseed + i for i in range(total)]
        infotexts = [
            self._infotext(request, data, s, sub, prompt, negative) for s, sub in zip(seeds, subseeds, strict=True)
        ]
        images: list[tuple[Any, str | None]] = [
            (pictures.render(out_w, out_h, s, noise=self.noise_images), text)
            for s, text in zip(seeds, infotexts, strict=True)
        ]
        first = 0
        if request.get("save_images") and self.options.get("return_grid", True) and total >= 2:
            grid = pictures.render(out_w * min(total, 2), out_h * ((total + 1) // 2), seeds[0])
            images.insert(0, (grid, infotexts[0]))
            infotexts.insert(0, infotexts[0])
            first = 1
        images += [(detected, None) for detected in detected_maps]
        if mask is not None and img2img:
            for option in ("return_mask", "return_mask_composite"):
                if self.options.get(option):
                    mode = "RGBA" if option.endswith("composite") else "RGB"
                    images.append((mask.convert(mode).resize((out_w, out_h)), None))
        if request.get("send_images") is False:
            images = []
        info = {
            "prompt": prompt,
            "all_prompts": [prompt] * total,
            "negative_prompt": negative,
            "all_negative_prompts": [negative] * total,
            "seed": seeds[0],
            "all_seeds": seeds,
            "subseed": subseeds[0],
            "all_subseeds": subseeds,
            "subseed_strength": request.get("subseed_strength", 0),
            "width": width,
            "height": height,
            "sampler_name": sampler,
            "cfg_scale": float(request.get("cfg_scale", defaults["cfg_scale"])),
            "steps": steps,
            "batch_size": batch_size,
            "restore_faces": bool(request.get("restore_faces")),
            "face_restoration_model": "CodeFormer" if request.get("restore_faces") else None,
            "sd_model_name": data["model_name"],
            "sd_model_hash": checkpoint.get("hash"),
            "sd_vae_name": None,
            "sd_vae_hash": None,
            "seed_resize_from_w": request.get("seed_resize_from_w", -1),
            "seed_resize_from_h": request.get("seed_resize_from_h", -1),
            "denoising_strength": denoising,
            "extra_generation_params": extra,
            "index_of_first_image": first,
            "infotexts": infotexts,
            "styles": request.get("styles") or [],
            "job_timestamp": self.progress.job_timestamp,
            "clip_skip": clip_skip,
            "is_using_inpainting_conditioning": False,
            "version": self.flavour.version,
        }
        if self.flavour.info_keys is not None:  # the keys this flavour's recorded info has
            info = {key: info.get(key, self.flavour.info_extra.get(key)) for key in self.flavour.info_keys}
        if self.flavour.family == "sdnext":  # empty in every recorded SD.Next answer
            info["extra_generation_params"] = {}
        return {"images": [], "parameters": self._echo(request, img2img), "info": json.dumps(info)}, images

    def _alwayson(self, request: dict[str, Any], extra: dict[str, Any], size: tuple[int, int]) -> list[Any]:
        """Run the extensions' always-on scripts; their infotext entries go into ``extra``."""
        scripts = {str(title).lower(): value for title, value in (request.get("alwayson_scripts") or {}).items()}
        maps: list[Any] = []
        controlnet = scripts.get("controlnet")
        if isinstance(controlnet, dict) and ("controlnet" in self.extensions or self.flavour.family == "forge"):
            try:
                params, maps = extensions.run_controlnet(
                    controlnet.get("args") or [],
                    self.flavour.family == "forge",
                    size,
                    self.controlnet_models,
                    self.controlnet_modules,
                )
            except extensions.ScriptFailed as error:  # cn_txt2img_bad_module.json
                raise ServerError("ValidationError", f"1 validation error for ControlNetUnit\n{error}") from None
            extra.update(params)
        adetailer = scripts.get("adetailer")
        if isinstance(adetailer, dict) and "adetailer" in self.extensions:
            extra.update(extensions.run_adetailer(adetailer.get("args") or []))
        return maps

    def _mask_params(self, request: dict[str, Any], extra: dict[str, Any]) -> None:
        # img2img_mask_defaults.json vs img2img_mask.json: which keys A1111 reports
        blur = request.get("mask_blur")
        extra["Mask blur"] = blur if blur is not None else request.get("mask_blur_x", 4)
        if request.get("inpainting_mask_invert"):
            extra["Mask mode"] = "Inpaint not masked"
        if request.get("inpaint_full_res", True):
            extra["Inpaint area"] = "Only masked"
            extra["Masked area padding"] = request.get("inpaint_full_res_padding", 0)
        fill = request.get("inpainting_fill", 0)
        if fill != 1:
            extra["Masked content"] = INPAINTING_FILL[fill] if 0 <= fill < 4 else fill

    def _hires(
        self,
        request: dict[str, Any],
        extra: dict[str, Any],
        width: int,
        height: int,
        denoising: Any,
        steps: int,
        n_iter: int,
    ) -> tuple[int, int]:
        upscaler = request.get("hr_upscaler") or "Latent"
        if not self.flavour.checks_hr_upscaler and upscaler not in self.upscaler_names():
            return width, height  # SD.Next skips the pass: err_500_hr_upscaler_unknown.json is 64x64
        if upscaler not in self.upscaler_names():
            kind, text = self.flavour.missing_upscaler
            raise ServerError(kind, text.format(name=upscaler))
        if self.flavour.forge_hr_modules and request.get("hr_additional_modules") is None:
            # a guess from Forge's source (no recording): after the upscaler check of err_500_hr_upscaler_unknown.json
            raise ServerError("TypeError", "argument of type 'NoneType' is not iterable")
        for key in ("hr_checkpoint_name",):
            name = request.get(key)
            if name and name != "Use same checkpoint" and self.checkpoint_fuzzy(name) is None:
                raise ServerError("Exception", f"Could not find checkpoint with name {name}")
        if denoising is None:
            self._wait(steps, n_iter)  # the first pass runs before it fails: err_hr_no_denoising.json
            raise ServerError("TypeError", "'>' not supported between instances of 'NoneType' and 'int'")
        resize_x, resize_y = request.get("hr_resize_x", 0), request.get("hr_resize_y", 0)
        extra["Denoising strength"] = denoising
        extra["Hires prompt"] = request.get("hr_prompt") or None
        extra["Hires negative prompt"] = request.get("hr_negative_prompt") or None
        extra["Hires schedule type"] = request.get("hr_scheduler") or None
        if resize_x or resize_y:
            target_w = resize_x or int(width * resize_y / height)
            target_h = resize_y or int(height * resize_x / width)
            extra["Hires resize"] = f"{target_w}x{target_h}"
        else:
            scale = request.get("hr_scale", 2.0)
            target_w, target_h = int(width * scale), int(height * scale)
            extra["Hires upscale"] = scale
        extra["Hires steps"] = request.get("hr_second_pass_steps") or None
        extra["Hires upscaler"] = upscaler
        if self.flavour.family in ("forge", "reforge"):
            extra["Hires CFG Scale"] = request.get("hr_cfg", 1.0)
        return target_w - target_w % 8, target_h - target_h % 8

    def _echo(self, request: dict[str, Any], img2img: bool) -> dict[str, Any]:
        """TextToImageResponse.parameters: every field with its value or API default."""
        fields = self.flavour.img2img_fields if img2img else self.flavour.txt2img_fields
        echo = {name: request.get(name, self.flavour.defaults.get(name)) for name in fields}
        if img2img and not request.get("include_init_images"):
            echo["init_images"], echo["mask"] = None, None
        return echo
