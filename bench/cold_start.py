"""Cold start: from spawning `python -m main` to its first heartbeat (when the daemon sees it ready).

Target: 1.5 s.
"""

from __future__ import annotations

import argparse

from bench.harness import ROOT, PluginProcess, machine, median, table

TARGET = 1.5


def measure(runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        with PluginProcess(ROOT) as plugin:
            assert plugin.startup_seconds is not None
            times.append(plugin.startup_seconds)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    times = measure(args.runs)
    print(f"Cold start, {args.runs} runs ({machine()})")
    row = [
        f"{median(times):.2f} s",
        f"{min(times):.2f} s",
        f"{max(times):.2f} s",
        "yes" if median(times) <= TARGET else "NO",
    ]
    print(table(["median", "fastest", "slowest", f"≤ {TARGET} s"], [row]))


if __name__ == "__main__":
    main()
