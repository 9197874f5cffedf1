"""Every example in examples/ is a complete Dify DSL app whose tool names, parameter keys and
variable references all exist in this plugin's tool YAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yml"))
REFERENCE = re.compile(r"\{\{#([^.#]+)\.([^#]+)#\}\}")
PROVIDER = "sdwebui/sdwebui/sdwebui"
# What Dify writes on export: api/constants/dsl_version.py CURRENT_APP_DSL_VERSION. An older
# minor version imports "with warnings", a newer one asks for confirmation.
DSL_VERSION = "0.6.0"
# The plugin daemon's plugin_unique_identifier: author/name:version@checksum
UNIQUE_IDENTIFIER = re.compile(
    r"^([a-z0-9_-]{1,64})/([a-z0-9_-]{1,255}):\d{1,4}(\.\d{1,4}){1,3}(-\w{1,16})?@[a-f0-9]{32,64}$"
)
# Dify's PluginDependency: the identifier's key for each kind of source
DEPENDENCY_KEYS = {
    "marketplace": {"marketplace_plugin_unique_identifier", "version"},
    "github": {"repo", "version", "package", "github_plugin_unique_identifier"},
    "package": {"plugin_unique_identifier", "version"},
}


def tool_yaml(name: str) -> dict[str, Any]:
    path = ROOT / "tools" / f"{name}.yaml"
    assert path.is_file(), f"no tool {name!r} in this plugin"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def tool_outputs(name: str) -> set[str]:
    return {"text", "files", "json", *tool_yaml(name)["output_schema"]["properties"]}


def check_tool_parameters(where: str, name: str, parameters: dict[str, Any], *, agent: bool = False) -> None:
    declared = {param["name"]: param for param in tool_yaml(name)["parameters"]}
    for key in parameters:
        assert key in declared, f"{where}: {name} has no parameter {key}"
        # a workflow binds inputs (llm); an agent app fixes node settings (form), the LLM the rest
        expected = "form" if agent else "llm"
        assert declared[key]["form"] == expected, f"{where}: {name}.{key} is not form: {expected}"


def test_there_are_examples_of_each_kind_and_of_the_generation_tools():
    """A workflow and an agent app, drawing with each generation tool; a new tool needs no
    example of its own (every example that uses one is checked against it below)."""
    modes = {yaml.safe_load(path.read_text(encoding="utf-8"))["app"]["mode"] for path in EXAMPLES}
    assert {"workflow", "agent-chat"} <= modes
    used = {name for path in EXAMPLES for name in re.findall(r"tool_name: (\w+)", path.read_text(encoding="utf-8"))}
    assert {"txt2img", "img2img", "generate_image"} <= used, (
        f"no example uses {sorted({'txt2img', 'img2img', 'generate_image'} - used)}"
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_matches_the_tools(path):
    dsl = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert dsl["kind"] == "app" and isinstance(dsl["version"], str) and dsl["app"]["name"]
    mode = dsl["app"]["mode"]
    if mode in ("agent-chat", "chat"):
        check_agent(path, dsl)
        return
    assert mode in ("workflow", "advanced-chat")
    graph = dsl["workflow"]["graph"]
    nodes = {node["id"]: node for node in graph["nodes"]}
    outputs: dict[str, set[str]] = {"sys": {"query", "files", "user_id", "conversation_id"}}
    for node_id, node in nodes.items():
        data = node["data"]
        if data["type"] == "start":
            outputs[node_id] = {v["variable"] for v in data["variables"]}
        elif data["type"] == "llm":
            outputs[node_id] = {"text"}
        elif data["type"] == "tool":
            assert data["provider_id"] == PROVIDER and data["plugin_id"] == "sdwebui/sdwebui"
            assert data["tool_label"] == tool_yaml(data["tool_name"])["identity"]["label"]["en_US"]
            check_tool_parameters(path.name, data["tool_name"], data["tool_parameters"])
            outputs[node_id] = tool_outputs(data["tool_name"])
        elif data["type"] == "loop":
            start = nodes[data["start_node_id"]]
            assert start["data"]["type"] == "loop-start" and start["parentId"] == node_id
            outputs[node_id] = {item["label"] for item in data.get("loop_variables") or []}
        if node.get("parentId"):
            assert nodes[node["parentId"]]["data"]["type"] == "loop" and data.get("loop_id") == node["parentId"]
    for edge in graph["edges"]:
        assert edge["source"] in nodes and edge["target"] in nodes, edge["id"]
        assert edge["data"]["sourceType"] == nodes[edge["source"]]["data"]["type"]
        assert edge["data"]["targetType"] == nodes[edge["target"]]["data"]["type"]
    text = path.read_text(encoding="utf-8")
    for node_id, variable in REFERENCE.findall(text):
        assert variable in outputs.get(node_id, set()), f"{path.name}: {{{{#{node_id}.{variable}#}}}} does not exist"
    files = {  # Start variables that hold files
        (node_id, v["variable"])
        for node_id, node in nodes.items()
        if node["data"]["type"] == "start"
        for v in node["data"]["variables"]
        if v["type"] in ("file", "file-list")
    }
    for node in nodes.values():
        data = node["data"]
        declared = {p["name"]: p for p in tool_yaml(data["tool_name"])["parameters"]} if data["type"] == "tool" else {}
        for key, value in (data.get("tool_parameters") or {}).items():
            if value["type"] == "variable":
                node_id, variable = value["value"]
                assert variable in outputs[node_id], f"{path.name}: {node_id}.{variable}"
            takes_file = declared[key]["type"] in ("file", "files")
            gets_file = value["type"] == "variable" and tuple(value["value"]) in files
            assert takes_file == gets_file, f"{path.name}: {data['tool_name']}.{key} and its value disagree on files"
        for condition in data.get("break_conditions") or []:
            node_id, variable = condition["variable_selector"]
            assert variable in outputs[node_id] and nodes[node_id].get("parentId") == node["id"]
        for output in data.get("outputs") or []:
            node_id, variable = output["value_selector"]
            assert variable in outputs[node_id], f"{path.name}: end output {node_id}.{variable}"


def check_agent(path: Path, dsl: dict[str, Any]) -> None:
    config = dsl["model_config"]
    agent = config["agent_mode"]
    assert agent["enabled"] is True and config["model"]["name"] and config["pre_prompt"]
    tools = [tool for tool in agent["tools"] if tool.get("provider_id") == PROVIDER]
    assert tools, f"{path.name}: the agent has none of this plugin's tools"
    for tool in tools:
        version = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))["version"]
        assert tool["provider_type"] == "builtin" and tool["plugin_unique_identifier"] == f"sdwebui/sdwebui:{version}"
        assert tool["tool_label"] == tool_yaml(tool["tool_name"])["identity"]["label"]["en_US"]
        check_tool_parameters(path.name, tool["tool_name"], tool.get("tool_parameters") or {}, agent=True)


def tool_nodes(dsl: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(title, tool name, the values it gives) for every tool of this plugin in an example."""
    if "workflow" in dsl:
        return [
            (
                node["data"]["title"],
                node["data"]["tool_name"],
                {**(node["data"].get("tool_configurations") or {}), **(node["data"].get("tool_parameters") or {})},
            )
            for node in dsl["workflow"]["graph"]["nodes"]
            if node["data"]["type"] == "tool" and node["data"].get("provider_id") == PROVIDER
        ]
    tools = dsl["model_config"]["agent_mode"]["tools"]
    return [
        (t["tool_name"], t["tool_name"], t.get("tool_parameters") or {}) for t in tools if t["provider_id"] == PROVIDER
    ]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_required_input_is_given(path):
    """Dify's editor refuses to publish a node without a required input ("Prompt is required").
    In an agent app the LLM fills the llm inputs; the node settings must all be there."""
    dsl = yaml.safe_load(path.read_text(encoding="utf-8"))
    agent = "workflow" not in dsl
    for title, name, given in tool_nodes(dsl):
        for param in tool_yaml(name)["parameters"]:
            if not param.get("required") or (agent and param["form"] == "llm"):
                continue
            value = given.get(param["name"])
            filled = isinstance(value, dict) and value.get("value") not in (None, "", [])
            if agent:
                filled = value not in (None, "", [])
            assert filled, f"{path.name}: node {title!r} ({name}) lacks the required input {param['name']!r}"


def plugins_used(dsl: dict[str, Any]) -> set[str]:
    """author/name of every plugin a node or the agent's model comes from."""
    if "workflow" in dsl:
        providers = [
            node["data"].get("provider_id") or (node["data"].get("model") or {}).get("provider")
            for node in dsl["workflow"]["graph"]["nodes"]
        ]
    else:
        config = dsl["model_config"]
        providers = [config["model"]["provider"], *(t["provider_id"] for t in config["agent_mode"]["tools"])]
    return {"/".join(provider.split("/")[:2]) for provider in providers if provider}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_has_the_current_dsl_version_and_its_dependencies(path):
    """Dify offers to install what `dependencies` names; this plugin, built locally, has no
    identifier Dify could resolve (examples/README.md), so every other plugin used is listed."""
    dsl = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert dsl["version"] == DSL_VERSION
    named = set()
    for dependency in dsl["dependencies"]:
        assert set(dependency) == {"current_identifier", "type", "value"} and dependency["current_identifier"] is None
        assert set(dependency["value"]) == DEPENDENCY_KEYS[dependency["type"]], dependency
        identifier = next(v for k, v in dependency["value"].items() if k.endswith("plugin_unique_identifier"))
        match = UNIQUE_IDENTIFIER.match(identifier)
        assert match, f"{path.name}: {identifier!r} is not author/name:version@checksum"
        named.add(f"{match.group(1)}/{match.group(2)}")
    assert named == plugins_used(dsl) - {"sdwebui/sdwebui"}


WORKFLOW_MAX_EXECUTION_TIME = 1200  # Dify's default, seconds, for a whole workflow run
MARGIN = 120  # the calls before and after the loop, and each round's own round trip


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_a_loop_ends_within_difys_workflow_time_limit(path):
    """Rounds x the waits inside them, plus a margin, stays under the default limit, and the
    Loop node says what to raise for longer jobs."""
    dsl = yaml.safe_load(path.read_text(encoding="utf-8"))
    nodes = dsl.get("workflow", {}).get("graph", {}).get("nodes", [])
    for loop in (node for node in nodes if node["data"]["type"] == "loop"):
        waits = [
            node["data"]["tool_parameters"]["wait"]["value"]
            for node in nodes
            if node.get("parentId") == loop["id"] and node["data"].get("tool_name") == "job_result"
        ]
        rounds = loop["data"]["loop_count"]
        assert waits and rounds * sum(waits) + MARGIN < WORKFLOW_MAX_EXECUTION_TIME, (path.name, rounds, waits)
        assert f"{rounds} rounds x {sum(waits)} s" in loop["data"]["desc"]
        assert "raise WORKFLOW_MAX_EXECUTION_TIME" in loop["data"]["desc"]
