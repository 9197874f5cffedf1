"""What the benchmarks share: the emulator, the plugin process, and reading the plugin's memory."""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path

from tests.daemon import ROOT, PluginProcess
from tests.emulator import Emulator

__all__ = ["ROOT", "Emulator", "PluginProcess", "machine", "median", "peak_rss_mb", "rss_mb", "table"]


def _status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # kB -> MiB
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


def rss_mb(pid: int) -> float:
    return _status(pid, "VmRSS")


def peak_rss_mb(pid: int) -> float:
    """The process's highest resident set size so far (VmHWM)."""
    return _status(pid, "VmHWM")


def median(values: list[float]) -> float:
    return statistics.median(values)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, rows)])
