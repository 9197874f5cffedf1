"""The calls an agent can make, one per tool, from any runner; and a server that answers 4 MB.

tests/e2e/test_agent_delivery.py and bench/agent_reads.py use the same calls, so the
README's figures are the tests' cases.
"""

from __future__ import annotations

import base64
import io
import json
import re
from typing import Any

from PIL import Image
from PIL.PngImagePlugin import PngInfo

from tests.conftest import creds
from tests.daemon import RUNNERS, PluginProcess, Result
from tests.dify_files import DifyFiles
from tests.emulator import Emulator

MODEL_BUDGET = 400  # characters a model may read from one call, picture links aside
AGENTS = ("agent_app", "agent_node", "new_agent")
# A workflow Agent node sends the same ids as a workflow's tool node (app_id only), so the
# node's `delivery` setting says what it is; the other runners are told apart by their ids.
NODE_SETTINGS: dict[str, dict[str, Any]] = {"agent_app": {}, "agent_node": {"delivery": "files"}, "new_agent": {}}
PICTURE_TOOLS = ("generate_image", "txt2img", "img2img", "upscale", "job_result")
TOOLS = (*PICTURE_TOOLS, "interrogate", "png_info", "list_resources")
# 4 MB that a server could answer with: quotes and non-ASCII grow when JSON-escaped
BIG = ('Key: "välue", ' * 300_000)[:4_000_000]
LINK = re.compile(r"!\[[^\]\n]*\]\((\S+?)\)")


def png(size: tuple[int, int] = (64, 64), parameters: str | None = None) -> bytes:
    info = PngInfo()
    if parameters is not None:
        info.add_text("parameters", parameters)
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 220)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def data_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


INFOTEXT = (
    "a lighthouse\nSteps: 4, Sampler: Euler a, CFG scale: 7.0, Seed: 123, Size: 64x64, Model: v1-5-pruned-emaonly"
)
INPUTS: dict[str, dict[str, Any]] = {
    "generate_image": {"prompt": "a lighthouse at dusk", "width": 1024, "height": 1024, "seed": 123, "steps": 4},
    "txt2img": {"prompt": "a lighthouse at dusk", "width": 64, "height": 64, "seed": 123, "steps": 4},
    "img2img": {"prompt": "a lighthouse at dusk", "init_image_url": data_uri(png()), "seed": 123, "steps": 4},
    "upscale": {"image_url": data_uri(png())},
    "interrogate": {"image_url": data_uri(png())},
    "png_info": {"image_url": data_uri(png(parameters=INFOTEXT))},
    "list_resources": {},
}


def swell(server: Emulator, tool: str) -> None:
    """Make the server's answer for ``tool`` carry BIG where it carries free text."""
    if tool in ("generate_image", "txt2img", "img2img", "job_result"):
        generate = server.engine.generate

        def swollen(request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            answer = generate(request, **kwargs)
            info = json.loads(answer["info"])
            info["infotexts"] = [text + "\n" + BIG for text in info["infotexts"]]
            answer["info"] = json.dumps(info)
            return answer

        server.engine.generate = swollen  # type: ignore[method-assign]
    elif tool == "upscale":
        single = server._extra_single

        def swollen_upscale(body: Any) -> Any:
            return {**single(body), "html_info": f"<p>{BIG}</p>"}

        server._extra_single = swollen_upscale  # type: ignore[method-assign]
    elif tool == "interrogate":
        server.answers["/sdapi/v1/interrogate"] = {"caption": BIG}
    elif tool == "png_info":
        server.answers["/sdapi/v1/png-info"] = {"info": BIG, "items": {}, "parameters": {}}
    elif tool == "list_resources":
        model = dict(server.engine.checkpoints[0])
        server.answers["/sdapi/v1/sd-models"] = [
            {**model, "title": f"model-{i:05d}-{'é' * 150}.safetensors", "model_name": f"model-{i:05d}"}
            for i in range(20_000)
        ]


def call(plugin: PluginProcess, server: Emulator, tool: str, runner: str, files: DifyFiles, **settings: Any) -> Result:
    """One call of ``tool`` from ``runner``; job_result first queues a job from a workflow."""
    inputs = dict(INPUTS.get(tool, {}))
    if tool == "job_result":
        server.extensions.add("agent-scheduler")
        queued = plugin.invoke("txt2img", {**INPUTS["txt2img"], "queue": True}, creds(server))
        assert queued.error is None, queued.error
        inputs = {"task_id": queued.variables["task_id"], "wait": 30}
    parameters = {**inputs, **NODE_SETTINGS.get(runner, {}), **settings}
    return plugin.invoke(tool, parameters, creds(server), runner=RUNNERS[runner], files=files)


def outside_links(reads: str) -> str:
    """What a model reads besides the markdown images of the pictures."""
    return LINK.sub("", reads)
