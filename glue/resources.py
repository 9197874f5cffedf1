"""list_resources: the server's names as JSON, output variables and a short text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.credentials import secrets_removed, server_config
from webui.client import WebUIClient
from webui.resources import list_resources, parse_kinds

_SHOWN = 25


def _names(kind: str, value: Any) -> list[str]:
    if kind == "checkpoints":
        return [item["title"] for item in value]
    if kind == "loras":
        return [item["name"] for item in value or []]
    return list(value or [])


def _line(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN]) + (f", … ({len(names)} in all)" if len(names) > _SHOWN else "")
    return f"{kind} ({len(names)}): {shown or '—'}"


def run_list_resources(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    config = server_config(tool.runtime.credentials)
    with secrets_removed(config):
        kinds = parse_kinds(parameters.get("include"))
        resources = list_resources(WebUIClient(config), kinds)
    yield tool.create_json_message(resources)
    server = resources["server"]["label"]
    yield tool.create_variable_message("server", server)
    lines = [f"{server} at {config.base_url}"]
    for kind in kinds:
        value = resources[kind]
        if kind == "controlnet":
            if value is None:
                lines.append("controlnet: not installed")
                continue
            for part in ("models", "modules"):
                yield tool.create_variable_message(f"controlnet_{part}", value[part])
                lines.append(_line(f"controlnet_{part}", value[part]))
            continue
        if kind == "loras" and value is None:
            lines.append("loras: this server has no LoRA list (/sdapi/v1/loras)")
            continue
        names = _names(kind, value)
        yield tool.create_variable_message(kind, names)
        lines.append(_line(kind, names))
    yield tool.create_text_message("\n".join(lines))
