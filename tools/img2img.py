from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities import ParameterOption
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.generate import run_img2img
from glue.pickers import picker_options


class Img2ImgTool(Tool):
    """img2img and inpainting: every A1111 img2img field; see glue/generate.py for the flow."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_img2img(self, tool_parameters)

    def _fetch_parameter_options(self, parameter: str) -> list[ParameterOption]:
        return picker_options(self.runtime.credentials, parameter)
