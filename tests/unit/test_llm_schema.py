"""What an agent's LLM reads about each tool, built the way Dify's agent runner builds it,
and the budgets that keep small local models (a few thousand tokens of context) able to use it.

Dify (api/core/tools/__base/tool.py, get_llm_parameters_json_schema) hands the model one
function per tool: the tool's ``description.llm`` and an object schema with every
``form: llm`` parameter except files; select and secret-input become "string" (select
with an ``enum`` of its option values); the description is ``llm_description`` or "".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import gen_tools

ROOT = Path(__file__).resolve().parents[2]
TOOLS = list(gen_tools.spec_tools())


def tool_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "tools" / f"{name}.yaml").read_text(encoding="utf-8"))


def llm_function(name: str) -> dict[str, Any]:
    """The function definition Dify sends the LLM for tool ``name``."""
    return gen_tools.llm_function(tool_yaml(name))


def size(function: dict[str, Any]) -> int:
    return gen_tools.schema_size(function)


def test_generate_image_fits_a_small_models_context():
    function = llm_function("generate_image")
    assert len(function["parameters"]["properties"]) <= 8
    assert size(function) <= 1200, f"generate_image's schema is {size(function)} characters"
    assert function["parameters"]["required"] == ["prompt"]
    # every node setting stays out of the LLM's schema
    settings = {p["name"] for p in tool_yaml("generate_image")["parameters"] if p["form"] == "form"}
    assert {"checkpoint", "steps", "cfg_scale", "enable_hr", "loras", "default_negative_prompt"} <= settings


@pytest.mark.parametrize("tool", ["txt2img", "img2img"])
def test_the_full_tools_stay_terse(tool):
    function = llm_function(tool)
    count = len(function["parameters"]["properties"])
    assert size(function) / count <= 100, f"{tool}: {size(function) / count:.0f} characters per parameter"


@pytest.mark.parametrize("tool", TOOLS)
def test_every_llm_parameter_is_described_briefly(tool):
    for name, prop in llm_function(tool)["parameters"]["properties"].items():
        assert 0 < len(prop["description"]) <= 160, f"{tool}.{name}: {len(prop['description'])} characters"
        assert prop["type"] in {"string", "number", "boolean"}, f"{tool}.{name}: {prop['type']}"


def test_the_readme_states_these_figures():
    """README's agent section quotes each schema's size; it must match the YAML."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for tool in ("generate_image", "txt2img", "img2img"):
        function = llm_function(tool)
        row = f"| `{tool}` | {len(function['parameters']['properties'])} | {size(function):,} |"
        assert row in readme, f"README lacks the row {row!r}"
