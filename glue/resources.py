"""list_resources: the server's names as JSON, output variables and a short text."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.call import webui_call
from glue.delivery import AGENT_TEXT_BUDGET, Delivery, delivered
from glue.outputs import finish, short
from webui import ResourceKind, list_resources, parse_kinds

_SHOWN = 25
_MORE = " … (ask again with include set to one list for more of it)"


def _names(kind: ResourceKind, value: Any) -> list[str]:
    if kind is ResourceKind.CHECKPOINTS:
        return [item["title"] for item in value]
    if kind is ResourceKind.LORAS:
        return [item["name"] for item in value or []]
    return list(value or [])


def _line(kind: str, names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN]) + (f", … ({len(names)} in all)" if len(names) > _SHOWN else "")
    return f"{kind} ({len(names)}): {shown or '—'}"


def _brief(server: str, lines: list[str]) -> str:
    """The server and as many of the names as a model's budget holds, each name short."""
    text = f"{short(server)}. " + "; ".join(
        ", ".join(short(name) for name in line.split(", ")) if len(line) > 60 else line for line in lines
    )
    room = AGENT_TEXT_BUDGET - len(_MORE)
    return text if len(text) <= room else text[:room].rsplit(", ", 1)[0] + _MORE


@delivered
def run_list_resources(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
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
    yield from finish(tool, delivery, resources, variables, "\n".join(lines), brief=_brief(server, lines[1:]))
