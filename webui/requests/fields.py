"""The field types every request model shares, and how tool inputs are validated into them.

Inputs arrive from workflows as numbers or numeric strings, and JSON fields as text:
the types accept both and fail with messages that name the field (:func:`parse_model`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from enum import Enum, IntEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model
from pydantic_core import ErrorDetails

from webui.errors import InvalidParameter
from webui.server.names import MAX_NAME_CHARS

MIN_PIXELS = 64
MAX_PIXELS = 4096
MAX_SEED = 2**32 - 1
MAX_PROMPT_CHARS = 65536
MAX_JSON_DEPTH = 32


def only_on(servers: str, default: Any = None, **constraints: Any) -> Any:
    """A request field A1111 1.10.1 does not have; ``servers`` names who has it ("Forge")."""
    return Field(default, json_schema_extra={"only_on": servers}, **constraints)


def json_depth(value: Any) -> int:
    """How deeply lists and objects nest in ``value`` (iteratively: any depth is safe)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in item)
    return deepest


class _NotFinite(ValueError):
    """NaN or Infinity in a JSON input: Python's json reads them, JSON has no such numbers."""


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _NotFinite(text)
    return number


def _no_constant(text: str) -> Any:
    raise _NotFinite(text)


def _parse_json(value: Any, kind: type, example: str) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        try:
            value = json.loads(text, parse_float=_finite, parse_constant=_no_constant)
        except _NotFinite as error:
            raise ValueError(f"holds {str(error)[:20]} (NaN or Infinity); only finite numbers are sent") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"is not valid JSON: {error.msg} at line {error.lineno}, column {error.colno}") from None
        except RecursionError:
            raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"nests deeper than {MAX_JSON_DEPTH} levels")
    if value is not None and not isinstance(value, kind):
        noun = "object" if kind is dict else "array"
        raise ValueError(f"must be a JSON {noun} such as {example}, got a JSON {type(value).__name__}")
    return value


def json_object(example: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _parse_json(value, dict, example))


def json_array(example: str) -> BeforeValidator:
    return BeforeValidator(lambda value: _parse_json(value, list, example))


def name_list(value: Any) -> Any:
    """Styles: a list, a JSON array, or names separated by commas or new lines."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return _parse_json(text, list, '["Style A", "Style B"]')
        names = [part.strip() for part in text.replace("\n", ",").split(",")]
        return [name for name in names if name] or None
    return value


def multiple_of_8(value: int) -> int:
    if value % 8:
        lower, upper = value - value % 8, value - value % 8 + 8
        raise ValueError(
            f"must be a multiple of 8 (A1111 would silently shrink {value} to {lower}); use {lower} or {upper}"
        )
    return value


def size_near(pixels: float) -> int:
    """A size for ``pixels``: the nearest multiple of 8, at least MIN_PIXELS."""
    return max(MIN_PIXELS, int(round(pixels / 8) * 8))


def round_to_8(value: Any) -> Any:
    """A validator: a number of pixels rounded to the nearest multiple of 8, not raised to
    MIN_PIXELS (what is too small is refused); other values pass to validation."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return value
    return int(round(number / 8) * 8) if math.isfinite(number) else value


# A1111's values that make the hires pass use the first pass's sampler, scheduler or checkpoint.
USE_SAME = frozenset({"use same sampler", "use same scheduler", "use same checkpoint"})


def is_use_same(value: str | None) -> bool:
    """Whether a hires sampler/scheduler/checkpoint value means "as the first pass" (unset too)."""
    return value is None or not value.strip() or value.strip().lower() in USE_SAME


def _key(text: str) -> str:
    return "_".join(text.lower().replace("(", " ").replace(")", " ").replace("-", " ").split())


def choice(enum: type[Enum]) -> BeforeValidator:
    """Accept an enum member's name, its number (its position for a text enum), or its
    label (a text enum's value, the UI's wording) in any case."""
    members = list(enum)
    by_key = {_key(member.name): member for member in members}
    by_key.update({_key(str(member.value)): member for member in members if isinstance(member.value, str)})

    def parse(value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool) and not issubclass(enum, IntEnum):
            return members[value] if 0 <= value < len(members) else value
        if isinstance(value, str):
            text = value.strip()
            if not text:
                return None
            if text.lstrip("-").isdigit():
                return parse(int(text)) if not issubclass(enum, IntEnum) else int(text)
            if _key(text) in by_key:
                return by_key[_key(text)]
            names = ", ".join(enum.__members__)
            raise ValueError(f"must be one of {names} (or 0–{len(enum) - 1}), got {value!r}")
        return value

    return BeforeValidator(parse)


Pixels = Annotated[int, Field(ge=MIN_PIXELS, le=MAX_PIXELS), AfterValidator(multiple_of_8)]
HiresPixels = Annotated[int, Field(ge=0, le=2 * MAX_PIXELS), AfterValidator(multiple_of_8)]
Seed = Annotated[int, Field(ge=-1, le=MAX_SEED)]
Fraction = Annotated[float, Field(ge=0, le=1)]
# Far beyond any real prompt (A1111 encodes 75 tokens per chunk); keeps echoes bounded.
Prompt = Annotated[str, Field(max_length=MAX_PROMPT_CHARS)]
# A checkpoint, sampler, script... name: checked against the server's lists, so bounded.
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS)]
JsonObject = Annotated[dict[str, Any], json_object('{"CLIP_stop_at_last_layers": 2}')]
ScriptArgs = Annotated[list[Any], json_array('[1, true, "text"]')]
JsonArray = Annotated[list[Any], json_array('[{"module": "canny", "image": 0}]')]
Styles = Annotated[list[Name], BeforeValidator(name_list), Field(max_length=64)]

CONFIG = ConfigDict(extra="forbid", allow_inf_nan=False, coerce_numbers_to_str=True)


_MESSAGES = {
    "int_parsing": "must be a whole number",
    "int_type": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_parsing": "must be a number",
    "float_type": "must be a number",
    "finite_number": "must be a finite number",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be a JSON object",
    "extra_forbidden": "is not a parameter of this tool",
    "enum": "is not one of the allowed values",
}


def unit_inputs(
    name: str, unit: type[BaseModel], fields: tuple[str, ...], input_name: Callable[[str], str], **extra: Any
) -> type[BaseModel]:
    """A model of the tool inputs that set some fields of an extension unit: each is typed and
    bounded as the unit's field, under its tool input name; ``extra`` adds inputs of its own."""
    typed = {input_name(field): (unit.model_fields[field].annotation, unit.model_fields[field]) for field in fields}
    return create_model(name, __config__=CONFIG, **extra, **typed)  # type: ignore[call-overload]


def _describe_error(error: ErrorDetails, model: type[BaseModel], prefix: str = "") -> str:
    loc = [str(part) for part in error["loc"]]
    name = ".".join([prefix, *loc] if prefix else loc)
    kind = error["type"]
    ctx = error.get("ctx", {})
    if kind == "value_error":
        text = str(ctx.get("error", error["msg"]))
    elif kind in ("greater_than_equal", "greater_than"):
        text = f"must be at least {ctx.get('ge', ctx.get('gt'))}"
    elif kind in ("less_than_equal", "less_than"):
        text = f"must be at most {ctx.get('le', ctx.get('lt'))}"
    elif kind == "string_too_long":
        text = f"is too long ({len(error.get('input', ''))} characters; at most {ctx.get('max_length')})"
    else:
        text = _MESSAGES.get(kind, error["msg"])
    field = model.model_fields.get(loc[0]) if loc else None
    if field is not None and field.description and kind != "value_error":
        text += f" ({field.description})"
    value = error.get("input")
    shown = "" if isinstance(value, (dict, list)) or kind == "extra_forbidden" else f" = {value!r}"
    if len(shown) > 83:
        shown = shown[:80] + "…"
    return f"{name}{shown}: {text}"


def describe_errors(error: ValidationError, model: type[BaseModel], prefix: str = "") -> str:
    """Every problem of a validation error as 'field = value: what is wrong', joined by '; '."""
    return "; ".join(_describe_error(item, model, prefix) for item in error.errors(include_url=False))


def parse_model[M: BaseModel](model: type[M], values: dict[str, Any]) -> M:
    """Validate tool inputs into ``model``; raise InvalidParameter naming every bad field."""
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise InvalidParameter("Invalid parameter: " + describe_errors(error, model) + ".") from None
