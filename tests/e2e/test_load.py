"""Many sessions at once through one plugin process against a server that queues (FIFO) like A1111."""

from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

from tests.conftest import creds
from tests.emulator import Emulator


def os_threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def test_sixteen_sessions_in_flight_each_get_their_own_images(plugin):
    with Emulator("a1111", generation_delay=0.15) as server:
        credentials = creds(server)

        def job(index: int):
            parameters = {
                "prompt": f"job {index} 猫",
                "seed": 1000 + 10 * index,
                "batch_size": 1 + index % 2,
                "width": 64 + 8 * index,
                "height": 64,
            }
            return index, plugin.invoke("txt2img", parameters, credentials, timeout=120)

        started = time.monotonic()
        with ThreadPoolExecutor(16) as pool:
            results = list(pool.map(job, range(16)))
        elapsed = time.monotonic() - started
        threads_after_first = os_threads(plugin.proc.pid)
        with ThreadPoolExecutor(16) as pool:  # a second wave must not need more threads
            assert all(result.error is None for _, result in pool.map(job, range(16)))
        threads_after_second = os_threads(plugin.proc.pid)
        assert len(server.calls("POST", "/sdapi/v1/txt2img")) == 32
    for index, result in results:
        assert result.error is None, (index, result.error)
        seeds = [1000 + 10 * index + k for k in range(1 + index % 2)]
        assert result.variables["seeds"] == seeds
        assert [f.filename for f in result.files] == [f"txt2img_{seed}.png" for seed in seeds]
        assert all(Image.open(io.BytesIO(f.data)).size == (64 + 8 * index, 64) for f in result.files)
        assert all(text.startswith(f"job {index} 猫\n") for text in result.variables["infotexts"])
    assert elapsed >= 16 * 0.15  # the server ran them one after another
    assert threads_after_second <= threads_after_first <= 12, (threads_after_first, threads_after_second)


def test_with_a_short_timeout_the_late_ones_say_so_and_the_rest_succeed(plugin):
    with Emulator("a1111", generation_delay=0.6) as server:
        credentials = creds(server)

        def job(index: int):
            time.sleep(0.05 * index)  # arrive in order
            return plugin.invoke("txt2img", {"prompt": f"job {index}", "seed": index, "timeout": 2}, credentials)

        started = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(job, range(8)))
        elapsed = time.monotonic() - started
    finished = [i for i, r in enumerate(results) if r.error is None]
    timed_out = [i for i, r in enumerate(results) if r.error_type == "GenerationTimeout"]
    assert sorted(finished + timed_out) == list(range(8))
    assert finished and timed_out and max(finished) < min(timed_out)
    assert all("did not answer within 2 s" in results[i].error_message for i in timed_out)
    assert all(results[i].variables["seeds"] == [i] for i in finished)
    assert elapsed < 6
