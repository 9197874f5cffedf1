"""The plugin's own share of start-up: importing its tool and provider modules once the SDK is
loaded, and reading its declarations the way the SDK does (main.py's loader against libyaml).

Target: 30 ms for both together. Each figure is the median of fresh processes.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from bench.harness import ROOT, machine, median, table

TARGET_MS = 30.0
_CHILD = """
import json, sys, time, importlib
from pathlib import Path
import yaml
import dify_plugin, dify_plugin.entities, dify_plugin.entities.tool, dify_plugin.errors.tool
sys.path.insert(0, ".")
from glue.startup import FastYaml
declarations = sorted(Path("tools").glob("*.yaml")) + [Path("provider/sdwebui.yaml"), Path("manifest.yaml")]
started = time.perf_counter()
for name in [p.stem for p in Path("tools").glob("*.py")] :
    importlib.import_module("tools." + name)
importlib.import_module("provider.sdwebui")
imports = time.perf_counter() - started
started = time.perf_counter()
for path in declarations:
    with path.open(encoding="utf-8") as stream:
        FastYaml.safe_load(stream)
fast = time.perf_counter() - started
started = time.perf_counter()
for path in declarations:
    yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
libyaml = time.perf_counter() - started
print(json.dumps([imports * 1000, fast * 1000, libyaml * 1000]))
"""


def measure(runs: int) -> list[list[float]]:
    figures = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _CHILD], cwd=ROOT, check=True, capture_output=True, text=True)
        figures.append(json.loads(out.stdout))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    runs = measure(args.runs)
    imports, fast, libyaml = (median([run[i] for run in runs]) for i in range(3))
    print(f"Start-up, the plugin's own part, median of {args.runs} processes ({machine()})")
    rows = [
        ["importing tools/*.py and provider/sdwebui.py", f"{imports:.1f} ms"],
        ["reading the declarations (main.py's loader)", f"{fast:.1f} ms"],
        ["… the same with libyaml alone", f"{libyaml:.1f} ms"],
        [f"own part (imports + loader), target ≤ {TARGET_MS:g} ms", f"{imports + fast:.1f} ms"],
    ]
    print(table(["what", "median"], rows))


if __name__ == "__main__":
    main()
