"""The facade tools use: check a server, detect its flavour, generate images."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from webui.errors import (
    AuthenticationFailed,
    ExtensionMissing,
    InvalidResponse,
    ServerError,
    ServerFailed,
    ServerRejected,
    WebUIError,
)
from webui.extensions.apply import ControlImages, with_extensions
from webui.images.extras import DEFAULT_UPSCALER, Upscaled, check_result_fits, parse_caption, parse_extras, scale_mode
from webui.images.results import GenerationResult, PictureLimit, answer_limit, parse_generation
from webui.images.sources import InputImage
from webui.jobs import handles, scheduler
from webui.jobs.progress import ProgressWatcher
from webui.jobs.scheduler import Job
from webui.requests.infotext import Infotext, parse_infotext
from webui.requests.models import (
    ExtrasRequest,
    GenerationOptions,
    Img2ImgRequest,
    InterrogateModel,
    RequestKind,
    ToolOptions,
    Txt2ImgRequest,
)
from webui.requests.payload import build_payload, with_init_images
from webui.server.cache import FLAVOUR_TTL, TTLCache
from webui.server.catalog import Catalog
from webui.server.flavour import Flavour, from_openapi, from_probes
from webui.server.names import loose_key, resolve
from webui.server.resolve import NameResolver
from webui.transport.gate import check_body
from webui.transport.http import ServerConfig, Transport
from webui.transport.net import Deadline

CHECK_TIMEOUT = 15.0
_SHOWN_STRING = 600


def summarize(value: Any) -> Any:
    """A copy safe to show: long strings (base64 images) become '<N characters>'."""
    if isinstance(value, dict):
        return {key: summarize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [summarize(item) for item in value]
    if isinstance(value, str) and len(value) > _SHOWN_STRING:
        return f"<{len(value)} characters>"
    return value


@dataclass(frozen=True)
class Prepared:
    """A checked txt2img/img2img request, built for the server it goes to."""

    kind: RequestKind
    payload: dict[str, Any]
    flavour: Flavour


@dataclass
class Generation:
    result: GenerationResult
    payload: dict[str, Any]  # what was sent, with images summarized
    flavour: Flavour
    seconds: float


class WebUIClient:
    """One WebUI, as ``config`` describes it. ``cache`` keeps its lists and flavour between
    calls (share one per process); ``picture_limit`` is the largest picture the caller can
    take: answers are capped by it, and an upscale predicted to exceed it is refused. With
    ``stale_lists``, lists and flavour the server cannot give now are the last ones it gave
    (for pickers, which would rather show an old list than none)."""

    def __init__(
        self, config: ServerConfig, cache: TTLCache, picture_limit: PictureLimit, *, stale_lists: bool = False
    ) -> None:
        self.config = config
        self.transport = Transport(config)  # the call's deadline starts now, at the configured timeout
        self.catalog = Catalog(self.transport, cache, stale_lists=stale_lists)
        self.picture_limit = picture_limit
        self._cache = cache
        self._stale_if = WebUIError if stale_lists else ()

    def seconds(self, timeout: float | None) -> float:
        """A call's timeout: the one given, else the configured one."""
        return timeout or self.config.timeout

    @property
    def deadline(self) -> Deadline:
        """The call's one deadline: every request, download and wait ends by it."""
        return self.transport.deadline

    def limit(self, timeout: float | None) -> Deadline:
        """Make the call's deadline ``timeout`` seconds (a tool's own timeout) from the call's start."""
        if timeout:
            started = self.transport.deadline.end - self.transport.deadline.seconds
            self.transport.deadline = Deadline(started + timeout, timeout)
        return self.transport.deadline

    def check(self) -> Flavour:
        """Prove the URL, the credentials and the API work; then detect the flavour."""
        models = self.transport.call("GET", "/sdapi/v1/sd-models", action="list the checkpoints", timeout=CHECK_TIMEOUT)
        if not isinstance(models, list) or not all(isinstance(item, dict) and "title" in item for item in models):
            raise InvalidResponse(
                f"{self.config.base_url}/sdapi/v1/sd-models answered JSON that is not a checkpoint list: "
                "the base URL does not point at an A1111-compatible WebUI."
            )
        return self.flavour()

    def flavour(self) -> Flavour:
        return self._cache.get_or_load(
            (self.config.fingerprint(), "flavour"), FLAVOUR_TTL, self._detect, self._stale_if
        )

    def _optional(self, route: str) -> Any:
        """The route's JSON, or None when the server has no such route (or answers it with
        something else). Unreachable servers, timeouts and refused credentials raise, so that
        a guess made without an answer is never cached."""
        try:
            return self.transport.call("GET", route, action=f"read {route}", timeout=CHECK_TIMEOUT)
        except AuthenticationFailed:
            raise
        except (ServerError, InvalidResponse):
            return None

    def _detect(self) -> Flavour:
        detected = from_openapi(self._optional("/openapi.json"))
        if detected is not None:
            return detected
        samplers = self._optional("/sdapi/v1/samplers")
        return from_probes(
            sdnext_version=isinstance(self._optional("/sdapi/v1/version"), dict),
            sd_modules=isinstance(self._optional("/sdapi/v1/sd-modules"), list),
            schedulers=isinstance(self._optional("/sdapi/v1/schedulers"), list),
            combined_samplers=isinstance(samplers, list)
            and any(isinstance(item, dict) and str(item.get("name", "")).endswith(" Karras") for item in samplers),
        )

    def current_checkpoint(self) -> str | None:
        """The checkpoint the server has loaded (its sd_model_checkpoint setting), if it says."""
        settings = self._optional("/sdapi/v1/options")
        value = settings.get("sd_model_checkpoint") if isinstance(settings, dict) else None
        return value if isinstance(value, str) else None

    def prepare(
        self,
        request: Txt2ImgRequest | Img2ImgRequest,
        options: GenerationOptions,
        passthrough: dict[str, Any] | None = None,
        control_images: ControlImages | None = None,
        *,
        init_images: list[InputImage] | None = None,
        mask: InputImage | None = None,
    ) -> Prepared:
        """Check every name against the server, add img2img's init images and the extension
        units it asks for, then build the body for its flavour: ready for :meth:`generate` or
        :meth:`enqueue` (the transport's gate checks it against the trust rules as it leaves)."""
        if isinstance(request, Img2ImgRequest):
            request = with_init_images(request, init_images or [], mask)
        flavour = self.flavour()
        request, options = NameResolver(self.catalog, flavour).apply(request, options)
        request = with_extensions(request, options, control_images or ControlImages(), self.catalog, flavour)
        kind = RequestKind.IMG2IMG if isinstance(request, Img2ImgRequest) else RequestKind.TXT2IMG
        return Prepared(kind, build_payload(request, options, flavour, passthrough), flavour)

    def generate(self, prepared: Prepared, options: GenerationOptions) -> Generation:
        """Run a prepared txt2img or img2img request and wait for its images."""
        payload = prepared.payload
        timeout = self.seconds(options.timeout)
        images = int(payload.get("batch_size", 1)) * int(payload.get("n_iter", 1))
        started = time.monotonic()
        body = self.transport.call(
            "POST",
            f"/sdapi/v1/{prepared.kind}",
            action=f"run {prepared.kind}",
            payload=payload,
            timeout=timeout,
            max_bytes=answer_limit(images, self.picture_limit.bytes),
            generation=True,
        )
        result = parse_generation(body, images_expected=payload.get("send_images", True) is not False)
        self._check_model(payload, result)
        return Generation(result, summarize(payload), prepared.flavour, time.monotonic() - started)

    def _check_model(self, payload: dict[str, Any], result: GenerationResult) -> None:
        """The per-request checkpoint must be the one that ran: a server may ignore it silently
        (Forge, for one it cannot find: forge/ov_override_sd_model_checkpoint_unknown.json)."""
        settings = payload.get("override_settings")
        asked = settings.get("sd_model_checkpoint") if isinstance(settings, dict) else None
        ran = result.model
        if not isinstance(asked, str) or not ran:
            return
        choice = next((c for c in self.catalog.checkpoints() if c.value == asked), None)
        names = {asked, *(choice.names() if choice else ())}
        if loose_key(ran) in {loose_key(name) for name in names}:
            return
        raise ServerRejected(
            f"The server ran the checkpoint {ran!r}, not {asked!r} that was asked for: it ignored the "
            "per-request checkpoint without an error (Forge does so for a checkpoint it cannot find "
            "or load). Its pictures are not returned; check that the checkpoint is still on the "
            "server and try again.",
            200,
            f"ran {ran}",
        )

    # --- around the generation --------------------------------------------------

    def upscale(
        self,
        request: ExtrasRequest,
        options: ToolOptions,
        passthrough: dict[str, Any],
        images: list[InputImage],
    ) -> Upscaled:
        """A1111's Extras on one image (extra-single-image) or several (extra-batch-images)."""
        choices = self.catalog.upscaler_models()
        names = {"upscaler_1": request.upscaler_1 or DEFAULT_UPSCALER}
        if request.upscaler_2:
            names["upscaler_2"] = request.upscaler_2
        resolved = {field: resolve(f"{field} (upscaler)", name, choices).value for field, name in names.items()}
        request = scale_mode(request.model_copy(update=resolved), images[0].image)
        check_result_fits(request, images, self.picture_limit)
        body: dict[str, Any] = {**request.model_dump(mode="json", exclude_none=True), **passthrough}
        shown = dict(body)
        if len(images) == 1:
            route, body["image"] = "/sdapi/v1/extra-single-image", images[0].base64()
        else:
            route = "/sdapi/v1/extra-batch-images"
            body["imageList"] = [{"data": image.base64(), "name": f"{i + 1}.png"} for i, image in enumerate(images)]
        started = time.monotonic()
        try:
            answer = self.transport.call(
                "POST",
                route,
                action="upscale the image" if len(images) == 1 else f"upscale {len(images)} images",
                payload=body,
                timeout=self.seconds(options.timeout),
                max_bytes=answer_limit(len(images), self.picture_limit.bytes, extra_images=0),
                generation=True,
            )
        except ServerFailed as error:
            failure = self.flavour().extras_failure
            if failure:
                error.add_note(failure)
            raise
        upscaled, html_info = parse_extras(answer, len(images))
        return Upscaled(upscaled, html_info, resolved["upscaler_1"], time.monotonic() - started, shown)

    def _interrogate_model(self, model: InterrogateModel) -> str:
        """The model name this server takes. SD.Next lists its own (OpenCLIP names, maybe
        deepdanbooru) at GET /sdapi/v1/interrogate and has no "clip"."""
        missing = self.flavour().missing_interrogate
        if missing:
            raise ExtensionMissing(missing)
        return model.value

    def interrogate(self, image: InputImage, model: InterrogateModel, timeout: float | None = None) -> tuple[str, str]:
        """(caption, the model that ran) for ``image``."""
        name = self._interrogate_model(model)
        answer = self.transport.call(
            "POST",
            "/sdapi/v1/interrogate",
            action=f"interrogate the image with {name}",
            payload={"image": image.base64(), "model": name},
            timeout=self.seconds(timeout),
            generation=True,
            timeout_hint=" The first interrogation on a server downloads the model's weights (about a gigabyte "
            "for CLIP/BLIP), which can take several minutes: try again, or raise the timeout.",
        )
        return parse_caption(answer, name), name

    def png_info(self, image: InputImage, timeout: float | None = None) -> tuple[str, Infotext]:
        """(the raw infotext, what it says as parameters) of a picture; "" when it has none."""
        answer = self.transport.call(
            "POST",
            "/sdapi/v1/png-info",
            action="read the picture's generation parameters",
            payload={"image": image.base64()},
            timeout=self.seconds(timeout),
        )
        info = answer.get("info") if isinstance(answer, dict) else None
        if info is not None and not isinstance(info, str):
            raise InvalidResponse("The server's png-info answer has no 'info' text.")
        text = (info or "").strip()
        return text, parse_infotext(text) if text else Infotext()

    # --- the agent-scheduler queue -----------------------------------------------

    def enqueue(self, prepared: Prepared) -> Job:
        """Hand a prepared request to the WebUI's queue (agent-scheduler) instead of waiting.

        The job's task_id is a handle (webui/jobs/handles.py) holding this call's routing key."""
        # The queue leaves out keys it must not forward (callback_url): the gate sees the body
        # as built, so that such a request is refused, not quietly changed.
        check_body(f"{scheduler.PREFIX}/queue/{prepared.kind}", prepared.payload)
        job = scheduler.enqueue(self.transport, prepared.kind, prepared.payload)
        return replace(job, task_id=handles.handle(job.task_id, self.transport.route))

    def job_result(self, handle: str, wait: float, timeout: float | None = None) -> tuple[Job, Generation | None]:
        """The queued job after waiting up to ``wait`` seconds, and its pictures once it is done.

        Every request from here on carries the routing key the handle holds."""
        started = time.monotonic()
        task_id, self.transport.route = handles.split(handle)
        found = scheduler.wait(self.transport, task_id, wait)
        job = replace(found, task_id=handle)
        if not job.done:
            return job, None
        result = scheduler.results(self.transport, found, self.seconds(timeout))
        parameters = summarize({key: value for key, value in job.params.items() if value is not None})
        return job, Generation(result, parameters, self.flavour(), time.monotonic() - started)

    def job_progress(self, job: Job) -> str | None:
        """Where a running queued job is: A1111 runs it under the force_task_id it was queued with."""
        if not job.run_id:
            return None
        reading = ProgressWatcher(self.transport, job.run_id, job.params.get("enable_hr") is True).read()
        return reading.text if reading else None
