from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.resources import run_list_resources


class ListResourcesTool(Tool):
    """list_resources: the names the server accepts; see glue/resources.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_list_resources(self, tool_parameters)
