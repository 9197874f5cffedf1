"""sd-webui-agent-scheduler as the emulator runs it (from agent_scheduler/api.py, task_runner.py).

Jobs queued with POST /agent-scheduler/v1/queue/{txt2img,img2img} get a uuid task id and
run one after another on a worker, through the same FIFO lock as every generation (and
with that id as their progress task id). A task is pending (with ``position``: pending
tasks ahead), running, done or failed (``result`` holds the error). Answers about
unknown tasks, and results of tasks not done, are HTTP 200 with ``success: false``.
Results are data URIs with their infotexts.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PREFIX = "/agent-scheduler/v1"


@dataclass
class Task:
    id: str
    type: str
    body: dict[str, Any]
    status: str = "pending"
    result: str | None = None
    images: list[str] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)


class AgentScheduler:
    def __init__(self, run: Callable[[str, dict[str, Any], str], tuple[list[str], list[str]]]) -> None:
        """``run(kind, body, task_id)`` generates and returns (base64 images, infotexts); raises on failure."""
        self._run = run
        self._tasks: dict[str, Task] = {}
        self._order: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self.paused = False
        threading.Thread(target=self._worker, name="agent-scheduler", daemon=True).start()

    def queue(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {key: value for key, value in body.items() if key not in ("checkpoint", "vae", "callback_url")}
        task = Task(str(uuid.uuid4()), kind, body)
        with self._wake:
            self._tasks[task.id] = task
            self._order.append(task.id)
            self._wake.notify_all()
        return {"task_id": task.id}

    @property
    def task_ids(self) -> list[str]:
        with self._lock:
            return list(self._order)

    def _pending(self) -> list[str]:
        return [task_id for task_id in self._order if self._tasks[task_id].status == "pending"]

    def task(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return {"success": False, "message": "Task not found"}
            data = {"id": task.id, "type": task.type, "status": task.status, "params": {}, "result": task.result,
                    "position": self._pending().index(task.id) if task.status == "pending" else None}  # fmt: skip
        return {"success": True, "data": data}

    def position(self, task_id: str) -> dict[str, Any]:
        answer = self.task(task_id)
        if answer["success"]:
            answer["data"] = {"status": answer["data"]["status"], "position": answer["data"]["position"]}
        return answer

    def results(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return {"success": False, "message": "Task not found"}
            if task.status != "done":
                return {"success": False, "message": f"Task is {task.status}"}
            data = [
                {"image": f"data:image/png;base64,{image}", "infotext": text}
                for image, text in zip(task.images, task.infotexts, strict=False)
            ]
        return {"success": True, "data": data}

    def _worker(self) -> None:
        while True:
            with self._wake:
                while self.paused or not self._pending():
                    self._wake.wait()
                task = self._tasks[self._pending()[0]]
                task.status = "running"
            try:
                images, infotexts = self._run(task.type, task.body, task.id)
            except Exception as error:  # noqa: BLE001 - task_runner records any failure as the result
                with self._lock:
                    task.status, task.result = "failed", str(getattr(error, "message", error) or error)
                continue
            with self._lock:
                task.images, task.infotexts = images, infotexts
                task.result = json.dumps({"images": [f"outputs/{task.id}-{i}.png" for i in range(len(images))]})
                task.status = "done"

    def clear(self) -> None:
        with self._wake:
            self._tasks.clear()
            self._order.clear()
            self.paused = False
