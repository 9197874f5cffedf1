"""Plugin overhead: the same txt2img through the plugin (daemon protocol) vs. a direct requests.post.

The emulator takes a fixed 1 s per generation and returns 1024×1024 PNGs that compress
like photographs. The direct call also decodes the images, as any client must.
Target: the plugin adds at most 3 % to the direct call's wall time.
"""

from __future__ import annotations

import argparse
import base64
import json
import time

import requests

from bench.harness import ROOT, Emulator, PluginProcess, machine, median, table

TARGET = 0.03


def direct(url: str, body: dict) -> int:
    response = requests.post(url + "/sdapi/v1/txt2img", json=body, timeout=120)
    response.raise_for_status()
    return sum(len(base64.b64decode(image)) for image in json.loads(response.content)["images"])


def through_plugin(plugin: PluginProcess, url: str, parameters: dict) -> int:
    result = plugin.invoke("txt2img", parameters, {"base_url": url}, timeout=120)
    assert result.error is None, result.error
    return sum(len(f.data) for f in result.files)


def measure(runs: int, delay: float, size: int) -> list[list[str]]:
    rows = []
    with Emulator("a1111", generation_delay=delay) as server, PluginProcess(ROOT) as plugin:
        server.engine.noise_images = True
        for batch in (1, 4):
            parameters = {
                "prompt": "benchmark",
                "width": size,
                "height": size,
                "steps": 20,
                "seed": 42,
                "batch_size": batch,
            }
            body = dict(parameters)
            through_plugin(plugin, server.url, parameters)  # warm-up: lists, flavour, connections
            direct(server.url, body)
            direct_times, plugin_times, image_bytes = [], [], 0
            for _ in range(runs):
                started = time.perf_counter()
                image_bytes = direct(server.url, body)
                direct_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                assert through_plugin(plugin, server.url, parameters) == image_bytes
                plugin_times.append(time.perf_counter() - started)
            d, p = median(direct_times), median(plugin_times)
            overhead = p / d - 1
            rows.append(
                [
                    f"{size}² × {batch}",
                    f"{image_bytes / 2**20:.1f} MiB",
                    f"{d:.3f} s",
                    f"{p:.3f} s",
                    f"{p - d:+.3f} s",
                    f"{overhead * 100:+.1f} %",
                    "yes" if overhead <= TARGET else "NO",
                ]
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--delay", type=float, default=1.0, help="seconds per generation in the emulator")
    parser.add_argument("--size", type=int, default=1024)
    args = parser.parse_args()
    rows = measure(args.runs, args.delay, args.size)
    print(f"Plugin overhead, median of {args.runs} runs, {args.delay:g} s generation delay ({machine()})")
    print(table(["images", "image data", "direct", "plugin", "added", "overhead", f"≤ {TARGET:.0%}"], rows))


if __name__ == "__main__":
    main()
