from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.extras import run_interrogate


class InterrogateTool(Tool):
    """interrogate: a picture described as a prompt; see glue/extras.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_interrogate(self, tool_parameters)
