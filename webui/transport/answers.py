"""Reading the WebUI's JSON answers: strict JSON, with long base64 strings (the images) left in
place as views of the answer's bytes instead of copied."""

from __future__ import annotations

import binascii
import json
import re
from typing import Any

from webui.errors import writable

# A JSON escape of a UTF-16 surrogate: only these can put a lone surrogate into parsed text.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


def parse_json(data: bytes) -> Any:
    """JSON from bytes; raises ValueError for anything that is not JSON (or nested absurdly deep).

    A lone surrogate (``"\\ud800"``) is valid JSON but no text can be written with it: every
    message that quoted it would fail as it leaves. They become U+FFFD here."""
    try:
        parsed = json.loads(data)
        return _without_surrogates(parsed) if _SURROGATE_ESCAPE.search(data) else parsed
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _without_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return writable(value)
    if isinstance(value, list):
        return [_without_surrogates(item) for item in value]
    if isinstance(value, dict):
        return {writable(key): _without_surrogates(item) for key, item in value.items()}
    return value


class Base64Blob:
    """A long base64 string of an answer, left in place in the answer's bytes.

    Images make up nearly all of a generation answer. Parsed as JSON they would be
    copied twice (the decoded text, then each string; four times that when the text
    holds one non-ASCII character); kept as views they are decoded straight from the
    bytes the server sent, so an answer costs about 1.75 times its size at the peak.
    """

    __slots__ = ("_view",)

    def __init__(self, view: memoryview) -> None:
        self._view = view

    def __len__(self) -> int:
        return len(self._view)

    def decode(self) -> bytes:
        """The bytes; raises binascii.Error (a ValueError) for invalid base64."""
        return binascii.a2b_base64(self._view, strict_mode=True)


# A JSON string of 1024+ base64 characters: quote, the run (possessive, so the scan stays
# linear), padding, quote. Strings with escapes never match and are parsed normally.
_LONG_BASE64 = re.compile(rb'"([A-Za-z0-9+/]{1024,}+={0,2})"')
_PLACEHOLDER = "\\u0000base64:%d\\u0000"


def parse_answer(data: bytes) -> Any:
    """Like :func:`parse_json`, but long base64 strings become :class:`Base64Blob` objects."""
    view = memoryview(data)
    blobs: list[Base64Blob] = []

    def park(match: re.Match[bytes]) -> bytes:
        blobs.append(Base64Blob(view[match.start(1) : match.end(1)]))
        return b'"' + (_PLACEHOLDER % (len(blobs) - 1)).encode() + b'"'

    skeleton = _LONG_BASE64.sub(park, data)
    parsed = parse_json(skeleton)
    if not blobs:
        return parsed
    try:
        return _restore(parsed, blobs)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _restore(value: Any, blobs: list[Base64Blob]) -> Any:
    if isinstance(value, str) and value.startswith("\x00base64:") and value.endswith("\x00"):
        index = value[8:-1]
        return blobs[int(index)] if index.isdigit() and int(index) < len(blobs) else value
    if isinstance(value, list):
        return [_restore(item, blobs) for item in value]
    if isinstance(value, dict):
        return {key: _restore(item, blobs) for key, item in value.items()}
    return value
