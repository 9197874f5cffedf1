"""sd-webui-agent-scheduler: a queue on the WebUI that outlives any caller's timeout.

As recorded from the real extension (a337533 on A1111 1.10.1): a job is queued with
``POST /agent-scheduler/v1/queue/{txt2img,img2img}`` (the usual request body) and gets a
``task_id``. ``GET /task/{id}`` says ``pending`` (with a ``position``: pending tasks ahead),
``done`` (``result`` is JSON: the saved pictures' paths and the generation's info),
``failed`` (``result`` is the error) or ``interrupted`` -- and ``pending`` while the job
runs, because A1111's API runs it under its own task id. The body's ``force_task_id``
becomes that id, so the plugin sends one and recognises its job as the queue's
``current_task_id`` (``GET /queue``) and in /internal/progress. Failures are answered
with HTTP 200 and ``{"success": false, "message": ...}``; the routes apply ``--api-auth``
themselves. A ``callback_url`` would make the WebUI post the pictures to that address:
the plugin never sends one.

The queue can stop moving. Its runner starts a task only while A1111 marks no task as
running, and A1111 leaves that mark set when a generation fails through its API: then
nothing starts until another generation finishes on the WebUI. And a task queued during
the second the runner takes to wind down after the last one is never picked up: then
``POST /task/{id}/run`` starts it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from webui.errors import (
    ApiDisabled,
    ExtensionMissing,
    InvalidParameter,
    InvalidResponse,
    JobFailed,
    QueueStalled,
    WebUIError,
)
from webui.extensions.controlnet import queued_units
from webui.images.results import ANSWER_MAX_BYTES, GenerationResult, ImageRole, parse_generation
from webui.requests.infotext import parse_infotext
from webui.requests.models import RequestKind
from webui.transport.http import ROUTE_HEADER, Transport

PREFIX = "/agent-scheduler/v1"


class JobState(StrEnum):
    """A queued task's status, as agent-scheduler names it."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    INTERRUPTED = "interrupted"


FINISHED = {JobState.DONE, JobState.FAILED, JobState.INTERRUPTED}
POLL_INTERVAL = 2.0
STALL_POLLS = 3  # a queue that has not moved in this many polls in a row is stalled
_MISSING = (
    "The WebUI has no agent-scheduler queue: install sd-webui-agent-scheduler (Extensions → Available, or "
    "https://github.com/ArtVentureX/sd-webui-agent-scheduler) and restart the WebUI."
)


@dataclass
class Job:
    task_id: str
    status: JobState
    kind: RequestKind = RequestKind.TXT2IMG
    position: int | None = None  # pending tasks ahead
    error: str | None = None
    run_id: str | None = None  # the force_task_id the job runs under
    params: dict[str, Any] = field(default_factory=dict)  # the request as the queue holds it
    info: dict[str, Any] = field(default_factory=dict)  # a done job's generation info
    note: str | None = None  # what the plugin did about a queue that did not move

    @property
    def done(self) -> bool:
        return self.status == JobState.DONE

    def describe(self) -> str:
        if self.status == JobState.PENDING:
            text = f"queued ({'next in line' if not self.position else f'{self.position} ahead'})"
            return f"{text}; {self.note}" if self.note else text
        return self.status


@dataclass
class _Queue:
    current: str | None
    paused: bool
    pending: int
    first: str | None  # the task the runner should start next


def _call(transport: Transport, method: str, route: str, action: str, payload: Any = None, **kwargs: Any) -> Any:
    try:
        answer = transport.call(method, PREFIX + route, action=action, payload=payload, **kwargs)
    except ApiDisabled:
        raise ExtensionMissing(_MISSING) from None
    if isinstance(answer, dict) and answer.get("success") is False:
        message = str(answer.get("message") or "no reason given")[:300]
        if "not found" in message.lower():
            raise InvalidParameter(
                f"The WebUI's queue has no such task ({message}); check task_id. Behind a load balancer, the "
                f"WebUI that holds it may be down, or the balancer does not hash on the {ROUTE_HEADER} header."
            )
        raise InvalidResponse(f"The WebUI's queue could not {action}: {message}.")
    return answer


def enqueue(transport: Transport, kind: str, payload: dict[str, Any]) -> Job:
    """Queue a txt2img/img2img body (ControlNet units in the queue's shape); the job as the
    queue reports it right after."""
    body = queued_units({key: value for key, value in payload.items() if key != "callback_url"})
    answer = _call(transport, "POST", f"/queue/{kind}", f"queue the {kind} job", body)
    task_id = answer.get("task_id") if isinstance(answer, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise InvalidResponse("The WebUI's queue accepted the job but returned no task_id.")
    return job(transport, task_id)


def _done_info(result: Any) -> dict[str, Any]:
    """The generation info a done task's ``result`` JSON carries ({} when it has none)."""
    try:
        info = json.loads(result).get("geninfo") if isinstance(result, str) else None
    except (ValueError, AttributeError):
        return {}
    return info if isinstance(info, dict) else {}


def job(transport: Transport, task_id: str) -> Job:
    answer = _call(transport, "GET", f"/task/{task_id}", "read the task", max_bytes=ANSWER_MAX_BYTES)
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or data.get("status") not in set(JobState):
        raise InvalidResponse("The WebUI's queue answered a task without a status it names.")
    status, position = JobState(data["status"]), data.get("position")
    params = data["params"] if isinstance(data.get("params"), dict) else {}
    run_id = params.get("force_task_id")
    return Job(
        task_id=task_id,
        status=status,
        kind=RequestKind.IMG2IMG if data.get("type") == RequestKind.IMG2IMG else RequestKind.TXT2IMG,
        position=position if isinstance(position, int) and not isinstance(position, bool) else None,
        error=str(data["result"])[:2000] if status != JobState.DONE and data.get("result") else None,
        run_id=run_id if isinstance(run_id, str) and run_id else None,
        params=params,
        info=_done_info(data.get("result")) if status == JobState.DONE else {},
    )


def _queue(transport: Transport) -> _Queue | None:
    """The queue's state (its first pending task only); None when it cannot be read."""
    try:
        answer = _call(transport, "GET", "/queue?limit=1", "read the queue", max_bytes=ANSWER_MAX_BYTES)
    except WebUIError:
        return None
    if not isinstance(answer, dict):
        return None
    listed = answer.get("pending_tasks")
    first = listed[0].get("id") if isinstance(listed, list) and listed and isinstance(listed[0], dict) else None
    current, pending = answer.get("current_task_id"), answer.get("total_pending_tasks")
    return _Queue(
        current if isinstance(current, str) and current else None,
        answer.get("paused") is True,
        pending if isinstance(pending, int) else 0,
        first if isinstance(first, str) else None,
    )


def _generating(transport: Transport) -> bool | None:
    """Whether the WebUI is generating anything at all (None: cannot tell)."""
    try:
        answer = transport.call("GET", "/sdapi/v1/progress?skip_current_image=true", action="read the progress")
    except WebUIError:
        return None
    state = answer.get("state") if isinstance(answer, dict) else None
    if not isinstance(state, dict):
        return None
    return bool(state.get("job")) or bool(state.get("job_count"))


class _Watch:
    """Follows one pending job over the polls: running under our id, or a queue that does not move."""

    def __init__(self, transport: Transport, task_id: str) -> None:
        self.transport, self.task_id = transport, task_id
        self.idle_polls = 0  # nothing running, our job could start, it does not
        self.held_polls = 0  # a task marked running, nothing generating
        self.started: set[str] = set()

    def look(self, current: Job) -> None:
        queue = _queue(self.transport)
        if queue is None or queue.paused or not queue.pending:
            self.idle_polls = self.held_polls = 0
            if queue is not None and queue.paused:
                current.note = "the queue is paused on the WebUI (resume it in its Agent Scheduler tab)"
            return
        if current.run_id and queue.current == current.run_id:
            current.status, current.position = JobState.RUNNING, None
            self.idle_polls = self.held_polls = 0
            return
        if queue.current is None:
            self.held_polls = 0
            self.idle_polls += 1
            if self.idle_polls >= STALL_POLLS and queue.first and queue.first not in self.started:
                self._run(queue.first, current)
            return
        self.idle_polls = 0
        self.held_polls = self.held_polls + 1 if _generating(self.transport) is False else 0
        if self.held_polls >= STALL_POLLS:
            raise QueueStalled(
                f"The WebUI's queue is stuck, so task {self.task_id} waits: A1111 still marks an earlier "
                f"generation ({queue.current[:80]}) as running although nothing runs. A1111 does that after a "
                "generation failed through its API, and agent-scheduler starts nothing while the mark is set. "
                "It clears when any generation finishes on the WebUI: run one small txt2img without queue "
                "(or generate once in the WebUI), then ask job_result again.",
                200,
                queue.current[:80],
            )

    def _run(self, task_id: str, current: Job) -> None:
        """agent-scheduler's 'run now' for the task the runner should have started."""
        self.started.add(task_id)
        self.idle_polls = 0
        try:
            _call(self.transport, "POST", f"/task/{task_id}/run", "start the waiting task")
        except WebUIError as error:
            current.note = f"the queue does not move and could not be started ({error.message[:200]})"
            return
        if task_id == self.task_id:
            current.note = "the queue did not move, so the plugin started it"

    @property
    def suspect(self) -> bool:
        return bool(self.idle_polls or self.held_polls)


def wait(transport: Transport, task_id: str, seconds: float) -> Job:
    """The task's state once it has finished, or after ``seconds`` of waiting (longer, up to
    a few polls, to tell a queue that does not move from one that is about to)."""
    deadline = time.monotonic() + seconds
    watch = _Watch(transport, task_id)
    while True:
        current = job(transport, task_id)
        if current.status == JobState.PENDING:
            watch.look(current)
        if current.status in FINISHED:
            break
        more = time.monotonic() + POLL_INTERVAL <= deadline
        if not more and not (watch.suspect and watch.idle_polls + watch.held_polls < STALL_POLLS):
            break
        time.sleep(POLL_INTERVAL)
    if current.status in (JobState.FAILED, JobState.INTERRUPTED):
        reason = current.error or "no reason given"
        raise JobFailed(f"The queued job {task_id} {current.status} on the WebUI: {reason}", 200, reason)
    return current


def results(transport: Transport, job: Job, timeout: float) -> GenerationResult:
    """The finished job's pictures: the generated ones, with the seeds the job's info states
    (a grid the WebUI saved comes first and is marked as such)."""
    answer = _call(
        transport, "GET", f"/task/{job.task_id}/results", "read the task's pictures", timeout=timeout,
        max_bytes=ANSWER_MAX_BYTES,
    )  # fmt: skip
    items = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidResponse("The WebUI's queue returned no pictures for the finished task.")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidResponse(f"Picture {index + 1} of the task's results is not an object.")
    infotexts = [item.get("infotext") if isinstance(item.get("infotext"), str) else None for item in items]
    info = dict(job.info)
    seeds = info.get("all_seeds") if isinstance(info.get("all_seeds"), list) else []
    first = info.get("index_of_first_image")
    if not seeds or not isinstance(first, int) or len(items) not in (first + len(seeds), len(seeds)):
        info = _info_from_infotexts(infotexts)  # no usable info: each picture says its own seed
    elif len(items) == len(seeds):
        info["index_of_first_image"] = 0  # the grid was not returned
    info["infotexts"] = infotexts
    body = {"images": [item.get("image") for item in items]}
    items.clear()
    result = parse_generation({**body, "info": info})
    # a grid only because agent-scheduler saves one: the direct route would not return it
    result.images = [image for image in result.images if image.role is not ImageRole.GRID]
    return result


def _info_from_infotexts(infotexts: list[str | None]) -> dict[str, Any]:
    settings = [parse_infotext(text).parameters if text else {} for text in infotexts]
    first = settings[0] if settings else {}
    seeds = [item.get("seed") for item in settings]
    return {
        "all_seeds": seeds if all(isinstance(seed, int) for seed in seeds) else [],
        "index_of_first_image": 0,
        "sd_model_name": first.get("checkpoint"),
        "sampler_name": first.get("sampler_name"),
        "extra_generation_params": {"Schedule type": first["scheduler"]} if first.get("scheduler") else {},
    }
