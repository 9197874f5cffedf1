"""Several WebUIs behind a real nginx (tests/balancer.py), driven through the daemon protocol:
calls spread over the backends, every request about a job reaches the backend running it
(also from a new plugin process), and a stopped backend fails no call that could go elsewhere.
"""

from __future__ import annotations

import collections
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.balancer import Balanced, NginxMissing, nginx_binary
from tests.daemon import ROOT, PluginProcess
from tests.emulator.server import Recorded
from webui.transport.http import ROUTE_HEADER

PARAMETERS = {"prompt": "a balanced lighthouse", "width": 64, "height": 64, "steps": 8}
CALLS = 24  # with random keys, a backend of three gets none of 24 calls about once in 10,000 runs


@pytest.fixture(scope="session")
def nginx() -> str:
    try:
        return nginx_binary()
    except NginxMissing as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(error))


@pytest.fixture
def pool(nginx: str) -> Iterator[Balanced]:
    """Three quick backends."""
    with Balanced(3) as pool:
        yield pool


@pytest.fixture
def slow_pool(nginx: str) -> Iterator[Balanced]:
    """Three backends taking 2.5 s per generation: long enough for progress polls."""
    with Balanced(3, generation_delay=2.5) as pool:
        yield pool


@pytest.fixture
def queue_pool(nginx: str) -> Iterator[Balanced]:
    """Three backends with the agent-scheduler queue, 1.5 s per generation."""
    with Balanced(3, generation_delay=1.5, setup=lambda server: server.extensions.add("agent-scheduler")) as pool:
        yield pool


def credentials(pool: Balanced) -> dict[str, Any]:
    return {"base_url": pool.url, "timeout": "60"}


def progress_lines(result) -> list[str]:
    return [chunk.strip() for name, chunk in result.streamed if name == "progress"]


def holder(pool: Balanced, handle: str) -> tuple[str, str]:
    """(the backend whose queue holds the job, the queue's task id) of the task_id a workflow holds."""
    [found] = [
        (name, task_id)
        for name, server in pool.backends.items()
        for task_id in server.scheduler.task_ids
        if handle.startswith(task_id)
    ]
    return found


def looked_up(pool: Balanced, task_id: str) -> set[str]:
    """The backends asked about the queue's task ``task_id`` (its state, results or progress)."""
    prefix = f"/agent-scheduler/v1/task/{task_id}"

    def about(r: Recorded) -> bool:
        if r.path == "/internal/progress":
            return isinstance(r.body, dict) and r.body.get("id_task") == task_id
        return r.path == prefix or r.path.startswith(prefix + "/")

    return set(pool.where(about))


def test_calls_spread_over_the_backends(plugin, pool):
    for _ in range(CALLS):
        result = plugin.invoke("txt2img", {**PARAMETERS, "progress": False}, credentials(pool))
        assert result.error is None, result.error
        assert len(result.files) == 1
    ran = collections.Counter(pool.served("POST", "/sdapi/v1/txt2img"))
    assert sum(ran.values()) == CALLS and set(ran) == set(pool.backends), ran
    keys = collections.defaultdict(set)  # routing key -> backends its requests reached
    for name, request in pool.requests():
        keys[request.headers[ROUTE_HEADER]].add(name)
    assert len(keys) == CALLS and all(len(backends) == 1 for backends in keys.values())


def test_requests_without_a_key_go_round_robin(pool):
    for _ in range(6):
        answer = requests.get(pool.url + "/sdapi/v1/sd-models", timeout=10)
        assert answer.status_code == 200
    assert collections.Counter(pool.served("GET", "/sdapi/v1/sd-models")) == {"b1": 2, "b2": 2, "b3": 2}


def test_every_progress_poll_reaches_the_backend_running_the_job(plugin, slow_pool):
    for _ in range(2):
        result = plugin.invoke("txt2img", PARAMETERS, credentials(slow_pool), timeout=60)
        assert result.error is None, result.error
        assert any(line.startswith("step ") or " · step " in line for line in progress_lines(result)), result.streamed
        [(runner, generation)] = slow_pool.requests("POST", "/sdapi/v1/txt2img")
        task_id = generation.body["force_task_id"]
        polls = slow_pool.where(
            lambda r, task_id=task_id: r.path == "/internal/progress" and r.body["id_task"] == task_id
        )
        assert len(polls) >= 2 and set(polls) == {runner}, polls
        assert set(slow_pool.served("GET", "/sdapi/v1/progress")) == {runner}
        for server in slow_pool.backends.values():
            server.reset()
            server.engine.generation_delay = 2.5


def test_every_queue_look_up_reaches_the_backend_of_the_job(plugin, queue_pool):
    task_ids = []
    for seed in range(4):
        queued = plugin.invoke("txt2img", {**PARAMETERS, "seed": seed, "queue": True}, credentials(queue_pool))
        assert queued.error is None, queued.error
        task_ids.append(queued.variables["task_id"])
    for task_id in task_ids:
        done = plugin.invoke("job_result", {"task_id": task_id, "wait": 30}, credentials(queue_pool), timeout=60)
        assert done.error is None, done.error
        assert done.variables["done"] is True and len(done.files) == 1
    for handle in task_ids:
        backend, task_id = holder(queue_pool, handle)
        assert looked_up(queue_pool, task_id) == {backend}, handle


def test_job_result_finds_the_job_from_a_new_plugin_process(plugin, queue_pool):
    """The workflow holds only the task id: a restarted plugin must route by it alone."""
    task_ids = []
    for seed in range(3):
        queued = plugin.invoke("txt2img", {**PARAMETERS, "seed": seed, "queue": True}, credentials(queue_pool))
        assert queued.error is None, queued.error
        task_ids.append(queued.variables["task_id"])
    with PluginProcess(ROOT) as fresh:
        for task_id in task_ids:
            running = fresh.invoke("job_result", {"task_id": task_id, "wait": 0}, credentials(queue_pool))
            assert running.error is None, running.error
            done = fresh.invoke("job_result", {"task_id": task_id, "wait": 30}, credentials(queue_pool), timeout=60)
            assert done.error is None, done.error
            assert done.variables["done"] is True and done.variables["task_id"] == task_id and len(done.files) == 1
    for handle in task_ids:
        backend, task_id = holder(queue_pool, handle)
        assert looked_up(queue_pool, task_id) == {backend}, handle


def test_a_stopped_backend_fails_no_call_that_could_go_elsewhere(plugin, pool):
    pool.stop("b2")
    started = time.monotonic()
    for _ in range(20):  # about a third of the keys point at b2: all 20 miss it once in 2,500 runs
        result = plugin.invoke("txt2img", {**PARAMETERS, "progress": False}, credentials(pool), timeout=30)
        assert result.error is None, result.error
        assert len(result.files) == 1
    checked = plugin.validate(credentials(pool))
    assert checked.error is None, checked.error
    options = plugin.fetch_options("txt2img", "pick_checkpoint", credentials(pool))
    assert options.error is None, options.error
    assert time.monotonic() - started < 30  # refused connections are retried at once, not waited on
    assert set(pool.served("POST", "/sdapi/v1/txt2img")) == {"b1", "b3"}
    assert "Connection refused" in pool.nginx.errors  # a call did try b2 first


def test_a_backend_that_drops_a_generation_fails_that_call_once(plugin, pool):
    for server in pool.backends.values():
        server.faults["/sdapi/v1/txt2img"] = "close"  # the connection closes before any answer
    started = time.monotonic()
    result = plugin.invoke("txt2img", {**PARAMETERS, "progress": False}, credentials(pool), timeout=30)
    assert time.monotonic() - started < 10
    assert result.error_type == "ServerFailed" and "proxy" in result.error_message
    assert len(pool.served("POST", "/sdapi/v1/txt2img")) == 1  # never sent again: it could run twice


def test_a_job_whose_backend_stopped_ends_with_an_error_not_a_hang(plugin, queue_pool):
    for server in queue_pool.backends.values():
        server.scheduler.paused = True  # the job stays pending where it was queued
    queued = plugin.invoke("txt2img", {**PARAMETERS, "queue": True}, credentials(queue_pool))
    assert queued.error is None, queued.error
    task_id = queued.variables["task_id"]
    queue_pool.stop(holder(queue_pool, task_id)[0])
    started = time.monotonic()
    result = plugin.invoke("job_result", {"task_id": task_id, "wait": 5}, credentials(queue_pool), timeout=60)
    assert time.monotonic() - started < 20
    # another backend answers the look-up: the job is not there, and the message says why that may be
    assert result.error_type == "InvalidParameter" and result.files == []
    assert "no such task" in result.error_message and "load balancer" in result.error_message
