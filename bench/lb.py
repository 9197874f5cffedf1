"""Several WebUIs behind nginx: txt2img calls per second through the plugin for N = 1, 2, 3
emulated backends taking 1 s per generation (ideal: N calls per second).

nginx hashes on the plugin's routing key (tests/balancer.py, the README's recipe); each call
has a random key, so calls land on the backends by chance, as a workflow's would. Callers
(three per backend: more work than the backends can do) run at once, each starting a new
call as soon as its last one ended; "key share" is the part of 3,000 random keys each
backend's place on nginx's hash ring draws.
"""

from __future__ import annotations

import argparse
import collections
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench.harness import ROOT, PluginProcess, machine, table
from tests.balancer import Balanced
from webui.transport.http import ROUTE_HEADER, new_route

PARAMETERS = {"prompt": "bench", "width": 64, "height": 64, "steps": 20}


def key_shares(pool: Balanced, keys: int = 3000) -> str:
    """Each backend's share of random keys, asked of nginx directly (no generation)."""
    with requests.Session() as session:
        for _ in range(keys):
            session.get(pool.url + "/internal/ping", headers={ROUTE_HEADER: new_route()}, timeout=10)
    pings = collections.Counter(pool.served("GET", "/internal/ping"))
    return " / ".join(f"{pings[name] / keys:.0%}" for name in sorted(pool.backends))


def measure(backends: int, callers: int, calls: int, delay: float) -> list[str]:
    with Balanced(backends, generation_delay=delay) as pool, PluginProcess(ROOT) as plugin:
        credentials = {"base_url": pool.url, "timeout": "600"}
        shares = key_shares(pool)

        def call(_: int) -> None:
            result = plugin.invoke("txt2img", PARAMETERS, credentials, timeout=600)
            assert result.error is None, result.error

        call(0)  # warm-up: imports, lists, flavour
        for server in pool.backends.values():
            server.reset()
            server.engine.generation_delay = delay
        started = time.perf_counter()
        with ThreadPoolExecutor(callers) as workers:
            list(workers.map(call, range(calls)))
        seconds = time.perf_counter() - started
        spread = collections.Counter(pool.served("POST", "/sdapi/v1/txt2img"))
    rate = calls / seconds
    return [
        str(backends),
        f"{calls}",
        f"{seconds:.1f} s",
        f"{rate:.2f}",
        f"{backends / delay:.2f}",
        f"{rate / (backends / delay):.0%}",
        " / ".join(str(spread[name]) for name in sorted(pool.backends)),
        shares,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--callers", type=int, default=3, help="calls running at once, per backend")
    parser.add_argument("--calls", type=int, default=60, help="calls per backend")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per generation in the emulator")
    args = parser.parse_args()
    rows = [measure(n, args.callers * n, args.calls * n, args.delay) for n in args.backends]
    print(
        f"Behind nginx: {args.callers} callers per backend at once, {args.delay:g} s per generation, "
        f"one plugin process ({machine()})"
    )
    header = ["backends", "calls", "wall time", "calls/s", "ideal", "of ideal", "calls per backend", "key share"]
    print(table(header, rows))


if __name__ == "__main__":
    main()
