"""list_resources: the server's names as JSON, output variables and a short text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.budget import bounded_text
from glue.call import webui_call
from glue.outputs import summary_messages
from webui import ResourceKind, list_resources, parse_kinds

_SHOWN = 25


def _names(kind: ResourceKind, value: Any) -> list[str]:
    if kind is ResourceKind.CHECKPOINTS:
        return [item["title"] for item in value]
    if kind is ResourceKind.LORAS:
        return [item["name"] for item in value or []]
    return list(value or [])


def _line(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN]) + (f", … ({len(names)} in all)" if len(names) > _SHOWN else "")
    return f"{kind} ({len(names)}): {shown or '—'}"


def run_list_resources(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    with webui_call(tool.runtime.credentials) as client:
        kinds = parse_kinds(parameters.get("include"))
        resources = list_resources(client, kinds)
    config = client.config
    server = resources["server"]["label"]
    variables: dict[str, Any] = {"server": server}
    lines = [f"{server} at {config.base_url}"]
    for kind in kinds:
        value = resources[kind]
        if kind is ResourceKind.CONTROLNET:
            if value is None:
                lines.append("controlnet: not installed")
                continue
            for part in ("models", "modules"):
                variables[f"controlnet_{part}"] = value[part]
                lines.append(_line(f"controlnet_{part}", value[part]))
            continue
        if kind is ResourceKind.LORAS and value is None:
            lines.append("loras: this server has no LoRA list (/sdapi/v1/loras)")
            continue
        names = _names(kind, value)
        variables[kind] = names
        lines.append(_line(kind, names))
    yield from summary_messages(tool, resources, variables)
    yield tool.create_text_message(bounded_text("\n".join(lines)))
