"""The generation flow the txt2img/img2img tools share: inputs -> client -> messages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.call import webui_call
from glue.delivery import Delivery, delivered
from glue.files import ControlNetFiles, ImageLoader, Img2ImgImages
from glue.outputs import finish, generation_messages, short
from glue.pickers import merge_picks
from glue.progress import with_progress
from webui import (
    GenerationOptions,
    GenerationRequest,
    Img2ImgRequest,
    Inputs,
    Job,
    JobResultRequest,
    JobState,
    ProgressWatcher,
    ToolOptions,
    Txt2ImgRequest,
    WebUIClient,
    new_task_id,
    parse_inputs,
    txt2img_inputs,
)


def _watched[R: GenerationRequest](
    delivery: Delivery, client: WebUIClient, request: R, options: GenerationOptions
) -> tuple[R, ProgressWatcher | None]:
    """The request with a task id of ours, and who watches that task; nobody when a model
    reads the call (it would read every line) or for a queued job (job_result follows it by
    that id)."""
    if options.queue:
        return request.model_copy(update={"force_task_id": request.force_task_id or new_task_id()}), None
    if not options.progress or delivery.for_a_model:
        return request, None
    task_id = request.force_task_id or new_task_id()
    hires = bool(getattr(request, "enable_hr", False))
    return request.model_copy(update={"force_task_id": task_id}), ProgressWatcher(client.transport, task_id, hires)


def _run(
    tool: Tool,
    parameters: dict[str, Any],
    delivery: Delivery,
    model: type[Txt2ImgRequest | Img2ImgRequest],
    prefix: str,
    adapt: Callable[[dict[str, Any], WebUIClient], dict[str, Any]] | None = None,
) -> Iterator[ToolInvokeMessage]:
    """Inputs -> request -> images and summary; ``adapt`` rewrites the inputs first."""
    with webui_call(tool.runtime.credentials) as client:
        parameters = merge_picks(parameters)
        if adapt is not None:
            parameters = adapt(parameters, client)
        init = Img2ImgImages.take(parameters) if model is Img2ImgRequest else None
        control = ControlNetFiles.take(parameters)
        inputs: Inputs[Txt2ImgRequest | Img2ImgRequest, GenerationOptions] = parse_inputs(model, parameters)
        client.limit(inputs.options.timeout)
        loader = ImageLoader.of(client)
        images, mask = init.load(loader) if init else ([], None)
        control_images = control.load(loader)
        request, watcher = _watched(delivery, client, inputs.request, inputs.options)
        prepared = client.prepare(
            request, inputs.options, inputs.passthrough, control_images, init_images=images, mask=mask
        )
        if inputs.options.queue:
            yield from job_messages(tool, delivery, client.enqueue(prepared))
            return
        generation = yield from with_progress(tool, lambda: client.generate(prepared, inputs.options), watcher)
        yield from generation_messages(tool, delivery, generation, prefix, inputs.infotext_unused)


@delivered
def run_txt2img(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    yield from _run(tool, parameters, delivery, Txt2ImgRequest, "txt2img")


@delivered
def run_img2img(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    yield from _run(tool, parameters, delivery, Img2ImgRequest, "img2img")


@delivered
def run_generate_image(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    """The compact agent tool: its inputs become txt2img's (webui/requests/compact.py)."""

    def adapt(inputs: dict[str, Any], client: WebUIClient) -> dict[str, Any]:
        return txt2img_inputs(inputs, client.current_checkpoint)

    yield from _run(tool, parameters, delivery, Txt2ImgRequest, "image", adapt)


def job_messages(tool: Tool, delivery: Delivery, job: Job, progress: str | None = None) -> Iterator[ToolInvokeMessage]:
    """A job that is not done yet: its id and state, for job_result or a Loop node."""
    state = {"task_id": job.task_id, "done": False, "status": job.status, "position": job.position}
    if progress:
        state["progress"] = progress
    text = f"Task {job.task_id} is {progress or job.describe()}; ask job_result for it again."
    brief = f"Task {short(job.task_id)} is {short(job.describe())}; ask job_result for it again."
    yield from finish(tool, delivery, state, state, text, brief=brief)


@delivered
def run_job_result(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    with webui_call(tool.runtime.credentials) as client:
        inputs = parse_inputs(JobResultRequest, parameters, ToolOptions)
        timeout = client.seconds(inputs.options.timeout)
        client.limit(timeout)
        job, generation = client.job_result(inputs.request.task_id, min(inputs.request.wait, timeout), timeout)
        if generation is None:
            running = job.status is JobState.RUNNING and not delivery.for_a_model
            yield from job_messages(tool, delivery, job, client.job_progress(job) if running else None)
            return
        more = {"task_id": job.task_id, "done": True, "status": job.status}
        yield from generation_messages(tool, delivery, generation, job.kind, more=more)
