"""Turn loose tool inputs (numbers as strings, empty fields, JSON text) into typed requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

from webui.requests.fields import parse_model
from webui.requests.infotext import parse_infotext
from webui.requests.models import GenerationOptions, GenerationRequest, ToolOptions
from webui.requests.payload import split_extra

# Text fields where an empty string is a value, not "unset".
_TEXT_FIELDS = {"prompt", "negative_prompt"}


def is_unset(name: str, value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, str) and not value.strip() and name not in _TEXT_FIELDS


@dataclass
class Inputs[R: BaseModel, O: ToolOptions]:
    request: R
    options: O
    passthrough: dict[str, Any]  # extra_payload keys the request model does not know
    infotext_unused: dict[str, str] = field(default_factory=dict)  # infotext keys without a parameter here


def parse_inputs[R: BaseModel, O: ToolOptions](
    model: type[R], inputs: dict[str, Any], options_model: type[O] = GenerationOptions
) -> Inputs[R, O]:
    """Split tool inputs into a request, options and passthrough keys.

    ``extra_payload`` keys the request model knows override the typed inputs and are
    validated like them. An ``infotext`` (A1111's PNG-info text) gives defaults for every
    parameter not set explicitly (an empty prompt is not set then); it is applied here and
    never sent as such. Inputs that
    are neither request fields nor options raise InvalidParameter.
    """
    given = {name: value for name, value in inputs.items() if not is_unset(name, value)}
    option_values = {name: given.pop(name) for name in list(given) if name in options_model.model_fields}
    options = parse_model(options_model, option_values)
    known, passthrough = split_extra(model, options.extra_payload)
    values = {**given, **known}
    unused: dict[str, str] = {}
    infotext = values.pop("infotext", None)
    if isinstance(infotext, str) and infotext.strip() and "infotext" in model.model_fields:
        parsed = parse_infotext(parse_model(GenerationRequest, {"infotext": infotext}).infotext or "")
        accepted = parsed.only(set(model.model_fields) | set(options_model.model_fields))
        unused = accepted.other
        # beside an infotext, a text input left empty (a workflow sends "") is not given
        values = {
            name: value for name, value in values.items()
            if name in known or not (isinstance(value, str) and not value.strip())
        }  # fmt: skip
        defaults = {name: value for name, value in accepted.parameters.items() if name not in values}
        defaults = {name: value for name, value in defaults.items() if name not in option_values}
        option_defaults = {name: defaults.pop(name) for name in list(defaults) if name in options_model.model_fields}
        if option_defaults:
            options = options.model_copy(
                update=parse_model(options_model, option_defaults).model_dump(exclude_unset=True)
            )
        values = {**defaults, **values}
    elif infotext is not None:
        values["infotext"] = infotext
    request = parse_model(model, values)
    return Inputs(request, options, passthrough, unused)
