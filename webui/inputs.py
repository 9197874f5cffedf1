"""Turn loose tool inputs (numbers as strings, empty fields, JSON text) into typed requests."""

from __future__ import annotations

from typing import Any

from webui.models import GenerationOptions, GenerationRequest, parse_model
from webui.payload import split_extra

# Text fields where an empty string is a value, not "unset".
_TEXT_FIELDS = {"prompt", "negative_prompt"}


def _is_unset(name: str, value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and not value.strip() and name not in _TEXT_FIELDS


def parse_inputs[R: GenerationRequest](
    model: type[R], inputs: dict[str, Any]
) -> tuple[R, GenerationOptions, dict[str, Any]]:
    """Split tool inputs into (request, options, passthrough).

    ``passthrough`` holds extra_payload keys the request model does not know; known
    keys in extra_payload override the typed inputs and are validated like them.
    Inputs that are neither request fields nor options raise InvalidParameter.
    """
    given = {name: value for name, value in inputs.items() if not _is_unset(name, value)}
    option_values = {name: given.pop(name) for name in list(given) if name in GenerationOptions.model_fields}
    options = parse_model(GenerationOptions, option_values)
    known, passthrough = split_extra(model, options.extra_payload)
    request = parse_model(model, {**given, **known})
    return request, options, passthrough
