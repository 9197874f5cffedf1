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
from webui.client import WebUIClient
from webui.inputs import parse_inputs
from webui.models import Img2ImgRequest, Txt2ImgRequest


def run_txt2img(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    config = server_config(tool.runtime.credentials)
    with secrets_removed(config):
        parameters = merge_picks(parameters)
        control = ControlNetFiles.take(parameters)
        inputs = parse_inputs(Txt2ImgRequest, parameters)
        timeout, policy = inputs.options.timeout or config.timeout, image_policy(config)
        generation = WebUIClient(config).txt2img(
            inputs.request, inputs.options, inputs.passthrough, control.load(timeout, policy)
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
        generation = WebUIClient(config).img2img(
            inputs.request,
            inputs.options,
            inputs.passthrough,
            control.load(timeout, policy),
            init_images=images,
            mask=mask,
        )
        yield from generation_messages(tool, generation, "img2img", inputs.infotext_unused)
