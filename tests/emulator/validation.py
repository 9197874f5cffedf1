"""Request-body validation the way FastAPI + pydantic do it on each server.

A1111 and reForge run pydantic 1 (lenient: "2" -> 2, 2.7 -> 2, 5 -> "5"); Forge and
SD.Next run pydantic 2 (floats with fractions and numbers for strings are refused).
Unknown keys are ignored by both; every field is optional, so null is fine.
"""

from __future__ import annotations

from typing import Any

_V1_TRUE = {1, "1", "on", "t", "true", "y", "yes"}
_V1_FALSE = {0, "0", "off", "f", "false", "n", "no"}
PYDANTIC2_URL = "https://errors.pydantic.dev/2.8/v/"


class FieldError(Exception):
    def __init__(self, loc: list[Any], v1: tuple[str, str], v2: tuple[str, str], value: Any) -> None:
        super().__init__(v1[0])
        self.loc, self.v1, self.v2, self.value = loc, v1, v2, value


def _int(value: Any, loc: list[Any], strict_floats: bool) -> int:
    v1 = ("value is not a valid integer", "type_error.integer")
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if strict_floats and not value.is_integer():
            raise FieldError(
                loc,
                v1,
                ("Input should be a valid integer, got a number with a fractional part", "int_from_float"),
                value,
            )
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
        if strict_floats:
            try:
                number = float(value)
                if number.is_integer():
                    return int(number)
            except ValueError:
                pass
    raise FieldError(
        loc, v1, ("Input should be a valid integer, unable to parse string as an integer", "int_parsing"), value
    )


def _float(value: Any, loc: list[Any]) -> float:
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise FieldError(
        loc,
        ("value is not a valid float", "type_error.float"),
        ("Input should be a valid number, unable to parse string as a number", "float_parsing"),
        value,
    )


def _str(value: Any, loc: list[Any], strict: bool) -> str:
    if isinstance(value, str):
        return value
    if not strict and isinstance(value, (int, float)):
        return str(value)
    raise FieldError(
        loc, ("str type expected", "type_error.str"), ("Input should be a valid string", "string_type"), value
    )


def _bool(value: Any, loc: list[Any]) -> bool:
    if value is True or value is False:
        return value
    key = value.lower() if isinstance(value, str) else value
    try:
        if key in _V1_TRUE:
            return True
        if key in _V1_FALSE:
            return False
    except TypeError:
        pass
    raise FieldError(
        loc,
        ("value could not be parsed to a boolean", "type_error.bool"),
        ("Input should be a valid boolean, unable to interpret input", "bool_parsing"),
        value,
    )


def coerce(kind: str, value: Any, loc: list[Any], pydantic2: bool) -> Any:
    """One field; ``kind`` is the OpenAPI type: integer, number, string, boolean, array[string], array, object."""
    if value is None:
        return None
    if kind == "integer":
        return _int(value, loc, pydantic2)
    if kind == "number":
        return _float(value, loc)
    if kind == "string":
        return _str(value, loc, pydantic2)
    if kind == "boolean":
        return _bool(value, loc)
    if kind.startswith("array"):
        if not isinstance(value, (list, tuple)):
            raise FieldError(
                loc,
                ("value is not a valid list", "type_error.list"),
                ("Input should be a valid list", "list_type"),
                value,
            )
        if kind == "array[string]":
            return [_str(item, [*loc, index], pydantic2) for index, item in enumerate(value)]
        return list(value)
    if kind == "object":
        if not isinstance(value, dict):
            raise FieldError(
                loc,
                ("value is not a valid dict", "type_error.dict"),
                ("Input should be a valid dictionary", "dict_type"),
                value,
            )
        return value
    return value


def error_item(error: FieldError, pydantic2: bool, url: str | None = PYDANTIC2_URL) -> dict[str, Any]:
    if pydantic2:
        msg, kind = error.v2
        item = {"type": kind, "loc": error.loc, "msg": msg, "input": error.value}
        return item | ({"url": url + kind} if url else {})
    msg, kind = error.v1
    return {"loc": error.loc, "msg": msg, "type": kind}


def validate_body(
    body: Any, fields: dict[str, str], pydantic2: bool, url: str | None = PYDANTIC2_URL
) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(coerced body, []) or (None, 422 detail items); ``url``: pydantic 2's link prefix, if it gives one."""
    if not isinstance(body, dict):
        if pydantic2:
            item = {"type": "dict_type", "loc": ["body"], "msg": "Input should be a valid dictionary", "input": body}
            return None, [item | ({"url": url + "dict_type"} if url else {})]
        return None, [{"loc": ["body"], "msg": "value is not a valid dict", "type": "type_error.dict"}]
    out: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for name, kind in fields.items():
        if name not in body:
            continue
        try:
            out[name] = coerce(kind, body[name], ["body", name], pydantic2)
        except FieldError as error:
            errors.append(error_item(error, pydantic2, url))
    return (None, errors) if errors else (out, [])
