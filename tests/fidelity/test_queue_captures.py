"""Replay tests/captures/a1111-110-ext/ (agent-scheduler as_*, per-task progress ip_*) against the emulator.

The captures were taken in one session on a real A1111 1.10.1 with sd-webui-agent-scheduler
(INDEX.md there): a paused queue of four jobs, resumed, watched while running and after.
The tests replay that story in the same order and compare status, body keys and every
value that is not random on the real server (task ids, timestamps, A1111's own task ids,
ETAs); pictures are compared by count, format and size.
"""

from __future__ import annotations

import base64
import io
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from tests.emulator import Emulator

HERE = Path(__file__).resolve().parent.parent / "captures" / "a1111-110-ext"
AS = "/agent-scheduler/v1"
MARKER = re.compile(r"\.\.\.<truncated: [^>]*format=(\w+), size=(\d+)x(\d+), mode=(\w+)>$")
API_TASK_ID = re.compile(r"^task\((txt2img|img2img)-[0-9A-Z]{7}\)$")
ISO_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")
# differ on every run of the real server
RANDOM_TASK_KEYS = {"id", "priority", "created_at", "updated_at", "result"}


def load(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text(encoding="utf-8"))


def picture(fmt: str, width: int, height: int) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format=fmt)
    return base64.b64encode(out.getvalue()).decode()


def rebuild(value: Any) -> Any:
    """A captured body with real pictures where the capture cut them short."""
    if isinstance(value, str) and (found := MARKER.search(value)):
        fmt, width, height, _ = found.groups()
        return picture(fmt, int(width), int(height))
    if isinstance(value, list):
        return [rebuild(item) for item in value]
    if isinstance(value, dict):
        return {key: rebuild(item) for key, item in value.items()}
    return value


def described(data_uri: str) -> tuple[str, int, int]:
    image = Image.open(io.BytesIO(base64.b64decode(data_uri.split(",", 1)[-1])))
    return image.format, image.width, image.height


def captured_picture(text: str) -> tuple[str, int, int]:
    fmt, width, height, _ = MARKER.search(text).groups()
    return fmt, int(width), int(height)


class Server:
    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def call(self, method: str, path: str, body: Any = None) -> requests.Response:
        return requests.request(method, self.emulator.url + path, json=body, timeout=30)

    def replay(self, name: str, path: str | None = None) -> tuple[dict[str, Any], requests.Response]:
        """Send a captured request (to ``path`` when its task id differs here) and check the status."""
        capture = load(name)
        request = capture["request"]
        response = self.call(request["method"], path or request["path"], rebuild(request.get("body")))
        assert response.status_code == capture["status"], (name, response.text)
        return capture["body"], response

    def same(self, name: str, path: str | None = None) -> Any:
        """Replay a capture whose answer holds nothing random: the bodies are equal."""
        expected, response = self.replay(name, path)
        assert response.json() == expected, name
        return expected

    def until(self, check, seconds: float = 20.0) -> Any:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if found := check():
                return found
            time.sleep(0.05)
        raise AssertionError("the emulator never got there")


def task_matches(captured: dict[str, Any], actual: dict[str, Any]) -> None:
    assert set(actual) == set(captured)
    for key, value in captured.items():
        if key not in RANDOM_TASK_KEYS:
            assert actual[key] == value, key


@pytest.fixture
def server():
    with Emulator("a1111", generation_delay=2.0) as emulator:
        emulator.extensions.update({"agent-scheduler", "controlnet"})
        yield Server(emulator)


def test_the_captured_queue_story(server):
    """Paused queue of four (one refused), resumed, watched while it runs, then after."""
    captured, answer = server.replay("as_queue_idle")  # the captured server had a stale marker (see below)
    assert answer.json() == {**captured, "current_task_id": None}
    server.same("as_queue_pause")
    _, plain = server.replay("as_queue_txt2img_plain")
    server.same("as_queue_txt2img_controlnet_b64")  # a plain base64 unit image: 500 TypeError
    _, with_dict = server.replay("as_queue_txt2img_controlnet_image_mask_dict")
    _, failing = server.replay("as_queue_txt2img_failing_hr_upscaler")
    id1, id3, id4 = (answer.json()["task_id"] for answer in (plain, with_dict, failing))
    assert all(set(answer.json()) == {"task_id"} for answer in (plain, with_dict, failing))

    captured, answer = server.replay("as_queue_paused_4_pending")
    queue = answer.json()
    assert set(queue) == set(captured) and (queue["paused"], queue["total_pending_tasks"]) == (True, 3)
    for want, got in zip(captured["pending_tasks"], queue["pending_tasks"], strict=True):
        task_matches(want, got)
        assert isinstance(got["created_at"], int)  # milliseconds in the queue's list
    captured, answer = server.replay("as_task_pending", f"{AS}/task/{id1}")
    task_matches(captured["data"], answer.json()["data"])
    assert ISO_STAMP.match(answer.json()["data"]["created_at"])  # an ISO string in the task route
    server.same("as_task_position_pending_first", f"{AS}/task/{id1}/position")
    server.same("as_task_position_pending_third", f"{AS}/task/{id3}/position")
    server.same("as_results_pending", f"{AS}/results/{id1}")
    server.same("as_task_results_pending", f"{AS}/task/{id1}/results")

    server.same("as_queue_resume")
    server.until(lambda: server.call("GET", "/sdapi/v1/progress").json()["state"]["job"])
    captured, answer = server.replay("as_task_running", f"{AS}/task/{id1}")
    task_matches(captured["data"], answer.json()["data"])  # a running API task reads "pending"
    server.same("as_task_position_running", f"{AS}/task/{id1}/position")
    server.same("as_results_running", f"{AS}/results/{id1}")
    captured, answer = server.replay("as_queue_while_running")
    assert API_TASK_ID.match(answer.json()["current_task_id"]) and API_TASK_ID.match(captured["current_task_id"])
    current = answer.json()["current_task_id"]
    assert answer.json()["pending_tasks"][0]["status"] == "pending"
    captured, answer = server.replay("as_sdapi_progress_while_running")
    assert set(answer.json()) == set(captured) and set(answer.json()["state"]) == set(captured["state"])
    timeline = load("as_running_timeline")["polls"]
    assert "running" not in {p["task1_status"] for p in timeline}  # the task route never said running
    expected = load("as_internal_progress_running_task_id")["body"]
    by_agent_id = {"id_task": id1, "id_live_preview": -1, "live_preview": True}
    assert server.call("POST", "/internal/progress", by_agent_id).json() == expected
    by_api_id = server.call("POST", "/internal/progress", {**by_agent_id, "id_task": current}).json()
    captured = load("as_internal_progress_running_current_task_id")["body"]
    assert set(by_api_id) == set(captured) and by_api_id["active"] is True and 0 <= by_api_id["progress"] < 1
    pending = server.call("POST", "/internal/progress", {**by_agent_id, "id_task": id4}).json()
    captured = load("as_internal_progress_pending_task_id")["body"]
    assert {k: v for k, v in pending.items() if k != "textinfo"} == {
        k: v for k, v in captured.items() if k != "textinfo"
    }
    assert re.fullmatch(r"In queue: \d+/\d+", pending["textinfo"])

    server.until(lambda: not server.call("GET", f"{AS}/queue").json()["pending_tasks"], 60)
    time.sleep(0.3)
    captured, answer = server.replay("as_task_done", f"{AS}/task/{id1}")
    task_matches(captured["data"], answer.json()["data"])
    result, want = json.loads(answer.json()["data"]["result"]), json.loads(captured["data"]["result"])
    assert set(result) == set(want) == {"images", "geninfo"} and len(result["images"]) == len(want["images"])
    assert set(result["geninfo"]) == set(want["geninfo"])
    captured, answer = server.replay("as_task_done_controlnet_image_mask_dict", f"{AS}/task/{id3}")
    task_matches(captured["data"], answer.json()["data"])
    captured = load("as_internal_progress_done_task_id")
    assert (
        server.call("POST", "/internal/progress", {**captured["request"]["body"], "id_task": id1}).json()
        == (captured["body"])
    )
    captured, answer = server.replay("as_task_failed", f"{AS}/task/{id4}")
    task_matches(captured["data"], answer.json()["data"])
    assert answer.json()["data"]["result"] == captured["data"]["result"] == "could not find upscaler named nope"
    server.same("as_task_position_done", f"{AS}/task/{id1}/position")
    for name, path in (
        ("as_results_done", f"{AS}/results/{id1}"),
        ("as_task_results_done", f"{AS}/task/{id1}/results"),
        ("as_results_done_controlnet_image_mask_dict", f"{AS}/results/{id3}"),
    ):
        captured, answer = server.replay(name, path)
        got = answer.json()
        assert set(got) == set(captured) and got["success"] is True
        assert [described(item["image"]) for item in got["data"]] == [
            captured_picture(item["image"]) for item in captured["data"]
        ]
        assert all(item["image"].startswith("data:image/png;base64,") for item in got["data"])
        for want_item, got_item in zip(captured["data"], got["data"], strict=True):
            assert got_item["infotext"].split("\n")[0] == want_item["infotext"].split("\n")[0]
            assert ("ControlNet 0:" in got_item["infotext"]) == ("ControlNet 0:" in want_item["infotext"])
    server.same("as_results_failed", f"{AS}/results/{id4}")
    server.same("as_results_unknown")
    server.same("as_task_unknown")
    server.same("as_task_position_unknown")
    for name in ("as_history", "as_history_status_failed"):
        captured, answer = server.replay(name)
        got = answer.json()
        assert set(got) == set(captured) and got["total"] == len(got["tasks"])
        assert all(set(task) == set(captured["tasks"][0]) for task in got["tasks"])
        if "failed" in name:
            assert {task["status"] for task in got["tasks"]} == {"failed"}

    # the failed task left A1111's running-task marker set; a direct generation clears it
    captured, answer = server.replay("as_queue_after")
    assert API_TASK_ID.match(answer.json()["current_task_id"]) and answer.json()["current_task_id"] != current
    assert {k: v for k, v in answer.json().items() if k != "current_task_id"} == {
        k: v for k, v in captured.items() if k != "current_task_id"
    }
    server.replay("as_unstick_after_failed_task_queue_before")
    server.replay("as_unstick_after_failed_task_direct_txt2img")
    server.same("as_unstick_after_failed_task_queue_after")
    server.same("as_queue_img2img_no_init")


def test_after_a_failed_task_the_queue_waits_for_another_generation(server):
    """as_stuck_*: pending tasks do not start while the marker of a failed generation is set."""
    failing = load("as_queue_txt2img_failing_hr_upscaler")["request"]["body"]
    failed = server.call("POST", f"{AS}/queue/txt2img", failing).json()["task_id"]
    server.until(lambda: server.call("GET", f"{AS}/task/{failed}").json()["data"]["status"] == "failed")
    time.sleep(1.5)  # past the runner's linger: the next task starts a runner, which then waits
    captured, answer = server.replay("as_unstick_before_queue_before")
    assert API_TASK_ID.match(answer.json()["current_task_id"]) and answer.json()["pending_tasks"] == []
    waiting = [
        server.call("POST", f"{AS}/queue/txt2img", {"prompt": f"stuck {n}", "width": 64, "height": 64}).json()
        for n in range(3)
    ]
    time.sleep(1.5)
    queue = server.call("GET", f"{AS}/queue").json()
    captured = load("as_stuck_queue_after_failed_task")["body"]
    assert API_TASK_ID.match(queue["current_task_id"]) and API_TASK_ID.match(captured["current_task_id"])
    assert [t["position"] for t in queue["pending_tasks"]] == [t["position"] for t in captured["pending_tasks"]]
    assert (queue["total_pending_tasks"], queue["paused"]) == (captured["total_pending_tasks"], captured["paused"])
    polls = load("as_stuck_timeline_after_failed_task")["polls"]
    progress = server.call("POST", "/internal/progress", {"id_task": waiting[0]["task_id"]}).json()
    assert progress["queued"] is True and progress["active"] is False
    assert {k for k, v in polls[0]["internal_progress_agent_task_id"].items()} == set(progress)
    assert server.call("GET", "/sdapi/v1/progress").json()["state"]["job"] == polls[-1]["sdapi_job"] == ""
    assert all(p["task_status"] == "pending" for p in polls)
    server.replay("as_unstick_before_direct_txt2img")
    time.sleep(0.5)
    captured, answer = server.replay("as_unstick_before_queue_after")  # the first waiting task now runs
    assert API_TASK_ID.match(answer.json()["current_task_id"]) and API_TASK_ID.match(captured["current_task_id"])
    for job in waiting:
        server.until(
            lambda job=job: server.call("GET", f"{AS}/task/{job['task_id']}").json()["data"]["status"] == "done"
        )


def test_a_task_queued_while_the_runner_winds_down_waits_for_run(server):
    """'Runner already started': the runner lingers 1 s after the queue ran dry and then ends."""
    server.emulator.engine.generation_delay = 0.2
    small = {"prompt": "first", "width": 64, "height": 64, "steps": 2}
    first = server.call("POST", f"{AS}/queue/txt2img", small).json()["task_id"]
    server.until(lambda: server.call("GET", f"{AS}/task/{first}").json()["data"]["status"] == "done")
    late = server.call("POST", f"{AS}/queue/txt2img", {**small, "prompt": "late"}).json()["task_id"]
    assert "Runner already started" in server.emulator.scheduler.log
    time.sleep(2.5)
    queue = server.call("GET", f"{AS}/queue").json()
    assert (queue["current_task_id"], queue["paused"], queue["total_pending_tasks"]) == (None, False, 1)
    assert server.call("GET", f"{AS}/task/{late}/position").json()["data"] == {"status": "pending", "position": 0}
    assert server.call("POST", f"{AS}/task/{late}/run").json() == {"success": True, "message": "Task is executing"}
    server.until(lambda: server.call("GET", f"{AS}/task/{late}").json()["data"]["status"] == "done")


def test_force_task_id_in_a_queued_body_names_the_running_job(server):
    """A1111's API takes force_task_id as its task id: the queue and /internal/progress show it."""
    body = {"prompt": "mine", "width": 64, "height": 64, "steps": 8, "force_task_id": "task(mine-1)"}
    task_id = server.call("POST", f"{AS}/queue/txt2img", body).json()["task_id"]
    server.until(lambda: server.call("GET", f"{AS}/queue").json()["current_task_id"] == "task(mine-1)")
    progress = server.call("POST", "/internal/progress", {"id_task": "task(mine-1)"}).json()
    assert progress["active"] is True and progress["progress"] is not None
    task = server.call("GET", f"{AS}/task/{task_id}").json()["data"]
    assert (task["status"], task["position"], task["params"]["force_task_id"]) == ("pending", 0, "task(mine-1)")
    server.until(lambda: server.call("GET", f"{AS}/task/{task_id}").json()["data"]["status"] == "done")
    finished = server.call("POST", "/internal/progress", {"id_task": "task(mine-1)"}).json()
    assert finished == load("ip_internal_progress_finished")["body"]


def test_per_task_progress_of_direct_jobs(server):
    """ip_*: running (force_task_id), queued behind it, finished, unknown; /sdapi/v1/progress meanwhile."""
    server.same("ip_internal_progress_unknown_id")
    idle = server.call("GET", "/sdapi/v1/progress").json()
    captured = load("ip_sdapi_progress_idle")["body"]
    assert set(idle) == set(captured) and (idle["progress"], idle["state"]["job_count"]) == (0.0, 0)
    server.emulator.engine.generation_delay = 3.0
    jobs = [load("ip_txt2img_force_task_id_result")["request"]["body"], {
        "prompt": "queued job", "width": 64, "height": 64, "steps": 2, "seed": 12345, "sampler_name": "Euler",
        "force_task_id": "task(capture_queued)"}]  # fmt: skip
    answers: list[requests.Response] = []
    threads = [
        threading.Thread(target=lambda b=b: answers.append(server.call("POST", "/sdapi/v1/txt2img", b))) for b in jobs
    ]
    threads[0].start()
    time.sleep(0.3)
    threads[1].start()
    time.sleep(0.3)
    for name in ("ip_internal_progress_running_live_preview_true", "ip_internal_progress_running_live_preview_false",
                 "ip_internal_progress_no_live_preview_field"):  # fmt: skip
        captured, answer = server.replay(name)
        got = answer.json()
        assert set(got) == set(captured) and got["active"] is True and got["textinfo"] is None
        assert 0 <= got["progress"] < 1 and (got["eta"] is None or got["eta"] >= 0)
    captured, answer = server.replay("ip_internal_progress_queued")
    assert {k: v for k, v in answer.json().items() if k != "textinfo"} == {
        k: v for k, v in captured.items() if k != "textinfo"
    }
    assert answer.json()["textinfo"] == "In queue: 1/1"  # the capture's server had 12 stale entries
    for name in ("ip_sdapi_progress_during_job", "ip_sdapi_progress_during_job_skip_current_image"):
        captured, answer = server.replay(name)
        got = answer.json()
        assert set(got) == set(captured) and set(got["state"]) == set(captured["state"])
        assert got["state"]["job"] == "scripts_txt2img" and got["state"]["sampling_steps"] == 20
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200, 200]
    server.same("ip_internal_progress_finished")
    server.same("ip_internal_progress_finished_queued_one")
    timeline = load("ip_internal_progress_timeline")["polls"]
    assert {p["body"]["active"] for p in timeline if not p.get("queued_job")} >= {True}


def test_every_capture_is_replayed():
    source = Path(__file__).read_text(encoding="utf-8")
    ours = [p.stem for p in HERE.glob("*.json") if p.stem.startswith(("as_", "ip_"))]  # the rest: test_captures.py
    missing = [stem for stem in ours if f'"{stem}"' not in source]
    assert not missing, missing
