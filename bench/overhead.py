"""Plugin overhead: the same txt2img through the plugin vs. a direct HTTP call, with the
protocol floor (the same bytes sent as blobs by a plugin that does nothing else).

The emulator takes a fixed time per generation and returns PNGs of random pixels (they
compress like photographs). The direct call also decodes the images, as any client must.
The three kinds of call are interleaved round by round, so that a noisy neighbour on a
shared machine slows all of them alike; each figure is the median with its min–max.
Target: the plugin adds at most 3 % to the direct call's wall time.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
import time
from pathlib import Path

import requests

from bench.floor import write_floor_plugin
from bench.harness import ROOT, Emulator, PluginProcess, machine, median, table

TARGET = 0.03


def direct(url: str, body: dict) -> list[bytes]:
    response = requests.post(url + "/sdapi/v1/txt2img", json=body, timeout=120)
    response.raise_for_status()
    return [base64.b64decode(image) for image in json.loads(response.content)["images"]]


def through_plugin(plugin: PluginProcess, url: str, parameters: dict) -> int:
    result = plugin.invoke("txt2img", parameters, {"base_url": url}, timeout=120)
    assert result.error is None, result.error
    return sum(len(f.data) for f in result.files)


def through_floor(floor: PluginProcess, paths: list[Path]) -> int:
    parameters = {"paths": "\n".join(map(str, paths))}
    result = floor.request(
        {"type": "tool", "action": "invoke_tool", "provider": "floor", "tool": "emit", "credentials": {},
         "credential_type": "api-key", "tool_parameters": parameters},
        timeout=120,
    )  # fmt: skip
    assert result.error is None, result.error
    return sum(len(f.data) for f in result.files)


def _spread(values: list[float]) -> str:
    return f"{median(values):.3f} s ({min(values):.3f}–{max(values):.3f})"


def measure(rounds: int, delay: float, size: int) -> list[list[str]]:
    rows = []
    floor_dir = write_floor_plugin()
    with (
        Emulator("a1111", generation_delay=delay) as server,
        PluginProcess(ROOT) as plugin,
        PluginProcess(floor_dir) as floor,
        tempfile.TemporaryDirectory() as images_dir,
    ):
        server.engine.noise_images = True
        for batch in (1, 4):
            parameters = {
                "prompt": "bench",
                "width": size,
                "height": size,
                "steps": 20,
                "seed": 42,
                "batch_size": batch,
            }
            images = direct(server.url, dict(parameters))  # warm-up; the emulator's images are random
            paths = []
            for index, data in enumerate(images):
                paths.append(Path(images_dir) / f"{batch}-{index}.png")
                paths[-1].write_bytes(data)
            through_plugin(plugin, server.url, parameters)  # warm-up: lists, flavour, imports
            through_floor(floor, paths)
            times: dict[str, list[float]] = {"direct": [], "plugin": [], "floor": []}
            size_bytes = sum(len(data) for data in images)
            for _ in range(rounds):
                for kind in ("direct", "plugin", "floor"):
                    started = time.perf_counter()
                    if kind == "direct":
                        direct(server.url, dict(parameters))
                    elif kind == "plugin":
                        through_plugin(plugin, server.url, parameters)
                    else:
                        through_floor(floor, paths)
                    times[kind].append(time.perf_counter() - started)
            d, p, f = (median(times[kind]) for kind in ("direct", "plugin", "floor"))
            overheads = sorted(
                p_time / d_time - 1 for p_time, d_time in zip(times["plugin"], times["direct"], strict=True)
            )
            rows.append(
                [
                    f"{size}² × {batch}",
                    f"{size_bytes / 2**20:.1f} MiB",
                    _spread(times["direct"]),
                    _spread(times["plugin"]),
                    _spread(times["floor"]),
                    f"{(p / d - 1) * 100:+.1f} % ({overheads[0] * 100:+.1f}–{overheads[-1] * 100:+.1f})",
                    f"{(p - d - f) * 1000:+.0f} ms",
                    "yes" if p / d - 1 <= TARGET else "NO",
                ]
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per generation in the emulator")
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    rows = measure(args.rounds, args.delay, args.size)
    print(f"Plugin overhead, {args.rounds} interleaved rounds, {args.delay:g} s generation delay ({machine()})")
    print("floor = the same bytes sent as blobs by a plugin without HTTP (the SDK's and protocol's share);")
    print("ours = plugin − direct − floor: what this plugin's own code adds.")
    header = [
        "images",
        "image data",
        "direct",
        "plugin",
        "floor",
        "overhead (per-round range)",
        "ours",
        f"≤ {TARGET:.0%}",
    ]
    print(table(header, rows))


if __name__ == "__main__":
    main()
