"""The generation flow the txt2img/img2img tools share: inputs -> client -> messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.credentials import secrets_removed, server_config
from glue.outputs import generation_messages
from webui.client import WebUIClient
from webui.inputs import parse_inputs
from webui.models import Txt2ImgRequest


def run_txt2img(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    config = server_config(tool.runtime.credentials)
    with secrets_removed(config):
        request, options, passthrough = parse_inputs(Txt2ImgRequest, parameters)
        generation = WebUIClient(config).txt2img(request, options, passthrough)
        yield from generation_messages(tool, generation, "txt2img")
