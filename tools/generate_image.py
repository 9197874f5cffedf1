from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities import ParameterOption
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.generate import run_generate_image
from glue.pickers import picker_options


class GenerateImageTool(Tool):
    """generate_image: a few inputs for agents, txt2img's settings on the node; see glue/generate.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_generate_image(self, tool_parameters)

    def _fetch_parameter_options(self, parameter: str) -> list[ParameterOption]:
        return picker_options(self.runtime.credentials, parameter)
