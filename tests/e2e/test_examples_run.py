"""Each example app, run node by node through the daemon protocol against the emulator.

A small stand-in for Dify's workflow engine: Start inputs come from the test, an LLM node
answers a fixed text, each tool node's parameters are resolved as Dify resolves them
(constant, variable, mixed text with {{#node.var#}}) and sent to the plugin, and every End
output must have a value. Loop nodes are Dify's to run; their example is checked
statically (tests/unit/test_examples.py) and its tools in tests/e2e/test_queue.py.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from PIL import Image

from tests.conftest import creds
from tests.daemon import Result
from tests.files_server import dify_file

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"\{\{#([^.#]+)\.([^#]+)#\}\}")
LLM_ANSWER = "1girl, silver hair, cherry blossoms, masterpiece"


def png(size: tuple[int, int] = (96, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "examples" / name).read_text(encoding="utf-8"))


def ordered(graph: dict[str, Any]) -> list[dict[str, Any]]:
    """The nodes of a workflow without branches, from Start along the edges."""
    nodes = {node["id"]: node for node in graph["nodes"]}
    following = {edge["source"]: edge["target"] for edge in graph["edges"]}
    assert len(following) == len(graph["edges"]), "the runner handles chains only"
    current = next(node_id for node_id, node in nodes.items() if node["data"]["type"] == "start")
    chain = [nodes[current]]
    while current in following:
        current = following[current]
        chain.append(nodes[current])
    assert len(chain) == len(nodes)
    return chain


def resolve(value: dict[str, Any], outputs: dict[str, dict[str, Any]]) -> Any:
    if value["type"] == "constant":
        return value["value"]
    if value["type"] == "variable":
        node_id, name = value["value"]
        return outputs[node_id].get(name)
    return REFERENCE.sub(lambda m: str(outputs[m.group(1)].get(m.group(2), "")), value["value"])


def tool_outputs(result: Result) -> dict[str, Any]:
    return {"text": result.text, "files": result.files, "json": result.json, **result.variables}


def run_workflow(plugin, server, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run example ``name``; returns the End node's outputs."""
    outputs: dict[str, dict[str, Any]] = {}
    for node in ordered(load(name)["workflow"]["graph"]):
        data = node["data"]
        if data["type"] == "start":
            outputs[node["id"]] = inputs
        elif data["type"] == "llm":
            outputs[node["id"]] = {"text": LLM_ANSWER}
        elif data["type"] == "tool":
            parameters = {key: resolve(value, outputs) for key, value in data["tool_parameters"].items()}
            result = plugin.invoke(data["tool_name"], parameters, creds(server))
            assert result.error is None, f"{name}: {data['title']}: {result.error}"
            outputs[node["id"]] = tool_outputs(result)
        elif data["type"] == "end":
            ended = {
                out["variable"]: outputs[out["value_selector"][0]].get(out["value_selector"][1])
                for out in data["outputs"]
            }
            assert all(value not in (None, "", []) for value in ended.values()), ended
            return ended
    raise AssertionError(f"{name} has no End node")


def a_file(file_server, name: str, data: bytes) -> dict[str, Any]:
    return dify_file(file_server.add(name, data), name, size=len(data))


def test_illustration_from_an_idea(plugin, webui):
    ended = run_workflow(
        plugin, webui, "illustration-from-idea.yml", {"idea": "桜の下の少女", "width": 512, "height": 768}
    )
    assert Image.open(io.BytesIO(ended["images"][0].data)).size == (512, 768)
    assert webui.last("/sdapi/v1/txt2img").body["prompt"] == LLM_ANSWER


@pytest.mark.parametrize("with_mask", [True, False])
def test_repaint_an_uploaded_picture(plugin, webui, file_server, with_mask):
    inputs = {"picture": a_file(file_server, "room.png", png()), "prompt": "a plant by the window", "strength": 0.5}
    if with_mask:
        inputs["mask"] = a_file(file_server, "room-mask.png", png())
    ended = run_workflow(plugin, webui, "inpaint-uploaded-picture.yml", inputs)
    sent = webui.last("/sdapi/v1/img2img").body
    assert ("mask" in sent) == with_mask and sent["denoising_strength"] == 0.5
    assert Image.open(io.BytesIO(ended["images"][0].data)).size == (96, 64)


def test_upscale_for_print(plugin, webui, file_server):
    ended = run_workflow(
        plugin, webui, "upscale-for-print.yml", {"picture": a_file(file_server, "small.png", png()), "factor": 2}
    )
    assert (ended["width"], ended["height"]) == (192, 128)


def test_picture_to_prompt_to_picture(plugin, webui, file_server):
    inputs = {"picture": a_file(file_server, "ref.png", png()), "change": "watercolor"}
    ended = run_workflow(plugin, webui, "picture-to-prompt-to-picture.yml", inputs)
    assert webui.last("/sdapi/v1/txt2img").body["prompt"] == f"{ended['prompt']}, watercolor"


def test_variations_from_png_info(plugin, webui, file_server):
    made = plugin.invoke(
        "txt2img", {"prompt": "a red lighthouse", "width": 256, "height": 192, "steps": 9}, creds(webui)
    )
    assert made.error is None, made.error
    inputs = {"picture": a_file(file_server, "made.png", made.files[0].data)}
    ended = run_workflow(plugin, webui, "variations-from-png-info.yml", inputs)
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["prompt"], sent["width"], sent["height"], sent["steps"]) == ("a red lighthouse", 256, 192, 9)
    assert len(ended["images"]) == 2 and ended["seeds"][0] != made.variables["seed"]


def test_the_agent_example_draws_with_its_fixed_settings(plugin, webui):
    dsl = load("agent-illustrator.yml")
    [tool] = dsl["model_config"]["agent_mode"]["tools"]
    chosen_by_the_llm = {"prompt": "a cat sleeping on a windowsill", "aspect_ratio": "landscape", "count": 2}
    result = plugin.invoke(
        tool["tool_name"], {**tool["tool_parameters"], **chosen_by_the_llm}, creds(webui), message_id="agent-1"
    )
    assert result.error is None, result.error
    assert len(result.files) == 2 and result.text.startswith("Generated 2 images (768×512)")
    sent = webui.last("/sdapi/v1/txt2img").body
    assert (sent["sampler_name"], sent["scheduler"], sent["steps"]) == ("DPM++ 2M", "Karras", 25)
    assert sent["negative_prompt"].startswith("lowres, bad anatomy")
