from collections.abc import Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.generate import run_job_result


class JobResultTool(Tool):
    """job_result: a queued job's pictures or state; see glue/generate.py."""

    def _invoke(self, tool_parameters: dict[str, Any]) -> Generator[ToolInvokeMessage]:
        yield from run_job_result(self, tool_parameters)
