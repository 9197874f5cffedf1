"""Peak memory (RSS) of the plugin process while returning 1, 4 and 8 images of 1024² and 2048².

Each case runs in a fresh plugin process: its peak (VmHWM) after one small warm-up call is
the baseline, its peak after the measured call is compared with the target
60 MB + 3 × the returned image bytes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

from bench.harness import ROOT, Emulator, PluginProcess, machine, peak_rss_mb, table

BASE_MB = 60


def sdk_alone_mb() -> float:
    """Peak RSS of a Python that only imports dify_plugin: the floor under any plugin."""
    # VmHWM, not ru_maxrss: the latter can carry over the forking parent's peak.
    code = (
        "import dify_plugin\n"
        "for line in open('/proc/self/status'):\n"
        "    if line.startswith('VmHWM:'): print(int(line.split()[1]) / 1024)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return float(done.stdout)


def measure(sizes: list[int], counts: list[int]) -> list[list[str]]:
    rows = []
    with Emulator("a1111") as server:
        server.engine.noise_images = True
        credentials = {"base_url": server.url, "timeout": "600"}
        for size in sizes:
            for count in counts:
                with PluginProcess(ROOT) as plugin:
                    warm = plugin.invoke("txt2img", {"prompt": "warm-up", "width": 64, "height": 64}, credentials)
                    assert warm.error is None, warm.error
                    baseline = peak_rss_mb(plugin.proc.pid)
                    parameters = {"prompt": "memory", "width": size, "height": size, "batch_size": count, "seed": 1}
                    result = plugin.invoke("txt2img", parameters, credentials, timeout=600)
                    peak = peak_rss_mb(plugin.proc.pid)
                if result.error_type == "InvalidResponse" and "larger than" in result.error_message:
                    # by design: an answer larger than the plugin's cap is refused while it is read
                    rows.append([f"{size}² × {count}", "–", f"{baseline:.1f}", f"{peak:.1f}", "–", "–", "refused"])
                    continue
                assert result.error is None, result.error
                image_mb = sum(len(f.data) for f in result.files) / 2**20
                target = BASE_MB + 3 * image_mb
                rows.append(
                    [
                        f"{size}² × {count}",
                        f"{image_mb:.1f}",
                        f"{baseline:.1f}",
                        f"{peak:.1f}",
                        f"{(peak - baseline) / image_mb:.2f}",
                        f"{target:.1f}",
                        "yes" if peak <= target else "NO",
                    ]
                )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1024, 2048])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4, 8])
    args = parser.parse_args()
    rows = measure(args.sizes, args.counts)
    print(f"Peak RSS of the plugin process, MiB ({machine()})")
    print(f"`import dify_plugin` alone peaks at {sdk_alone_mb():.1f} MiB on this machine.")
    print(table(["images", "image MiB", "idle peak", "peak", "growth / image MiB", "target", "ok"], rows))


if __name__ == "__main__":
    main()
