"""Who reads a tool call's messages, decided once per call, and the gate every message leaves by.

Dify runs a tool from four places and each treats the messages differently
(docs/dify-protocol.md, "Who reads the messages"):

- a workflow or chatflow **tool node** keeps text, files, JSON and variables as outputs;
- the **classic Agent app** shows a blob to the person and gives its model everything else;
- a **workflow Agent node** (agent strategies) files a blob and gives its model everything else;
- the **New Agent** (Dify 1.16+) str()-s a blob into its model's context and shows the person
  nothing but what the model writes.

The tool sees no "invoked from" flag, only the session ids Dify sent, and the node setting
``delivery`` (auto | files | links). ``auto``: a message id means the classic Agent app
(files); no id at all means the New Agent (links); app_id alone is a tool node or a workflow
Agent node, which send the same ids, so it keeps a tool node's outputs: a workflow Agent node
needs ``delivery: files`` (README, "Agents").

Every message then passes one gate (``delivered``): credentials replaced by ***, characters
the SDK cannot write replaced, each message cut to fit a daemon line (glue/budget.py), and
when a model reads the call, no JSON, no variables and at most AGENT_TEXT_BUDGET characters
of text besides the picture links.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from enum import Enum
from typing import Any

import requests
from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.budget import bounded, bounded_text
from glue.credentials import server_config
from webui import InvalidParameter, WebUIError, clip, redact, shown_url

log = logging.getLogger("sdwebui")

SETTING = "delivery"
AGENT_TEXT_BUDGET = 400  # characters a model reads from one call, the picture links aside
# Never cut from the JSON summary or the variables.
PROTECTED = ("seeds", "subseeds", "seed", "image_count", "width", "height", "filename", "role")
MARKDOWN_IMAGE = re.compile(r"!\[[^\]\n]*\]\(\S+?\)")
_NOTES_ROOM = 16 * 1024  # room left in a JSON message for the notes on what was cut


class Delivery(Enum):
    OUTPUTS = "outputs"  # a tool node: blobs, JSON, variables, text and live progress
    FILES = "files"  # blobs the person is shown, one short line for the model
    LINKS = "links"  # pictures uploaded to Dify, a markdown image each and one short line

    @property
    def for_a_model(self) -> bool:
        """Whether a model reads every message of this call."""
        return self is not Delivery.OUTPUTS


class FileUploadFailed(WebUIError):
    """A picture could not be handed to Dify's file storage (the New Agent's links)."""


def decide(session: Any, setting: Any) -> Delivery:
    """The delivery of one call, from the node's ``delivery`` setting and the session ids."""
    choice = str(setting or "auto").strip().lower()
    if choice == "files":
        return Delivery.FILES
    if choice == "links":
        return Delivery.LINKS
    if choice != "auto":
        raise InvalidParameter(f"{SETTING} = {clip(str(setting), 40)!r}: must be one of auto, files, links.")
    if getattr(session, "message_id", None):
        return Delivery.FILES  # the classic Agent app
    if not (getattr(session, "app_id", None) or getattr(session, "conversation_id", None)):
        return Delivery.LINKS  # the New Agent sends user_id only
    return Delivery.OUTPUTS  # a tool node (or a workflow Agent node: the same ids)


_FILES_URL_ADVICE = (
    " Dify gives plugins an upload address built from INTERNAL_FILES_URL (or FILES_URL when that is "
    "empty) and shows pictures from FILES_URL: in Dify's docker/.env set FILES_URL to an address the "
    "person's browser reaches (e.g. http://<dify-host>:5001 or your public Dify URL) and "
    "INTERNAL_FILES_URL=http://api:5001 for the plugin daemon, then `docker compose up -d`."
)


def upload(tool: Tool, data: bytes, filename: str, mime_type: str) -> str:
    """Store one picture in Dify's file storage for this call; its signed preview URL.

    Any failure is a FileUploadFailed naming the setting to fix, never a fallback that would
    put the picture's bytes into a model's context."""
    try:
        stored = tool.session.file.upload(filename, data, mime_type)
    except (requests.exceptions.MissingSchema, requests.exceptions.InvalidURL):  # the SDK posts with requests
        reason = "Dify handed out a relative upload address, so FILES_URL and INTERNAL_FILES_URL are both empty"
        raise FileUploadFailed(f"Could not upload {filename} to Dify: {reason}.{_FILES_URL_ADVICE}") from None
    except Exception as error:  # noqa: BLE001 - the SDK raises bare Exception and requests' errors
        reason = clip(str(error), 300)
        raise FileUploadFailed(f"Could not upload {filename} to Dify: {reason}.{_FILES_URL_ADVICE}") from None
    url = stored.preview_url or ""
    if not url.startswith(("http://", "https://")):
        raise FileUploadFailed(
            f"Dify stored {filename} but gave no absolute preview address ({shown_url(url)[:120]!r}), so FILES_URL "
            f"is empty.{_FILES_URL_ADVICE}"
        )
    return url


def _scrub(value: Any, secrets: list[str]) -> Any:
    """``value`` with every credential in its strings replaced by *** and characters UTF-8
    cannot carry (lone surrogates) replaced by U+FFFD."""
    if isinstance(value, str):
        text = value.encode("utf-8", "replace").decode("utf-8") if not value.isascii() else value
        return redact(text, secrets) if secrets else text
    if isinstance(value, list):
        return [_scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {_scrub(key, secrets): _scrub(item, secrets) for key, item in value.items()}
    return value


class Gate:
    """Shapes every message of one call for its reader (see the module's docstring)."""

    def __init__(self, delivery: Delivery, secrets: list[str]) -> None:
        self.delivery = delivery
        self.secrets = secrets
        self.model_room = AGENT_TEXT_BUDGET

    def __call__(self, message: ToolInvokeMessage) -> ToolInvokeMessage | None:
        kind, body = message.type, message.message
        if kind == ToolInvokeMessage.MessageType.TEXT and isinstance(body, ToolInvokeMessage.TextMessage):
            text = _scrub(body.text, self.secrets)
            body.text = self._for_a_model(text) if self.delivery.for_a_model else bounded_text(text)
            return message if body.text else None
        if kind == ToolInvokeMessage.MessageType.JSON and isinstance(body, ToolInvokeMessage.JsonMessage):
            if self.delivery.for_a_model:
                return None
            data, notes = bounded(_scrub(body.json_object, self.secrets), protect=PROTECTED)
            if notes and isinstance(data, dict):
                data["cut_to_fit"], _ = bounded(notes, _NOTES_ROOM)
            body.json_object = data
            return message
        if kind == ToolInvokeMessage.MessageType.VARIABLE and isinstance(body, ToolInvokeMessage.VariableMessage):
            if self.delivery.for_a_model:
                return None
            body.variable_value = bounded(_scrub(body.variable_value, self.secrets), protect=PROTECTED)[0]
            return message
        return message  # blobs, links and logs carry nothing from the server's text

    def _for_a_model(self, text: str) -> str:
        """Markdown images as they are; the rest within what is left of the model's budget."""
        links = MARKDOWN_IMAGE.findall(text)
        rest = MARKDOWN_IMAGE.sub("", text).strip() if links else text
        if len(rest) > self.model_room:
            rest = rest[: max(0, self.model_room - 1)] + "…" if self.model_room > 0 else ""
        self.model_room -= len(rest)
        return "\n".join([*links, rest] if rest else links) if links else rest


def _secrets(credentials: Mapping[str, Any]) -> list[str]:
    try:
        return server_config(credentials).secrets()
    except WebUIError:
        return [str(credentials.get(key)) for key in ("password", "api_key") if credentials.get(key)]


type Flow = Callable[[Tool, dict[str, Any], Delivery], Iterator[ToolInvokeMessage]]


def delivered(flow: Flow) -> Callable[[Tool, dict[str, Any]], Iterator[ToolInvokeMessage]]:
    """A tool's flow with its delivery decided and every message it yields through the gate."""

    @functools.wraps(flow)
    def run(tool: Tool, parameters: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
        parameters = dict(parameters)
        delivery = decide(tool.session, parameters.pop(SETTING, None))
        gate = Gate(delivery, _secrets(tool.runtime.credentials))
        for message in flow(tool, parameters, delivery):
            shaped = gate(message)
            if shaped is not None:
                yield shaped

    return run
