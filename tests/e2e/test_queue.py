"""Jobs longer than Dify's cap: queue with sd-webui-agent-scheduler, then job_result (daemon protocol)."""

from __future__ import annotations

import base64
import io
import time

import pytest
from PIL import Image

from tests.conftest import AUTH, creds
from tests.emulator import Emulator
from tests.emulator import scheduler as agent_scheduler
from tests.files_server import dify_file
from webui.jobs import handles

PARAMETERS = {"prompt": "a long job", "width": 64, "height": 64, "seed": 21, "batch_size": 2, "queue": True}


@pytest.fixture
def scheduler():
    with Emulator("a1111", auth=AUTH, generation_delay=1.5) as server:
        server.extensions.add("agent-scheduler")
        yield server


def test_submit_returns_at_once_then_job_result_delivers(plugin, scheduler):
    queued = plugin.invoke("txt2img", PARAMETERS, creds(scheduler))
    assert queued.error is None, queued.error
    variables = queued.variables
    assert variables["done"] is False and variables["status"] in ("pending", "running") and variables["task_id"]
    assert queued.files == [] and "ask job_result" in queued.text
    assert scheduler.calls("POST", "/sdapi/v1/txt2img") == []  # the queue runs it, not this call
    [submitted] = scheduler.calls("POST", "/agent-scheduler/v1/queue/txt2img")
    assert submitted.headers["Authorization"].startswith("Basic ")
    assert submitted.body["force_task_id"].startswith("task(sdwebui-")  # A1111 runs it under our id
    task_id = variables["task_id"]

    running = plugin.invoke("job_result", {"task_id": task_id, "wait": 0}, creds(scheduler))
    assert running.error is None and running.variables["done"] is False

    done = plugin.invoke("job_result", {"task_id": task_id, "wait": 20}, creds(scheduler))
    assert done.error is None, done.error
    assert done.variables["done"] is True and done.variables["status"] == "done"
    assert [file.filename for file in done.files] == ["txt2img_21.png", "txt2img_22.png"]
    assert done.variables["seeds"] == [21, 22] and done.variables["image_count"] == 2
    assert done.variables["model"] == "v1-5-pruned-emaonly" and "Seed: 22" in done.variables["infotexts"][1]


def test_a_second_job_waits_with_its_position(plugin, scheduler):
    first = plugin.invoke("txt2img", PARAMETERS, creds(scheduler))
    second = plugin.invoke("txt2img", {**PARAMETERS, "seed": 99}, creds(scheduler))
    assert first.error is None and second.error is None
    state = plugin.invoke("job_result", {"task_id": second.variables["task_id"], "wait": 0}, creds(scheduler))
    # the running first job still reads "pending" at position 0 (as_task_running.json)
    assert state.variables["status"] == "pending" and state.variables["position"] == 1
    assert "queued (1 ahead)" in state.text


def test_img2img_from_a_file_can_be_queued(plugin, scheduler, file_server):
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (5, 5, 5)).save(out, format="PNG")
    url = file_server.add("q.png", out.getvalue())
    queued = plugin.invoke("img2img", {"init_image": dify_file(url, "q.png"), "queue": True}, creds(scheduler))
    assert queued.error is None, queued.error
    [submitted] = scheduler.calls("POST", "/agent-scheduler/v1/queue/img2img")
    assert base64.b64decode(submitted.body["init_images"][0]) == out.getvalue()
    done = plugin.invoke("job_result", {"task_id": queued.variables["task_id"], "wait": 20}, creds(scheduler))
    assert done.error is None and done.files[0].filename.startswith("img2img_")


def test_a_failed_job_is_an_error_with_the_servers_reason(plugin, scheduler):
    queued = plugin.invoke("txt2img", {**PARAMETERS, "override_settings": '{"nope_key": 1}'}, creds(scheduler))
    assert queued.error is None, queued.error
    result = plugin.invoke("job_result", {"task_id": queued.variables["task_id"], "wait": 20}, creds(scheduler))
    assert result.error_type == "JobFailed" and "failed on the WebUI: 'nope_key'" in result.error_message


def test_an_unknown_task_id_is_a_clear_error(plugin, scheduler):
    result = plugin.invoke("job_result", {"task_id": "0b1e-no-such-task", "wait": 0}, creds(scheduler))
    assert result.error_type == "InvalidParameter" and "no such task (Task not found)" in result.error_message
    bad = plugin.invoke("job_result", {"task_id": "../../etc", "wait": 0}, creds(scheduler))
    assert bad.error_type == "InvalidParameter" and "task_id" in bad.error_message


def test_without_the_extension_both_tools_say_how_to_get_it(plugin, webui):
    queued = plugin.invoke("txt2img", PARAMETERS, creds(webui))
    assert queued.error_type == "ExtensionMissing" and "sd-webui-agent-scheduler" in queued.error_message
    result = plugin.invoke("job_result", {"task_id": "abc", "wait": 0}, creds(webui))
    assert result.error_type == "ExtensionMissing"


def test_the_queue_checks_credentials_itself(plugin, scheduler):
    result = plugin.invoke("job_result", {"task_id": "abc", "wait": 0}, creds(scheduler, password="wrong"))
    assert result.error_type == "AuthenticationFailed"


def test_a_callback_url_is_never_sent(plugin, scheduler):
    parameters = {**PARAMETERS, "extra_payload": '{"callback_url": "http://attacker.example/steal"}'}
    result = plugin.invoke("txt2img", parameters, creds(scheduler))
    assert result.error_type == "UnsafeInput" and "callback_url" in result.error_message
    assert scheduler.calls("POST") == []


def picture(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 0, 0)).save(out, format="PNG")
    return out.getvalue()


def test_a_controlnet_unit_is_queued_in_the_shape_the_queue_reads(plugin, scheduler, file_server):
    """as_queue_txt2img_controlnet_b64.json: a plain base64 image is a 500; {image, mask} works."""
    scheduler.extensions.add("controlnet")
    url = file_server.add("pose.png", picture())
    parameters = {
        **PARAMETERS,
        "batch_size": 1,
        "controlnet_image": dify_file(url, "pose.png"),
        "controlnet_module": "OpenPose_Full",
        "controlnet_model": "control_v11p_sd15_openpose",
    }
    queued = plugin.invoke("txt2img", parameters, creds(scheduler))
    assert queued.error is None, queued.error
    [unit] = scheduler.last("/agent-scheduler/v1/queue/txt2img").body["alwayson_scripts"]["ControlNet"]["args"]
    assert unit["image"]["mask"] is None and base64.b64decode(unit["image"]["image"]) == picture()
    done = plugin.invoke("job_result", {"task_id": queued.variables["task_id"], "wait": 20}, creds(scheduler))
    assert done.error is None, done.error
    assert 'ControlNet 0: "Module: openpose_full' in done.variables["infotexts"][0]
    direct = plugin.invoke("txt2img", {**parameters, "queue": False}, creds(scheduler))  # the direct route: unchanged
    assert direct.error is None, direct.error
    [unit] = scheduler.last("/sdapi/v1/txt2img").body["alwayson_scripts"]["ControlNet"]["args"]
    assert base64.b64decode(unit["image"]) == picture()


def test_job_result_counts_the_generated_pictures_not_the_grid(plugin, scheduler):
    parameters = {**PARAMETERS, "seed": 33, "batch_size": 2, "n_iter": 2}
    queued = plugin.invoke("txt2img", parameters, creds(scheduler))
    done = plugin.invoke("job_result", {"task_id": queued.variables["task_id"], "wait": 30}, creds(scheduler))
    assert done.error is None, done.error
    variables = done.variables
    assert variables["image_count"] == 4 and variables["seeds"] == [33, 34, 35, 36]
    assert (variables["width"], variables["height"]) == (64, 64) and len(variables["subseeds"]) == 4
    assert done.text.startswith("Generated 4 images (64×64)") and "seed 33, 34, 35, 36" in done.text
    summary = done.json[0]
    assert summary["server"]["version"] == scheduler.flavour.version and done.files[0].filename == "txt2img_33.png"
    assert (summary["parameters"]["prompt"], summary["parameters"]["n_iter"]) == ("a long job", 2)


def test_a_running_queued_job_says_running_with_its_progress(plugin, scheduler):
    """as_task_running.json: the task route says pending; the job runs under our force_task_id."""
    scheduler.engine.generation_delay = 6.0
    queued = plugin.invoke("txt2img", {**PARAMETERS, "batch_size": 1, "steps": 8}, creds(scheduler))
    task_id = queued.variables["task_id"]
    deadline = time.monotonic() + 10
    while not scheduler.engine.progress.job and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(1.0)
    state = plugin.invoke("job_result", {"task_id": task_id, "wait": 0}, creds(scheduler))
    assert state.error is None, state.error
    assert state.variables["status"] == "running" and state.variables["done"] is False
    assert "step " in state.variables["progress"] and "/8" in state.variables["progress"]
    assert f"Task {task_id} is step " in state.text


def test_a_queue_that_does_not_move_is_set_going(plugin, scheduler, monkeypatch):
    """A job queued while the runner winds down stays pending ("Runner already started");
    POST /task/{id}/run starts it."""
    monkeypatch.setattr(agent_scheduler, "LINGER", 60.0)  # the runner winds down for a whole minute
    scheduler.engine.generation_delay = 0.2
    first = plugin.invoke("txt2img", {**PARAMETERS, "batch_size": 1}, creds(scheduler))
    done = plugin.invoke("job_result", {"task_id": first.variables["task_id"], "wait": 20}, creds(scheduler))
    assert done.error is None, done.error
    late = plugin.invoke("txt2img", {**PARAMETERS, "batch_size": 1, "seed": 7}, creds(scheduler))
    handle = late.variables["task_id"]
    result = plugin.invoke("job_result", {"task_id": handle, "wait": 20}, creds(scheduler))
    assert result.error is None, result.error
    assert result.variables["done"] is True and result.variables["seeds"] == [7]
    assert len(scheduler.calls("POST", f"/agent-scheduler/v1/task/{handles.split(handle)[0]}/run")) == 1


def test_a_queue_held_by_a_failed_generation_is_explained(plugin, scheduler):
    """A1111 leaves its running-task marker set after a failed API generation; the queue waits
    for any other generation to finish (as_stuck_queue_after_failed_task.json)."""
    failing = plugin.invoke("txt2img", {**PARAMETERS, "override_settings": '{"nope_key": 1}'}, creds(scheduler))
    failed = plugin.invoke("job_result", {"task_id": failing.variables["task_id"], "wait": 20}, creds(scheduler))
    assert failed.error_type == "JobFailed"
    time.sleep(1.5)  # the runner has ended; the next job starts one, which waits for the marker
    waiting = plugin.invoke("txt2img", {**PARAMETERS, "batch_size": 1}, creds(scheduler))
    result = plugin.invoke("job_result", {"task_id": waiting.variables["task_id"], "wait": 8}, creds(scheduler))
    assert result.error_type == "QueueStalled", result.error
    message = result.error_message
    assert "failed" in message and "any generation" in message and "without queue" in message
    direct = plugin.invoke("txt2img", {**PARAMETERS, "batch_size": 1, "queue": False}, creds(scheduler))
    assert direct.error is None, direct.error
    result = plugin.invoke("job_result", {"task_id": waiting.variables["task_id"], "wait": 20}, creds(scheduler))
    assert result.error is None and result.variables["done"] is True, result.error


def test_a_paused_queue_is_named(plugin, scheduler):
    scheduler.scheduler.pause()
    queued = plugin.invoke("txt2img", PARAMETERS, creds(scheduler))
    state = plugin.invoke("job_result", {"task_id": queued.variables["task_id"], "wait": 0}, creds(scheduler))
    assert state.error is None, state.error
    assert state.variables["status"] == "pending" and "queue is paused on the WebUI" in state.text
    assert [call for call in scheduler.calls("POST") if call.path.endswith("/run")] == []
