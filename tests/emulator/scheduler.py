"""sd-webui-agent-scheduler (a337533) on A1111 1.10.1 as the emulator runs it, held to
tests/captures/a1111-110-ext/as_*.json.

- ``POST /queue/{txt2img,img2img}`` registers a task (uuid) and adds its id to A1111's
  pending tasks; a ControlNet unit whose image is a plain string answers 500 TypeError
  (the queue reads ``unit["image"]["image"]``); img2img without init images 500 Exception.
- One runner thread takes pending tasks in order, but only while A1111's running-task
  marker (modules.progress.current_task) is empty; otherwise it waits. Each task runs the
  usual API generation, which takes the body's ``force_task_id`` (or its own
  ``task(txt2img-…)``) as the marker and clears it only when it succeeds: after a failed
  task the marker stays and the queue waits for an unrelated generation to finish.
- When the queue runs dry the runner lingers ``LINGER`` seconds before it ends; a task
  queued meanwhile is not started ("Runner already started") and stays pending until
  ``POST /task/{id}/run``, a resume, or another queued task starts a runner.
- ``GET /task/{id}`` says ``running`` only when the task's own id is the marker, which an
  API task never is: a running API task reads ``pending`` (position 0).
- Results: the saved pictures (a grid first when a job made more than one) as data URIs
  with the job's infotexts; the task's ``result`` is JSON with their paths and ``geninfo``.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.emulator.engine import ServerError, TaskQueue

PREFIX = "/agent-scheduler/v1"
LINGER = 1.0  # task_runner.execute_task: time.sleep(1) after the last task
MARKER_POLL = 0.2  # the runner re-checks the marker every 2 s on the real server


@dataclass
class Task:
    id: str
    type: str
    params: dict[str, Any]
    body: dict[str, Any]  # what the runner hands to the API
    priority: int = field(default_factory=lambda: int(time.time() * 1000))
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    status: str = "pending"
    result: str | None = None
    images: list[str] = field(default_factory=list)
    infotexts: list[str] = field(default_factory=list)

    def model(self, position: int | None, *, stamps_in_ms: bool) -> dict[str, Any]:
        """agent_scheduler.models.TaskModel; the queue and history list timestamps in ms."""

        def stamp(value: float) -> Any:
            if stamps_in_ms:
                return int(value) * 1000
            return datetime.fromtimestamp(int(value), UTC).isoformat()

        return {
            "id": self.id, "api_task_id": None, "api_task_callback": None, "name": None, "type": self.type,
            "status": self.status, "params": self.params, "priority": self.priority, "position": position,
            "result": self.result, "bookmarked": False, "created_at": stamp(self.created),
            "updated_at": stamp(self.updated),
        }  # fmt: skip


class AgentScheduler:
    def __init__(
        self,
        run: Callable[[str, dict[str, Any]], dict[str, Any]],
        tasks: Callable[[], TaskQueue],
        params: Callable[[str, dict[str, Any]], dict[str, Any]],
    ) -> None:
        """``run(kind, body)`` is the API generation (its answer, or it raises); ``tasks()`` is
        A1111's task registry (pending, the running-task marker, finished); ``params(kind,
        body)`` the request model's fields with their defaults."""
        self._run = run
        self._a1111 = tasks
        self._params = params
        self._tasks: dict[str, Task] = {}
        self._lock = threading.RLock()
        self._runner: threading.Thread | None = None
        self.paused = False
        self.log: list[str] = []

    # --- routes -----------------------------------------------------------------------

    def queue(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if kind == "img2img" and not body.get("init_images"):
            raise ServerError("Exception", "At least one init image is required")
        for name, script in (body.get("alwayson_scripts") or {}).items():
            if name.lower() == "controlnet" and isinstance(script, dict):
                for unit in script.get("args") or []:
                    if isinstance(unit, dict) and isinstance(unit.get("image"), str):
                        raise ServerError("TypeError", "string indices must be integers, not 'str'")
        body = {key: value for key, value in body.items() if key not in ("checkpoint", "vae", "callback_url")}
        params = {key: value for key, value in self._params(kind, body).items() if key not in _SCRIPT_FIELDS}
        if params.get("override_settings") is None:
            params["override_settings"] = {}
        params["checkpoint"] = None
        task = Task(str(uuid.uuid4()), kind, params, body)
        with self._lock:
            if self._tasks:
                task.priority = max(task.priority, max(t.priority for t in self._tasks.values()) + 1)
            self._tasks[task.id] = task
            self._a1111().add(task.id)
        self.start_runner()
        return {"task_id": task.id}

    @property
    def task_ids(self) -> list[str]:
        with self._lock:
            return list(self._tasks)

    def status(self) -> dict[str, Any]:
        with self._lock:
            pending = self._pending()
            listed = [task.model(index, stamps_in_ms=True) for index, task in enumerate(pending)]
            current = self._a1111().current
            for entry in listed:
                if entry["id"] == current:
                    entry["status"] = "running"
            return {"current_task_id": current, "pending_tasks": listed[:20], "total_pending_tasks": len(pending),
                    "paused": self.paused}  # fmt: skip

    def history(self, status: str | None) -> dict[str, Any]:
        with self._lock:
            done = [t for t in self._tasks.values() if t.status != "pending" and status in (None, t.status)]
            done.sort(key=lambda t: t.priority, reverse=True)
            return {"tasks": [t.model(None, stamps_in_ms=True) for t in done[:20]], "total": len(done)}

    def task(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return {"success": False, "message": "Task not found"}
            data = task.model(self._position(task), stamps_in_ms=False)
            if task.id == self._a1111().current:
                data["status"] = "running"
        return {"success": True, "data": data}

    def position(self, task_id: str) -> dict[str, Any]:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return {"success": False, "message": "Task not found"}
            return {"success": True, "data": {"status": task.status, "position": self._position(task)}}

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

    def run(self, task_id: str) -> dict[str, Any]:
        """api.py run_task: start this task at once, or move it to the front while one runs."""
        with self._lock:
            current = self._a1111().current
            if current is not None:
                if current == task_id:
                    return {"success": False, "message": "Task is running"}
                task = self._tasks.get(task_id)
                if task is not None:
                    task.priority = min(t.priority for t in self._tasks.values()) - 1
                return {"success": True, "message": "Task is scheduled to run next"}
            task = self._tasks.get(task_id)
        threading.Thread(target=self._execute, args=(task, lambda: None), daemon=True).start()
        return {"success": True, "message": "Task is executing"}

    def pause(self) -> dict[str, Any]:
        self.paused = True
        return {"success": True, "message": "Queue paused."}

    def resume(self) -> dict[str, Any]:
        self.paused = False
        self.start_runner()
        return {"success": True, "message": "Queue resumed."}

    def clear_queue(self) -> dict[str, Any]:
        with self._lock:
            for task in self._pending():
                del self._tasks[task.id]
        return {"success": True, "message": "Queue cleared."}

    # --- the runner ---------------------------------------------------------------------

    def _pending(self) -> list[Task]:
        return sorted((t for t in self._tasks.values() if t.status == "pending"), key=lambda t: t.priority)

    def _position(self, task: Task) -> int | None:
        return self._pending().index(task) if task.status == "pending" else None

    def _next(self) -> Task | None:
        if self.paused:
            return None
        with self._lock:
            pending = self._pending()
            return pending[0] if pending else None

    def start_runner(self) -> None:
        """task_runner.execute_pending_tasks_threading."""
        with self._lock:
            if self.paused:
                self.log.append("Runner is paused")
                return
            if self._runner is not None and self._runner.is_alive():
                self.log.append("Runner already started")
                return
            first = self._next()
            if first is None:
                return
            self._runner = threading.Thread(target=self._execute, args=(first, self._next), daemon=True)
            self._runner.start()

    def _execute(self, task: Task | None, next_task: Callable[[], Task | None]) -> None:
        while task is not None:
            marker = self._a1111()
            if marker.current is not None:
                time.sleep(MARKER_POLL)
                continue
            marker.start(task.id)
            try:
                answer = self._run(task.type, task.body)
            except Exception as error:  # noqa: BLE001 - the runner records any failure as the result
                outcome: Any = error
            else:
                outcome = answer
            finally:
                marker.finish(task.id)
            with self._lock:
                task.updated = time.time()
                if isinstance(outcome, Exception):
                    task.status = "failed"
                    task.result = str(getattr(outcome, "message", outcome) or outcome)
                else:
                    self._store(task, outcome)
            task = next_task()
            if task is None and not self.paused:
                time.sleep(LINGER)

    def _store(self, task: Task, answer: dict[str, Any]) -> None:
        """The pictures A1111 saved (grid first), as the results route reads them back."""
        info = json.loads(answer["info"])
        saved = info["index_of_first_image"] + len(info["all_seeds"])
        task.images = list(answer["images"][:saved])
        task.infotexts = list(info["infotexts"][:saved])
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        paths = [f"outputs/{task.type}-grids/{day}/grid-{n:04d}.png" for n in range(info["index_of_first_image"])]
        paths += [f"outputs/{task.type}-images/{day}/{n:05d}-{seed}.png" for n, seed in enumerate(info["all_seeds"])]
        task.result = json.dumps({"images": paths, "geninfo": info})
        task.status = "done"

    def clear(self) -> None:
        with self._lock:
            self._tasks.clear()
            self.paused = False
            self.log.clear()


_SCRIPT_FIELDS = {"script_args", "alwayson_scripts"}
