"""The generation flow the txt2img/img2img tools share: inputs -> client -> messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.credentials import image_policy, secrets_removed, server_config
from glue.files import ControlNetFiles, Img2ImgImages
from glue.outputs import generation_messages
from glue.pickers import merge_picks
from glue.progress import in_agent, with_progress
from webui.client import WebUIClient
from webui.inputs import parse_inputs
from webui.models import GenerationOptions, GenerationRequest, Img2ImgRequest, Txt2ImgRequest
from webui.progress import ProgressWatcher, new_task_id


def _watched[R: GenerationRequest](
    tool: Tool, client: WebUIClient, request: R, options: GenerationOptions
) -> tuple[R, ProgressWatcher | None]:
    """The request with a task id of ours, and who watches that task; nothing in Agent apps."""
    if not options.progress or in_agent(tool):
        return request, None
    task_id = request.force_task_id or new_task_id()
    hires = bool(getattr(request, "enable_hr", False))
    return request.model_copy(update={"force_task_id": task_id}), ProgressWatcher(client.transport, task_id, hires)


def run_txt2img(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    config = server_config(tool.runtime.credentials)
    with secrets_removed(config):
        parameters = merge_picks(parameters)
        control = ControlNetFiles.take(parameters)
        inputs = parse_inputs(Txt2ImgRequest, parameters)
        timeout, policy = inputs.options.timeout or config.timeout, image_policy(config)
        images = control.load(timeout, policy)
        client = WebUIClient(config)
        request, watcher = _watched(tool, client, inputs.request, inputs.options)
        generation = yield from with_progress(
            tool, lambda: client.txt2img(request, inputs.options, inputs.passthrough, images), watcher
        )
        yield from generation_messages(tool, generation, "txt2img", inputs.infotext_unused)


def run_img2img(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    config = server_config(tool.runtime.credentials)
    with secrets_removed(config):
        parameters = merge_picks(parameters)
        sources = Img2ImgImages.take(parameters)
        control = ControlNetFiles.take(parameters)
        inputs = parse_inputs(Img2ImgRequest, parameters)
        timeout, policy = inputs.options.timeout or config.timeout, image_policy(config)
        images, mask = sources.load(timeout, policy)
        control_images = control.load(timeout, policy)
        client = WebUIClient(config)
        request, watcher = _watched(tool, client, inputs.request, inputs.options)
        generation = yield from with_progress(
            tool,
            lambda: client.img2img(
                request, inputs.options, inputs.passthrough, control_images, init_images=images, mask=mask
            ),
            watcher,
        )
        yield from generation_messages(tool, generation, "img2img", inputs.infotext_unused)
