"""Keep every message the plugin writes under the daemon's stdout line limit.

The plugin daemon reads the plugin's stdout as lines of at most 5 MiB and drops the plugin
when one is longer (docs/dify-protocol.md). Images leave as blob chunks of 8 KiB, which the
SDK cuts; JSON, variables and text are one line each and are cut here, before they are
written: lists keep their first items, strings their beginning, and what was cut is said.
"""

from __future__ import annotations

import json
from typing import Any

DAEMON_LINE_LIMIT = 5 * 1024 * 1024
# Room under the limit for the envelope the SDK wraps around a message.
MESSAGE_BUDGET = 4 * 1024 * 1024


def json_size(value: Any) -> int:
    """Bytes ``value`` takes in a message line (the SDK writes UTF-8 JSON)."""
    return len(json.dumps(value, ensure_ascii=False, default=str).encode("utf-8"))


def _largest(value: Any, path: str, protect: frozenset[str]) -> tuple[int, str, Any, Any] | None:
    """(size, path, container, key) of the largest cuttable list or string, iteratively."""
    best: tuple[int, str, Any, Any] | None = None
    stack: list[tuple[Any, str, Any, Any]] = [(value, path, None, None)]
    while stack:
        item, where, parent, key = stack.pop()
        if isinstance(item, dict):
            stack.extend(
                (child, f"{where}.{name}" if where else str(name), item, name)
                for name, child in item.items()
                if name not in protect
            )
            continue
        cuttable = (isinstance(item, list) and len(item) > 1) or (isinstance(item, str) and len(item) > 64)
        if isinstance(item, list):
            stack.extend((child, f"{where}[{index}]", item, index) for index, child in enumerate(item))
        if cuttable and parent is not None:
            size = json_size(item)
            if best is None or size > best[0]:
                best = (size, where, parent, key)
    return best


def bounded(value: Any, budget: int = MESSAGE_BUDGET, protect: tuple[str, ...] = ()) -> tuple[Any, list[str]]:
    """A copy of ``value`` that fits ``budget`` bytes, and notes on what was cut.

    The largest list is halved (its first items kept), or else the largest string; keys
    in ``protect`` (seeds, counts) are never cut.
    """
    if json_size(value) <= budget:
        return value, []
    box = {"value": json.loads(json.dumps(value, default=str))}  # so that the value itself can be cut
    cuts: dict[str, str] = {}
    guard = frozenset(protect)
    while json_size({"value": box["value"], "cut": cuts}) > budget:
        found = _largest(box, "", guard)
        if found is None:
            break
        _, where, parent, key = found
        item = parent[key]
        if isinstance(item, list):
            original = cuts.get(where, f"/{len(item)}").rsplit("/", 1)[1]
            parent[key] = item[: len(item) // 2]
            cuts[where] = f"first {len(parent[key])}/{original}"
        else:
            original = cuts.get(where, f"/{len(item)}").rsplit("/", 1)[1]
            parent[key] = item[: len(item) // 2] + "…"
            cuts[where] = f"first {len(parent[key]) - 1} characters/{original}"
    notes = [
        f"{where.removeprefix('value').lstrip('.') or 'value'}: {what.replace('/', ' of ')}"
        for where, what in cuts.items()
    ]
    return box["value"], notes


def bounded_text(text: str, budget: int = MESSAGE_BUDGET) -> str:
    data = text.encode("utf-8")
    if len(data) <= budget:
        return text
    return data[: budget - 200].decode("utf-8", "ignore") + f"… (cut: {len(data)} bytes is over Dify's message limit)"
