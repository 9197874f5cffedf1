"""Live progress as a stream variable while the WebUI works (docs/dify-protocol.md).

The generation runs in a worker; a second worker polls the WebUI's progress about once a
second and hands a line over when the queue place, the phase or the step changed (a new
ETA alone at most every REFRESH_SECONDS); the tool's generator yields each as a `progress`
stream variable, which a chatflow's Answer node shows as it arrives. A poll never delays
or changes the result: its failures say nothing, and when the generation ends the
generator stops listening at once, whatever a poll is still waiting for.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Generator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from webui import ProgressWatcher

POLL_INTERVAL = 1.0
REFRESH_SECONDS = 10.0  # a line whose only news is the ETA comes at most this often
VARIABLE = "progress"


def with_progress[T](
    tool: Tool, work: Callable[[], T], watcher: ProgressWatcher | None
) -> Generator[ToolInvokeMessage, None, T]:
    """Run ``work``; while it runs, yield progress lines; return its result (or raise its error)."""
    if watcher is None:
        return work()
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    finished = threading.Event()

    def run() -> None:
        outcome: tuple[str, Any] = ("error", RuntimeError("the generation was stopped"))
        try:
            outcome = ("done", work())
        except Exception as error:  # noqa: BLE001 - handed over, raised again in the tool's generator
            outcome = ("error", error)
        finally:
            events.put(outcome)
            finished.set()

    def poll() -> None:
        stage, said, at = None, None, 0.0
        while not finished.wait(POLL_INTERVAL):
            reading = watcher.read()
            if reading is None or finished.is_set() or reading.text == said:
                continue
            if reading.stage != stage or time.monotonic() - at >= REFRESH_SECONDS:
                stage, said, at = reading.stage, reading.text, time.monotonic()
                events.put(("progress", reading.text))

    threading.Thread(target=run, name="generation", daemon=True).start()
    threading.Thread(target=poll, name="progress", daemon=True).start()
    while True:
        kind, value = events.get()
        if kind == "progress":
            yield tool.create_stream_variable_message(VARIABLE, value + "\n")
            continue
        if kind == "error":
            raise value
        yield tool.create_stream_variable_message(VARIABLE, "done\n")
        return value
