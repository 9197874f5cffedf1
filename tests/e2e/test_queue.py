"""Jobs longer than Dify's cap: queue with sd-webui-agent-scheduler, then job_result (daemon protocol)."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.conftest import AUTH, creds
from tests.emulator import Emulator
from tests.files_server import dify_file

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
    assert submitted.headers["Authorization"].startswith("Basic ") and "force_task_id" not in submitted.body
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
    assert state.variables["status"] == "pending" and state.variables["position"] == 0
    assert "queued (next in line)" in state.text


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
