"""Extra-network tags in prompts: <lora:NAME:WEIGHT>, <lyco:...>, <hypernet:...>.

A1111 applies them by name and silently drops unknown ones, so names are found here to
be checked against the server's lists (webui/resolve.py), and a "name:0.8, other:0.5"
list can be turned into tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from webui.errors import InvalidParameter

# A1111's generic form <(\w+):([^>]+)> (modules/extra_networks.py), for the kinds we check.
_TAG = re.compile(r"<(?P<kind>lora|lyco|hypernet):(?P<name>[^:>]+)(?P<rest>(?::[^>]*)?)>", re.IGNORECASE)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class NetworkTag:
    kind: str  # "lora" (lyco is the same network type) or "hypernet"
    name: str
    start: int
    end: int


def find_tags(prompt: str) -> list[NetworkTag]:
    tags = []
    for match in _TAG.finditer(prompt):
        kind = match.group("kind").lower()
        tags.append(
            NetworkTag("hypernet" if kind == "hypernet" else "lora", match.group("name").strip(), *match.span())
        )
    return tags


def rename_tags(prompt: str, names: dict[tuple[str, str], str]) -> str:
    """Replace tag names by ``names[(kind, old)]``; weights and options are kept."""

    def swap(match: re.Match[str]) -> str:
        kind = "hypernet" if match.group("kind").lower() == "hypernet" else "lora"
        new = names.get((kind, match.group("name").strip()))
        if new is None:
            return match.group(0)
        return f"<{match.group('kind')}:{new}{match.group('rest')}>"

    return _TAG.sub(swap, prompt)


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
