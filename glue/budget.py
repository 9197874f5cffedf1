"""Keep every message the plugin writes under the daemon's stdout line limit, in linear time.

The plugin daemon reads the plugin's stdout as lines of at most 5 MiB and drops the plugin
when one is longer (docs/dify-protocol.md). Images leave as blob chunks of 8 KiB, which the
SDK cuts; JSON, variables and text are one line each and are cut here, before they are
written. What counts is what is written: the SDK writes each message as UTF-8 JSON with
non-ASCII characters as they are and quotes, backslashes and control characters escaped
(the same bytes as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``), so a quote costs 2 bytes, a
control character 6 and a CJK character 3.

One pass: a value is measured once; when it does not fit, its parts are kept in order
while they fit (the keys in ``protect`` first) and the first part that does not fit is cut,
so the work grows with the size of the value, not with its square.
"""

from __future__ import annotations

import json
from typing import Any

DAEMON_LINE_LIMIT = 5 * 1024 * 1024
# Room under the limit for the envelope the SDK wraps around a message.
MESSAGE_BUDGET = 4 * 1024 * 1024
_ELLIPSIS = "…"
_DEEPEST = 32  # containers nested deeper than this are replaced by a note when they do not fit


def written_size(value: Any) -> int:
    """Bytes ``value`` takes in a message line, as the SDK writes it."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8", "replace"))


def cut_text(text: str, budget: int) -> str:
    """The longest beginning of ``text`` (with "…") whose JSON-escaped UTF-8 fits ``budget``
    bytes; ``text`` itself when it fits. No character takes more than 6 bytes written."""
    if written_size(text) <= budget:
        return text
    room = budget - written_size(_ELLIPSIS)
    low, high = max(0, room // 6), min(len(text), max(0, room))
    while low < high:  # the longest prefix that fits, by bisection on its written size
        middle = (low + high + 1) // 2
        if written_size(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low] + _ELLIPSIS


class _Cutter:
    """Fits one value into a byte budget and remembers what it cut, by path."""

    def __init__(self, protect: frozenset[str]) -> None:
        self.protect = protect
        self.notes: list[str] = []

    def fit(self, value: Any, budget: int, path: str, depth: int = 0) -> tuple[Any, int]:
        """(the value or a cut copy, its written size); the size is at most ``budget``
        unless even an empty container or a number does not fit."""
        size = written_size(value)
        if size <= budget:
            return value, size
        if isinstance(value, str):
            cut = cut_text(value, budget)
            self.notes.append(f"{path or 'value'}: first {len(cut) - 1:,} of {len(value):,} characters")
            return cut, written_size(cut)
        if isinstance(value, (list, dict)) and depth >= _DEEPEST:
            note = f"({written_size(value):,} bytes nested too deep to keep)"
            self.notes.append(f"{path or 'value'}: left out")
            return note, written_size(note)
        if isinstance(value, list):
            return self._fit_list(value, budget, path, depth)
        if isinstance(value, dict):
            return self._fit_dict(value, budget, path, depth)
        return value, size  # a number or a literal: nothing to cut

    def _fit_list(self, items: list[Any], budget: int, path: str, depth: int) -> tuple[list[Any], int]:
        kept: list[Any] = []
        used = 2  # []
        for index, item in enumerate(items):
            room = budget - used - (1 if kept else 0)
            if room <= 2:
                break
            value, size = self.fit(item, room, f"{path}[{index}]", depth + 1)
            if size > room:
                break
            kept.append(value)
            used += size + (1 if len(kept) > 1 else 0)
            if value is not item and index + 1 < len(items):
                break  # this item was cut: the ones after it are left out
        if len(kept) < len(items):
            self.notes.append(f"{path or 'value'}: first {len(kept):,} of {len(items):,} items")
        return kept, used

    def _fit_dict(self, mapping: dict[Any, Any], budget: int, path: str, depth: int) -> tuple[dict[Any, Any], int]:
        order = [key for key in mapping if key in self.protect] + [key for key in mapping if key not in self.protect]
        kept: dict[Any, Any] = {}
        left_out: list[str] = []
        used = 2  # {}
        for key in order:
            name = f"{path}.{key}" if path else str(key)
            head = written_size(str(key)) + 1 + (1 if kept else 0)  # "key": and a comma
            room = budget - used - head
            value, size = self.fit(mapping[key], room, name, depth + 1) if room > 0 else (None, room + 1)
            if size > room:
                left_out.append(str(key))
                continue
            kept[key] = value
            used += head + size
        if left_out:
            self.notes.append(
                f"{path or 'value'}: {len(left_out):,} of {len(mapping):,} keys left out, from {left_out[0]}"
            )
        return {key: kept[key] for key in mapping if key in kept}, used


def bounded(value: Any, budget: int = MESSAGE_BUDGET, protect: tuple[str, ...] = ()) -> tuple[Any, list[str]]:
    """``value`` or a copy that fits ``budget`` written bytes, and notes on what was cut.

    Dicts keep the keys in ``protect`` (seeds, counts) first, lists their first items,
    strings their beginning."""
    cutter = _Cutter(frozenset(protect))
    kept, _ = cutter.fit(value, budget, "")
    return kept, cutter.notes


def bounded_text(text: str, budget: int = MESSAGE_BUDGET) -> str:
    """``text`` cut to fit ``budget`` written bytes, with a note of its full length."""
    if written_size(text) <= budget:
        return text
    note = f" (cut: {len(text):,} characters are over Dify's message limit)"
    return cut_text(text, budget - written_size(note)) + note
