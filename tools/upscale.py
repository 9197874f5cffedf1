from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities import ParameterOption
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.extras import run_upscale
from glue.pickers import picker_options


class UpscaleTool(Tool):
    """upscale: A1111 Extras on one or several pictures; see glue/extras.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_upscale(self, tool_parameters)

    def _fetch_parameter_options(self, parameter: str) -> list[ParameterOption]:
        return picker_options(self.runtime.credentials, parameter)
