"""The task id a workflow holds for a queued job: the queue's own id and the routing key of
the call that queued it, so that job_result, even from a restarted plugin, sends its
look-ups through a load balancer to the WebUI that holds the job.

    handle("e85a536e-84c0-4265-a696-33bcabc1b125", "3f9a2c1d4e5b6a70")
    == "e85a536e-84c0-4265-a696-33bcabc1b125__3f9a2c1d4e5b6a70"

agent-scheduler chooses its task ids itself (a uuid4), so the key cannot be the id.
"""

from __future__ import annotations

import hashlib
import re

_SEPARATOR = "__"
_HANDLE = re.compile(r"(?P<task>.+)__(?P<route>[0-9a-f]{16})")


def handle(task_id: str, route: str) -> str:
    return f"{task_id}{_SEPARATOR}{route}"


def split(value: str) -> tuple[str, str]:
    """(the queue's task id, the routing key) of a handle.

    A bare task id (queued by another client) routes by a key derived from it: its look-ups
    all reach one WebUI, the one that holds it only if that WebUI happens to be the one
    its hash points to."""
    match = _HANDLE.fullmatch(value)
    if match:
        return match["task"], match["route"]
    return value, hashlib.sha256(value.encode()).hexdigest()[:16]
