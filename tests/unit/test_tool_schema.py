"""The tool YAML, the parameter texts and the request models stay in step, each fact stated once.

Where things go (README "Development" says the same):
- a typed tool parameter: its type, bounds and default in webui/requests/models.py, its texts in
  spec/parameters.yaml, its place in the tool's list in spec/tools.yaml; then run
  `python scripts/gen_tools.py`;
- a request field A1111 1.10.1 does not have: declare it in webui/requests/models.py with
  ``only_on("Forge")`` (who has it); nothing else changes.
This file fails when a fact is stated in two places, and proves every A1111 1.10.1
field is reachable.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import yaml

from glue.startup import FastYaml
from scripts import gen_tools
from tests.emulator.flavours import capture
from webui.requests.inputs import parse_inputs
from webui.requests.models import GenerationOptions, Img2ImgRequest, Txt2ImgRequest
from webui.requests.payload import build_payload
from webui.server.flavour import Family, Flavour

ROOT = Path(__file__).resolve().parents[2]
MODELS = {"txt2img": Txt2ImgRequest, "img2img": Img2ImgRequest}
SCHEMAS = {"txt2img": "StableDiffusionProcessingTxt2Img", "img2img": "StableDiffusionProcessingImg2Img"}

# Tool parameters that are not A1111 request fields, and where each one goes.
PLUGIN_ONLY = {
    "checkpoint": "override_settings.sd_model_checkpoint, checked against /sdapi/v1/sd-models",
    "vae": "override_settings.sd_vae (Forge: forge_additional_modules)",
    "clip_skip": "override_settings.CLIP_stop_at_last_layers (SD.Next: clip_skip)",
    "loras": "<lora:name:weight> tags appended to the prompt, names checked against /sdapi/v1/loras",
    "timeout": "how long the client waits",
    "progress": "the progress stream variable (glue/progress.py); force_task_id",
    "queue": "sd-webui-agent-scheduler's queue instead of txt2img/img2img",
    "extra_payload": "merged into the request last",
    "init_image": "init_images[0], from a Dify file",
    "init_images": "init_images, from Dify files",
    "init_image_url": "init_images[0], from a URL or base64 text",
    "mask": "mask, from a Dify file",
    "mask_url": "mask, from a URL or base64 text",
    **{name: "a ControlNet unit in alwayson_scripts (webui/extensions/controlnet.py)" for name in (
        "controlnet_units", "controlnet_module", "controlnet_model", "controlnet_weight", "controlnet_guidance_start",
        "controlnet_guidance_end", "controlnet_control_mode", "controlnet_resize_mode", "controlnet_pixel_perfect",
        "controlnet_processor_res", "controlnet_threshold_a", "controlnet_threshold_b",
    )},
    **{name: "an ADetailer unit in alwayson_scripts (webui/extensions/adetailer.py)" for name in (
        "adetailer_model", "adetailer_units", "adetailer_prompt", "adetailer_negative_prompt",
        "adetailer_denoising_strength", "adetailer_confidence", "adetailer_mask_blur", "adetailer_inpaint_only_masked",
        "adetailer_inpaint_only_masked_padding",
    )},
}  # fmt: skip
FILE_INPUTS = {"init_image", "init_images", "mask", "init_image_url", "mask_url"}


def tool_yaml(name: str) -> dict[str, Any]:
    return yaml.safe_load((ROOT / "tools" / f"{name}.yaml").read_text(encoding="utf-8"))


def generated_tools(with_model: bool = True) -> list[str]:
    spec = yaml.safe_load((ROOT / "spec/tools.yaml").read_text(encoding="utf-8"))
    return [name for name in spec if not name.startswith("_") and (name in MODELS or not with_model)]


def base_type(annotation: Any) -> Any:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def test_generated_yaml_is_current():
    command = [sys.executable, "scripts/gen_tools.py", "--check"]
    result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_plugin_only_options_are_documented():
    assert set(GenerationOptions.model_fields) <= set(PLUGIN_ONLY)


SPEC_KEYS = {"label", "human", "llm", "form", "required", "type", "multiple", "options"}


def spec_parameters() -> dict[str, dict[str, Any]]:
    return yaml.safe_load((ROOT / "spec/parameters.yaml").read_text(encoding="utf-8"))


def spec_tools() -> dict[str, dict[str, Any]]:
    spec = yaml.safe_load((ROOT / "spec/tools.yaml").read_text(encoding="utf-8"))
    return {name: tool for name, tool in spec.items() if not name.startswith("_")}


def test_each_fact_about_a_parameter_is_stated_once():
    """Membership only in tools.yaml; type, bounds and defaults only in the model; texts only in parameters.yaml."""
    texts = spec_parameters()
    listed: dict[str, list[str]] = {}
    for tool, declaration in spec_tools().items():
        names = declaration["parameters"] + declaration.get("settings", [])
        assert len(names) == len(set(names)), f"{tool} lists a parameter twice"
        for name in names:
            assert name in texts, f"{tool}.{name} has no texts in spec/parameters.yaml"
            listed.setdefault(name, []).append(tool)
    assert set(texts) == set(listed), f"texts for parameters no tool lists: {set(texts) - set(listed)}"
    for name, spec in texts.items():
        assert set(spec) <= SPEC_KEYS, f"{name}: {set(spec) - SPEC_KEYS} belongs in tools.yaml or the model"
        typed_by_model = [tool for tool in listed[name] if gen_tools.model_field(tool, name) is not None]
        # A Dify file input may share its name with the model field the glue fills from it.
        overrides = spec.get("type") not in (None, "file", "files")
        assert not (typed_by_model and overrides), f"{name}: the model already gives its type"
        assert typed_by_model or "type" in spec, f"{name}: neither a model field nor a type"


def glue_pickers() -> dict[str, str]:
    """glue.pickers.PICKERS, read in a child process: importing dify_plugin patches the interpreter."""
    code = "import json; from glue.pickers import PICKERS; print(json.dumps(PICKERS))"
    result = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True, text=True)
    return json.loads(result.stdout)


def test_pickers_fill_inputs_of_their_tool():
    """Every picker (dynamic-select) is known to the glue and fills a free-text input of its tool."""
    pickers = glue_pickers()
    declared = set()
    for tool in generated_tools(with_model=False):
        names = {param["name"] for param in tool_yaml(tool)["parameters"]}
        for param in tool_yaml(tool)["parameters"]:
            if param["type"] == "dynamic-select":
                declared.add(param["name"])
                assert param["name"] in pickers, f"{tool}.{param['name']} is not handled by glue/pickers.py"
                assert pickers[param["name"]][0] in names, f"{tool}.{param['name']} fills a missing input"
    assert declared == set(pickers)


@pytest.mark.parametrize("tool", generated_tools(with_model=False))
def test_workflow_facing_rules(tool):
    settings = set(spec_tools()[tool].get("settings", []))  # generate_image's node settings
    for param in tool_yaml(tool)["parameters"]:
        for key in ("label", "human_description"):
            assert {"en_US", "ja_JP", "zh_Hans"} <= set(param[key]), (
                f"{param['name']}.{key} needs en_US, ja_JP, zh_Hans"
            )
        for option in param.get("options") or []:
            assert {"en_US", "ja_JP", "zh_Hans"} <= set(option["label"]), f"{param['name']}: {option['value']}"
        if param["type"] == "dynamic-select" or param["name"] in settings:
            # form: llm would hand agents a "dynamic-select" JSON type; pickers are node settings
            assert param["form"] == "form", f"{param['name']}: pickers and settings stay out of the LLM's schema"
            assert "llm_description" not in param
            continue
        assert param["form"] == "llm", f"{param['name']} must be bindable from a workflow variable"
        if param["type"] in ("file", "files"):
            assert not param["required"], f"{param['name']}: agents cannot pass files"
        if param["type"] not in ("file", "files"):
            assert param.get("llm_description"), f"{param['name']} needs an llm_description"


def _sample(kind: dict[str, Any]) -> Any:
    return {"integer": 2, "number": 0.5, "boolean": True, "string": "x", "object": {"k": 1}, "array": ["x"]}[
        kind.get("type", "string")
    ]


@pytest.mark.parametrize("tool", generated_tools())
def test_every_a1111_1_10_1_field_is_reachable(tool):
    """Each field of the captured A1111 schema is a typed parameter or goes through extra_payload."""
    model = MODELS[tool]
    props = capture("openapi")["components"]["schemas"][SCHEMAS[tool]]["properties"]
    elsewhere = {name for name, field in model.model_fields.items() if (field.json_schema_extra or {}).get("only_on")}
    assert not elsewhere & set(props), "a field A1111 1.10.1 has is marked only_on"
    assert set(props) | elsewhere == set(model.model_fields), "fields not in A1111 1.10.1 must say only_on(...)"
    typed = {param["name"] for param in tool_yaml(tool)["parameters"]}
    for name, prop in props.items():
        if name in typed:
            continue
        value = _sample(prop)
        if name in ("width", "height"):
            value = 64
        if name == "infotext":  # applied by the plugin itself (webui/requests/infotext.py), never sent as is
            value = "a lighthouse\nSteps: 9, Sampler: Euler, Seed: 3"
        inputs = parse_inputs(model, {"extra_payload": {name: value}})
        payload = build_payload(inputs.request, inputs.options, Flavour(Family.A1111, "1.10+"), inputs.passthrough)
        if name == "infotext":
            assert (payload["prompt"], payload["steps"], payload["seed"]) == ("a lighthouse", 9, 3)
            continue
        assert name in payload, f"{tool}: {name} is not reachable through extra_payload"


@pytest.mark.parametrize("tool", generated_tools(with_model=False))
def test_each_tool_speaks_english_japanese_and_chinese(tool):
    identity, description = tool_yaml(tool)["identity"], tool_yaml(tool)["description"]
    assert {"en_US", "ja_JP", "zh_Hans"} <= set(identity["label"]) & set(description["human"])


def test_the_start_up_loader_reads_every_declaration_as_the_sdk_would():
    """main.py hands the SDK a faster loader (JSON copies, else libyaml): same documents as
    PyYAML's own loader, and a YAML changed by hand is read from the YAML, not its stale copy."""
    for path in [*(ROOT / "tools").glob("*.yaml"), ROOT / "provider/sdwebui.yaml", ROOT / "manifest.yaml"]:
        text = path.read_text(encoding="utf-8")
        with path.open(encoding="utf-8") as stream:
            assert FastYaml.safe_load(stream) == yaml.safe_load(text), path.name
        assert yaml.load(text, Loader=yaml.CSafeLoader) == yaml.safe_load(text), path.name


def test_a_stale_json_copy_is_not_used(tmp_path):
    source = (ROOT / "tools/png_info.yaml").read_text(encoding="utf-8")
    changed = tmp_path / "png_info.yaml"
    changed.write_text(source.replace("png_info", "png_info_changed"), encoding="utf-8")
    (tmp_path / "png_info.yaml.json").write_text(
        (ROOT / "tools/png_info.yaml.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    with changed.open(encoding="utf-8") as stream:
        assert FastYaml.safe_load(stream)["identity"]["name"] == "png_info_changed"


def test_list_resources_names_every_list_it_has():
    """The include parameter's text lists exactly the kinds list_resources gives, in order."""
    from webui import ResourceKind

    for language, text in spec_parameters()["include"]["human"].items():
        named = [kind for kind in ResourceKind if kind.value in text]
        assert named == list(ResourceKind), f"{language}: {text}"
        assert [text.index(kind.value) for kind in named] == sorted(text.index(kind.value) for kind in named)


def test_the_readmes_call_untyped_only_fields_without_a_parameter():
    """README's list of fields reached only through extra_payload (the line naming `s_noise`)
    names no field that txt2img or img2img has as a typed parameter."""
    typed = {p["name"] for tool in ("txt2img", "img2img") for p in tool_yaml(tool)["parameters"]}
    for readme in ("README.md", "readme/README_ja_JP.md", "readme/README_zh_Hans.md"):
        text = (ROOT / readme).read_text(encoding="utf-8")
        start = text.index("`s_noise`")
        line = text[text.rfind("\n", 0, start) : text.find("\n", start)]
        named = set(re.findall(r"`(\w+)`", line)) - {"extra_payload"}
        assert named and not named & typed, f"{readme}: {sorted(named & typed)} have typed parameters now"
