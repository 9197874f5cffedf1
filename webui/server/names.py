"""Turn a name a person or an LLM typed into the exact name the server expects.

A1111 silently ignores unknown checkpoints, samplers, LoRAs and styles, so every name
is matched against the server's own list first: exactly, then ignoring case, then
ignoring extension, folder, hash and punctuation. No match is an error that lists the
closest valid names. Names are at most MAX_NAME_CHARS long and every step is linear in
their length (the closest-name search is bounded by that cap).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from webui.errors import UnknownName

_EXTENSIONS = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft", ".vae")
_HASH_SUFFIX = re.compile(r"\[[0-9a-f]{6,64}\]$", re.IGNORECASE)
_PUNCTUATION = re.compile(r"[\s_\-.+()]+")
_LISTED = 12
MAX_NAME_CHARS = 512


@dataclass(frozen=True)
class Choice:
    """One valid name: ``value`` is sent to the server, ``label`` shown to people."""

    value: str
    label: str = ""
    spellings: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.value)

    def names(self) -> tuple[str, ...]:
        return (self.value, self.label, *self.spellings)


def loose_key(text: str) -> str:
    """Lower case, without folder, extension, [hash] suffix, spaces and punctuation."""
    key = _HASH_SUFFIX.sub("", text.strip().lower()).rstrip()
    key = key.replace("\\", "/").rsplit("/", 1)[-1]
    for extension in _EXTENSIONS:
        if key.endswith(extension):
            key = key[: -len(extension)]
            break
    return _PUNCTUATION.sub("", key)


def closest(given: str, choices: Sequence[Choice], limit: int = 5) -> list[str]:
    """Labels of the choices most like ``given``, best first."""
    by_key: dict[str, str] = {}
    for choice in choices:
        for name in choice.names():
            by_key.setdefault(loose_key(name), choice.label)
    wanted = loose_key(given)
    found: list[str] = []
    for key in difflib.get_close_matches(wanted, list(by_key), n=limit * 2, cutoff=0.5):
        if by_key[key] not in found:
            found.append(by_key[key])
    if wanted:
        for key, label in by_key.items():
            if (wanted in key or key in wanted) and key and label not in found:
                found.append(label)
    return found[:limit]


def unknown_name_error(kind: str, given: str, choices: Sequence[Choice], hint: str = "") -> UnknownName:
    given = given[:MAX_NAME_CHARS]
    if not choices:
        return UnknownName(f"Unknown {kind} {given!r}: the server lists no {kind}s at all.{hint}")
    suggestions = closest(given, choices)
    parts = [f"Unknown {kind} {given!r} (the server would silently ignore it)."]
    if suggestions:
        parts.append("Closest: " + ", ".join(suggestions) + ".")
    labels = [choice.label for choice in choices]
    shown = ", ".join(labels[:_LISTED]) + (f" … ({len(labels)} in all)" if len(labels) > _LISTED else "")
    parts.append(f"Available: {shown}.")
    return UnknownName(" ".join(parts) + hint)


def resolve(kind: str, given: str, choices: Sequence[Choice], hint: str = "") -> Choice:
    """The choice ``given`` names; raises UnknownName (with suggestions) otherwise."""
    text = given.strip()
    if len(text) > MAX_NAME_CHARS:
        raise UnknownName(f"The {kind} name is {len(text)} characters long; names are at most {MAX_NAME_CHARS}.")
    for choice in choices:
        if text in choice.names():
            return choice
    folded = text.casefold()
    for choice in choices:
        if any(folded == name.casefold() for name in choice.names()):
            return choice
    key = loose_key(text)
    matches = [choice for choice in choices if key and any(loose_key(n) == key for n in choice.names())]
    unique = list({choice.value: choice for choice in matches}.values())
    if len(unique) == 1:
        return unique[0]
    if len(unique) > 1:
        labels = ", ".join(choice.label for choice in unique)
        raise UnknownName(f"The {kind} name {given!r} is ambiguous; it matches: {labels}. Use the full name.")
    raise unknown_name_error(kind, given, choices, hint)
