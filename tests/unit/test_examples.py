"""The example workflows only use tool inputs and variables that exist."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
REFERENCE = re.compile(r"\{\{#([^.#]+)\.([^#]+)#\}\}")


def tool_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / "tools" / f"{name}.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_the_tools(path):
    dsl = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert dsl["kind"] == "app" and dsl["app"]["mode"] == "workflow"
    nodes = {node["id"]: node["data"] for node in dsl["workflow"]["graph"]["nodes"]}
    outputs: dict[str, set[str]] = {}
    for node_id, data in nodes.items():
        if data["type"] == "start":
            outputs[node_id] = {v["variable"] for v in data["variables"]}
        elif data["type"] == "llm":
            outputs[node_id] = {"text"}
        elif data["type"] == "tool":
            assert data["provider_id"] == "sdwebui/sdwebui/sdwebui" and data["plugin_id"] == "sdwebui/sdwebui"
            tool = tool_yaml(data["tool_name"])
            assert data["tool_label"] == tool["identity"]["label"]["en_US"]
            names = {param["name"]: param for param in tool["parameters"]}
            for name in data["tool_parameters"]:
                assert name in names, f"{path.name}: {data['tool_name']} has no parameter {name}"
                assert names[name]["form"] == "llm", f"{name} is a setting, not an input"
            outputs[node_id] = {"text", "files", "json", *tool["output_schema"]["properties"]}
    for edge in dsl["workflow"]["graph"]["edges"]:
        assert edge["source"] in nodes and edge["target"] in nodes
    text = path.read_text(encoding="utf-8")
    for node_id, variable in REFERENCE.findall(text):
        assert variable in outputs.get(node_id, set()), f"{path.name}: {{{{#{node_id}.{variable}#}}}} does not exist"
    for data in nodes.values():
        for value in (data.get("tool_parameters") or {}).values():
            if value["type"] == "variable":
                node_id, variable = value["value"]
                assert variable in outputs[node_id]
        for output in data.get("outputs") or []:
            node_id, variable = output["value_selector"]
            assert variable in outputs[node_id], f"{path.name}: end output {node_id}.{variable}"
