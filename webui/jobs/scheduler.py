"""sd-webui-agent-scheduler: a queue on the WebUI that outlives any Dify timeout.

Read from its source (ArtVentureX/sd-webui-agent-scheduler, agent_scheduler/api.py): a
job is queued with ``POST /agent-scheduler/v1/queue/{txt2img,img2img}`` (the usual request
body) and gets a ``task_id``; ``GET /task/{id}`` says ``pending`` (with a ``position``:
how many pending tasks are ahead), ``running``, ``done``, ``failed`` (``result`` holds the
error) or ``interrupted``; ``GET /task/{id}/results`` returns the pictures as data URIs
with their infotexts. Failures are answered with HTTP 200 and ``{"success": false,
"message": ...}``. The routes apply ``--api-auth`` themselves. A ``callback_url`` in the
body would make the WebUI post the pictures to that address: the plugin never sends one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from webui.errors import ApiDisabled, ExtensionMissing, InvalidParameter, InvalidResponse, JobFailed
from webui.images.results import ANSWER_MAX_BYTES, GenerationResult, ImageRole, OutputImage, decode_image
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

    @property
    def done(self) -> bool:
        return self.status == JobState.DONE

    def describe(self) -> str:
        if self.status == JobState.PENDING:
            ahead = "next in line" if not self.position else f"{self.position} waiting ahead"
            return f"queued ({ahead})"
        return self.status


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
    """Queue a txt2img/img2img body; the job as the queue reports it right after."""
    body = {key: value for key, value in payload.items() if key not in ("force_task_id", "callback_url")}
    answer = _call(transport, "POST", f"/queue/{kind}", f"queue the {kind} job", body)
    task_id = answer.get("task_id") if isinstance(answer, dict) else None
    if not isinstance(task_id, str) or not task_id:
        raise InvalidResponse("The WebUI's queue accepted the job but returned no task_id.")
    return job(transport, task_id)


def job(transport: Transport, task_id: str) -> Job:
    answer = _call(transport, "GET", f"/task/{task_id}", "read the task")
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or data.get("status") not in set(JobState):
        raise InvalidResponse("The WebUI's queue answered a task without a status it names.")
    position = data.get("position")
    return Job(
        task_id=task_id,
        status=JobState(data["status"]),
        kind=RequestKind.IMG2IMG if data.get("type") == RequestKind.IMG2IMG else RequestKind.TXT2IMG,
        position=position if isinstance(position, int) and not isinstance(position, bool) else None,
        error=str(data["result"])[:2000] if data["status"] != JobState.DONE and data.get("result") else None,
    )


def wait(transport: Transport, task_id: str, seconds: float) -> Job:
    """The task's state once it has finished, or after ``seconds`` of waiting."""
    deadline = time.monotonic() + seconds
    current = job(transport, task_id)
    while current.status not in FINISHED and time.monotonic() + POLL_INTERVAL <= deadline:
        time.sleep(POLL_INTERVAL)
        current = job(transport, task_id)
    if current.status in (JobState.FAILED, JobState.INTERRUPTED):
        reason = current.error or "no reason given"
        raise JobFailed(f"The queued job {task_id} {current.status} on the WebUI: {reason}", 200, reason)
    return current


def results(transport: Transport, task_id: str, timeout: float) -> GenerationResult:
    """The finished job's pictures, with the seeds and settings their infotexts state."""
    answer = _call(
        transport, "GET", f"/task/{task_id}/results", "read the task's pictures", timeout=timeout,
        max_bytes=ANSWER_MAX_BYTES,
    )  # fmt: skip
    items = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(items, list) or not items:
        raise InvalidResponse("The WebUI's queue returned no pictures for the finished task.")
    images = []
    first: dict[str, Any] = {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidResponse(f"Picture {index + 1} of the task's results is not an object.")
        data, picture = decode_image(item.get("image"), f"Picture {index + 1} of the task's results")
        infotext = item.get("infotext") if isinstance(item.get("infotext"), str) else None
        settings = parse_infotext(infotext).parameters if infotext else {}
        first = first or settings
        seed = settings.get("seed")
        images.append(
            OutputImage(data, picture, ImageRole.IMAGE, index, seed if isinstance(seed, int) else None, None, infotext)
        )
        items[index] = None
    info = {
        "sd_model_name": first.get("checkpoint"),
        "sampler_name": first.get("sampler_name"),
        "extra_generation_params": {"Schedule type": first["scheduler"]} if first.get("scheduler") else {},
    }
    return GenerationResult(images, info)
