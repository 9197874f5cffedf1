from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.extras import run_png_info


class PngInfoTool(Tool):
    """png_info: the generation settings stored in a picture; see glue/extras.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_png_info(self, tool_parameters)
