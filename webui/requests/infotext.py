"""A1111's infotext (what PNG Info shows, what `infotexts` outputs hold) -> this plugin's parameters.

An infotext is the prompt, an optional ``Negative prompt:`` line, and a last line of
``Key: value`` pairs whose values are JSON-quoted when they contain ',', ':' or '"'
(A1111's infotext_utils.parse_generation_parameters reads it the same way). The plugin
reads it itself rather than sending A1111's ``infotext`` request field: 1.8, Forge and
SD.Next do not apply that field, and names inside it would reach the server unchecked.
The reading is linear in the text's length.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from webui.requests.fields import USE_SAME

_KEY = re.compile(r"\w[\w \-/]+")
_SIZE = re.compile(r"(\d+)x(\d+)")


def _flag(text: str) -> bool:
    return text.strip().lower() not in ("false", "0", "none", "")


def _size(text: str) -> tuple[int, int]:
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    return int(match.group(1)), int(match.group(2))


# Infotext key -> (parameter, how to read the value). A size fills two parameters.
_FIELDS: dict[str, tuple[str | tuple[str, str], Callable[[str], Any]]] = {
    "Steps": ("steps", int),
    "Sampler": ("sampler_name", str),
    "Schedule type": ("scheduler", str),
    "CFG scale": ("cfg_scale", float),
    "Distilled CFG Scale": ("distilled_cfg_scale", float),
    "Seed": ("seed", int),
    "Size": (("width", "height"), _size),
    "Model": ("checkpoint", str),
    "VAE": ("vae", str),
    "Clip skip": ("clip_skip", int),
    "Denoising strength": ("denoising_strength", float),
    "Variation seed": ("subseed", int),
    "Variation seed strength": ("subseed_strength", float),
    "Seed resize from": (("seed_resize_from_w", "seed_resize_from_h"), _size),
    "Face restoration": ("restore_faces", lambda text: bool(text.strip())),
    "Tiling": ("tiling", _flag),
    "Eta": ("eta", float),
    "Hires upscale": ("hr_scale", float),
    "Hires resize": (("hr_resize_x", "hr_resize_y"), _size),
    "Hires upscaler": ("hr_upscaler", str),
    "Hires steps": ("hr_second_pass_steps", int),
    "Hires sampler": ("hr_sampler_name", str),
    "Hires schedule type": ("hr_scheduler", str),
    "Hires checkpoint": ("hr_checkpoint_name", str),
    "Hires prompt": ("hr_prompt", str),
    "Hires negative prompt": ("hr_negative_prompt", str),
    "Refiner": ("refiner_checkpoint", str),
    "Refiner switch at": ("refiner_switch_at", float),
    "Mask blur": ("mask_blur", int),
    "Masked content": ("inpainting_fill", str),
    "Inpaint area": ("inpaint_full_res", lambda text: text.strip().lower() == "only masked"),
    "Masked area padding": ("inpaint_full_res_padding", int),
    "Mask mode": ("inpainting_mask_invert", str),
    "Image CFG scale": ("image_cfg_scale", float),
    "Noise multiplier": ("initial_noise_multiplier", float),
}
_HIRES_KEYS = ("Hires upscale", "Hires resize", "Hires upscaler")


@dataclass
class Infotext:
    """What an infotext says, as this plugin's parameters, and the rest as written."""

    parameters: dict[str, Any] = field(default_factory=dict)
    other: dict[str, str] = field(default_factory=dict)

    def only(self, accepted: set[str]) -> Infotext:
        """The parameters a tool accepts; the others move to ``other`` under their own names."""
        kept = {name: value for name, value in self.parameters.items() if name in accepted}
        moved = {name: str(value) for name, value in self.parameters.items() if name not in accepted}
        return Infotext(kept, {**self.other, **moved})


def _quoted_end(line: str, start: int) -> int:
    """The index after the closing quote of the JSON string at ``start``, or -1."""
    position = start + 1
    while position < len(line):
        if line[position] == "\\":
            position += 2
        elif line[position] == '"':
            return position + 1 if position > start + 1 else -1
        else:
            position += 1
    return -1


def _unquote(text: str) -> str:
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, str) else text


def key_values(line: str) -> list[tuple[str, str]]:
    """The ``Key: value`` pairs of an infotext's last line, in one pass."""
    pairs: list[tuple[str, str]] = []
    position, length, colon = 0, len(line), -1
    while position < length:
        while position < length and line[position].isspace():
            position += 1
        if colon < position:
            colon = line.find(":", position)
        if colon == -1:
            break
        if _KEY.fullmatch(line, position, colon) is None:  # (no slice: the colon may be far away)
            comma = line.find(",", position)
            if comma == -1:
                break
            position = comma + 1
            continue
        start = colon + 1
        while start < length and line[start].isspace():
            start += 1
        if start < length and line[start] == '"':
            end = _quoted_end(line, start)
            if end != -1 and (end == length or line[end] == ","):
                pairs.append((line[position:colon], _unquote(line[start:end])))
                position = end + 1
                continue
        comma = line.find(",", start)
        end = length if comma == -1 else comma
        pairs.append((line[position:colon], line[start:end]))
        position = end + 1
    return pairs


def parse_infotext(text: str) -> Infotext:
    """Read an infotext; keys this plugin has no parameter for stay in ``other``."""
    *lines, last = text.strip().split("\n")
    pairs = key_values(last)
    if len(pairs) < 3:
        lines.append(last)
        pairs = []
    prompt: list[str] = []
    negative: list[str] = []
    for raw in lines:
        line = raw.strip()
        if line.startswith("Negative prompt:"):
            negative.append(line[len("Negative prompt:") :].strip())
        elif negative:
            negative.append(line)
        else:
            prompt.append(line)
    result = Infotext({"prompt": "\n".join(prompt)})
    if negative:
        result.parameters["negative_prompt"] = "\n".join(negative)
    for key, value in pairs:
        known = _FIELDS.get(key)
        if known is None or value.strip().lower() in USE_SAME:
            if known is None:
                result.other[key] = value
            continue
        names, read = known
        try:
            parsed = read(value)
        except ValueError:
            result.other[key] = value
            continue
        if isinstance(names, tuple):
            result.parameters.update(zip(names, parsed, strict=True))
        else:
            result.parameters[names] = parsed
    keys = {key for key, _ in pairs}
    if "Model" not in keys and "Model hash" in result.other:
        result.parameters["checkpoint"] = result.other["Model hash"]
    if keys.intersection(_HIRES_KEYS):
        result.parameters["enable_hr"] = True
    return result
