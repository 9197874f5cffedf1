"""Extra-network tags in prompts: <lora:NAME:WEIGHT>, <lyco:...>, <hypernet:...>.

A1111 applies them by name and silently drops unknown ones, so names are found here to
be checked against the server's lists (webui/server/resolve.py), and a "name:0.8, other:0.5"
list can be turned into tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webui.errors import InvalidParameter

_KINDS = ("lora", "lyco", "hypernet")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class NetworkTag:
    kind: str  # "lora" (lyco is the same network type) or "hypernet"
    name: str
    start: int
    end: int
    written_kind: str = "lora"  # as written in the prompt ("LoRA", "lyco", ...)
    rest: str = ""  # ":weight[:...]" as written


def find_tags(prompt: str) -> list[NetworkTag]:
    """Every <lora:NAME...>, <lyco:NAME...> and <hypernet:NAME...> tag, in one linear pass.

    Same reading as A1111's generic ``<(\\w+):([^>]+)>`` (modules/extra_networks.py)
    for the kinds we check: the name runs to the first ':' or '>', the rest to the '>'.
    """
    tags: list[NetworkTag] = []
    position, next_close = 0, -1
    while (start := prompt.find("<", position)) != -1:
        position = start + 1
        if next_close < start:
            next_close = prompt.find(">", start)
            if next_close == -1:
                break  # no tag can close after this point
        head, colon, _ = prompt[start + 1 : start + 10].partition(":")
        if not colon or head.lower() not in _KINDS:
            continue
        name_start = start + 2 + len(head)
        name_end = prompt.find(":", name_start, next_close)
        name_end = next_close if name_end == -1 else name_end
        if name_end == name_start:
            continue
        kind = "hypernet" if head.lower() == "hypernet" else "lora"
        name, rest = prompt[name_start:name_end], prompt[name_end:next_close]
        tags.append(NetworkTag(kind, name.strip(), start, next_close + 1, head, rest))
        position = next_close + 1
    return tags


def rename_tags(prompt: str, names: dict[tuple[str, str], str]) -> str:
    """Replace tag names by ``names[(kind, old)]``; weights and options are kept."""
    pieces: list[str] = []
    position = 0
    for tag in find_tags(prompt):
        new = names.get((tag.kind, tag.name))
        if new is None:
            continue
        pieces += [prompt[position : tag.start], f"<{tag.written_kind}:{new}{tag.rest}>"]
        position = tag.end
    return "".join(pieces) + prompt[position:]


def parse_lora_list(text: str) -> list[tuple[str, float]]:
    """'detail:0.8, animeEyes:0.5' or one per line; a missing weight is 1."""
    entries: list[tuple[str, float]] = []
    for raw in re.split(r"[,\n]", text):
        item = raw.strip().removeprefix("<lora:").removesuffix(">")
        if not item:
            continue
        name, separator, weight = item.rpartition(":")
        if not (separator and _NUMBER.match(weight.strip())):
            name, weight = item, "1"
        if not name.strip():
            raise InvalidParameter(f"loras: {raw.strip()!r} has no LoRA name; write name:weight, e.g. add_detail:0.8.")
        entries.append((name.strip(), float(weight)))
    return entries


def lora_tags(entries: list[tuple[str, float]]) -> str:
    return " ".join(f"<lora:{name}:{weight:g}>" for name, weight in entries)
