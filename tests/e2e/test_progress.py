"""Live progress through the daemon protocol: queue position and steps before the image, and
nothing about the result changes when progress cannot be read."""

from __future__ import annotations

import threading
import time

import requests

from tests.conftest import creds
from tests.emulator import Emulator

PARAMETERS = {"prompt": "a lighthouse", "width": 64, "height": 64, "steps": 8, "seed": 5}


def occupy(server: Emulator, seconds: float) -> threading.Thread:
    """Another user's job that holds the WebUI's queue for about ``seconds``."""
    body = {"prompt": "someone else", "width": 64, "height": 64, "steps": 8}

    def run() -> None:
        requests.post(server.url + "/sdapi/v1/txt2img", json=body, timeout=60)

    thread = threading.Thread(target=run, daemon=True)
    server.engine.generation_delay = seconds
    thread.start()
    deadline = time.monotonic() + 5
    while server.engine.tasks.current is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return thread


def progress_lines(result) -> list[str]:
    return [chunk.strip() for name, chunk in result.streamed if name == "progress"]


def test_queue_position_and_steps_arrive_before_the_image_in_order(plugin):
    with Emulator("a1111") as server:
        other = occupy(server, 2.5)
        result = plugin.invoke("txt2img", PARAMETERS, creds(server), timeout=60)
        other.join()
    assert result.error is None, result.error
    lines = progress_lines(result)
    assert lines[0] == "queued (1 ahead)" and lines[-1] == "done"
    steps = [int(line.split("step ")[1].split("/")[0]) for line in lines if "step " in line]
    assert steps and steps == sorted(steps) and all("/8" in line for line in lines if "step " in line)
    assert any("%" in line and "ETA" in line for line in lines)
    kinds = [message["type"] for message in result.messages]
    last_progress = max(i for i, m in enumerate(result.messages) if m["type"] == "variable" and m["message"]["stream"])
    assert last_progress < kinds.index("blob_chunk")  # every progress line before the image
    assert "progress" not in result.text and result.variables["progress"].endswith("done\n")
    sent = server.last("/sdapi/v1/txt2img").body
    assert sent["force_task_id"].startswith("task(sdwebui-")


def test_the_hires_pass_is_named(plugin):
    with Emulator("a1111", generation_delay=2.5) as server:
        result = plugin.invoke("txt2img", {**PARAMETERS, "enable_hr": True, "hr_scale": 1.5}, creds(server))
    assert result.error is None, result.error
    assert any(line.startswith("hires pass · step") for line in progress_lines(result))


def test_a_broken_progress_route_changes_nothing(plugin):
    with Emulator("a1111", generation_delay=1.5) as server:
        reference = plugin.invoke("txt2img", {**PARAMETERS, "progress": False}, creds(server))
        for fault in ("hang", "close", "html_200"):
            server.faults["/internal/progress"] = fault
            started = time.monotonic()
            result = plugin.invoke("txt2img", PARAMETERS, creds(server))
            assert time.monotonic() - started < 5  # a poll that hangs does not hold the result
            assert result.error is None, (fault, result.error)
            assert [f.data for f in result.files] == [f.data for f in reference.files]
            assert progress_lines(result) == ["done"]
    assert progress_lines(reference) == []


def test_without_per_task_progress_nothing_is_guessed(plugin):
    """--nowebui has no /internal/progress; the global /progress could be anyone's job."""
    with Emulator("a1111", generation_delay=1.5, nowebui=True) as server:
        result = plugin.invoke("txt2img", PARAMETERS, creds(server))
        assert result.error is None, result.error
        assert progress_lines(result) == ["done"]
        assert len(server.calls("POST", "/internal/progress")) == 1  # asked once, then never again
        assert server.calls("GET", "/sdapi/v1/progress") == []


def test_agent_apps_get_no_progress(plugin):
    """Dify hands an Agent app's every tool message, stream variables included, to the LLM."""
    with Emulator("a1111", generation_delay=1.5) as server:
        result = plugin.invoke("txt2img", PARAMETERS, creds(server), message_id="agent-message-1")
        assert result.error is None, result.error
        assert progress_lines(result) == [] and server.calls("POST", "/internal/progress") == []


def test_a_line_only_when_the_step_or_the_queue_changes(plugin):
    """The ETA changes with every poll; a new line comes when the step, the phase or the
    place in the queue does (and an ETA-only line at most every few seconds)."""
    with Emulator("a1111", generation_delay=6.0) as server:
        result = plugin.invoke("txt2img", {**PARAMETERS, "steps": 2}, creds(server), timeout=60)
    assert result.error is None, result.error
    lines = progress_lines(result)
    assert lines[-1] == "done" and any(line.startswith("step 1/2") for line in lines)
    assert len(lines) <= 4, lines  # step 1/2, step 2/2, done; not one a second
