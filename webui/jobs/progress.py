"""The progress of one generation, read from the WebUI while it works.

Every generation the plugin sends carries a ``force_task_id`` it chose. The WebUI's UI
process registers ``POST /internal/progress`` (A1111, Forge, reForge, SD.Next; not A1111
started with ``--nowebui``), which says of *that* task whether it is queued (and where),
running or finished. While it is running, the global ``/sdapi/v1/progress`` describes it
— and only then, because the WebUI runs one job at a time. Without the per-task route
nothing is reported: the global numbers could be another user's job.

Reading progress never raises: a failed poll is a poll without news.
"""

from __future__ import annotations

import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from webui.errors import ApiDisabled, ServerError, WebUIError
from webui.transport.http import Transport

POLL_TIMEOUT = 3.0
POLL_MAX_BYTES = 256 * 1024
_QUEUE_TEXT = re.compile(r"In queue: (\d{1,9})/(\d{1,9})\b")  # a server's absurd numbers are no place


def new_task_id() -> str:
    """A task id the WebUI accepts for force_task_id (the UI's form is task(...))."""
    return f"task(sdwebui-{uuid.uuid4().hex[:16]})"


def _number(value: Any) -> float | None:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return None
    return float(value) if abs(value) < 1e12 else None  # a server's absurd numbers say nothing


@dataclass(frozen=True)
class Reading:
    """Where the task is: ``text`` for people, ``stage`` what changes only when the work
    moves on (queue place, phase, step), not with every new ETA."""

    text: str
    stage: tuple[Any, ...]


@dataclass
class ProgressWatcher:
    transport: Transport
    task_id: str
    hires: bool = False
    unavailable: bool = False  # the server has no per-task progress: say nothing

    def _call(self, method: str, route: str, payload: Any = None) -> Any:
        return self.transport.call(
            method,
            route,
            action="read the progress",
            payload=payload,
            timeout=POLL_TIMEOUT,
            max_bytes=POLL_MAX_BYTES,
            quiet=True,
        )

    def read(self) -> Reading | None:
        """Where the task is, or None when there is nothing to say."""
        if self.unavailable:
            return None
        try:
            task = self._call(
                "POST", "/internal/progress", {"id_task": self.task_id, "id_live_preview": -1, "live_preview": False}
            )
        except ApiDisabled:
            self.unavailable = True  # --nowebui: no /internal routes
            return None
        except ServerError as error:
            self.unavailable = error.status in (404, 405, 422)
            return None
        except WebUIError:
            return None
        if not isinstance(task, dict):
            return None
        if task.get("active") is True:
            return self._running(task)
        if task.get("queued") is True:
            match = _QUEUE_TEXT.search(str(task.get("textinfo") or ""))
            # "In queue: 2/3" is our place among the waiting; the running job is ahead too
            text = f"queued ({int(match.group(1))} ahead)" if match else "queued"
            return Reading(text, ("queued", text))
        return None

    def _running(self, task: dict[str, Any]) -> Reading:
        parts: list[str] = []
        stage: list[Any] = ["running"]
        try:
            state = self._call("GET", "/sdapi/v1/progress?skip_current_image=true")
        except WebUIError:
            state = None
        state = state.get("state") if isinstance(state, dict) else None
        if isinstance(state, dict):
            step, steps = _number(state.get("sampling_step")), _number(state.get("sampling_steps"))
            job_no, job_count = _number(state.get("job_no")), _number(state.get("job_count"))
            if self.hires and job_no is not None and job_count and job_count >= 2 and int(job_no) % 2 == 1:
                parts.append("hires pass")
            if steps:
                parts.append(f"step {min(int(step or 0) + 1, int(steps))}/{int(steps)}")
            stage += [job_no, *parts]
        fraction = _number(task.get("progress"))
        if fraction is not None:
            parts.append(f"{fraction * 100:.0f} %")
        eta = _number(task.get("eta"))
        if eta is not None and eta >= 0:
            parts.append(f"ETA {eta:.0f} s")
        return Reading(" · ".join(parts) or "running", tuple(stage))
