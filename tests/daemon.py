"""Drive the plugin the way Dify's plugin daemon does: spawn `python -m main` and speak stdio.

The daemon starts ``<venv>/bin/python -m main`` in the plugin directory with
INSTALL_METHOD=local, waits for the first heartbeat, writes one JSON request per line
on stdin and reads JSON objects separated by blank lines from stdout (docs/dify-protocol.md).
It refuses stdout lines over 5 MiB, so this driver records the longest line it saw.

Each request carries the session ids of the runner that invoked the tool (``RUNNERS``), and
the plugin's backwards invocations (``upload_file``) are answered as the daemon answers them,
from a stand-in for Dify's file routes (tests/dify_files.py) or with the daemon's error.
"""

from __future__ import annotations

import binascii
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from tests.dify_files import DifyFiles

DAEMON_LINE_LIMIT = 5 * 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Runner:
    """The session ids Dify sends with a tool call from one place (docs/dify-protocol.md)."""

    name: str
    conversation_id: str | None = None
    app_id: str | None = None
    message_id: str | None = None

    def ids(self) -> dict[str, str | None]:
        return {"conversation_id": self.conversation_id, "app_id": self.app_id, "message_id": self.message_id}


RUNNERS = {
    # Agent app (chat) of Dify <= 1.15 and the classic runner since: every id set
    "agent_app": Runner("agent_app", "conversation-1", "app-1", "message-1"),
    # workflow Agent node (agent strategies): the strategy's backwards invocation sends app_id only
    "agent_node": Runner("agent_node", None, "app-1", None),
    # New Agent (dify-agent service, Dify 1.16+): its tool client sends user_id and nothing else
    "new_agent": Runner("new_agent"),
    # plain tool node in a workflow; in a chatflow it also carries the conversation
    "workflow": Runner("workflow", None, "app-1", None),
    "chatflow": Runner("chatflow", "conversation-1", "app-1", None),
}


@dataclass
class File:
    filename: str
    mime_type: str
    data: bytes


@dataclass
class Result:
    """Everything one session produced before its `end`."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    longest_line: int = 0  # the longest stdout line of this session, in bytes
    stream: list[Any] = field(default_factory=list)  # raw `stream` payloads (validate, options)
    invocations: list[dict[str, Any]] = field(default_factory=list)  # backwards invocations asked for

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    @property
    def texts(self) -> list[str]:
        return [m["message"]["text"] for m in self.of_type("text")]

    @property
    def text(self) -> str:
        return "".join(self.texts)

    @property
    def json(self) -> list[Any]:
        return [m["message"]["json_object"] for m in self.of_type("json")]

    @property
    def variables(self) -> dict[str, Any]:
        """The variables' final values (stream variables concatenated, as Dify does)."""
        values: dict[str, Any] = {}
        for m in self.of_type("variable"):
            name, value = m["message"]["variable_name"], m["message"]["variable_value"]
            values[name] = values.get(name, "") + value if m["message"].get("stream") else value
        return values

    @property
    def streamed(self) -> list[tuple[str, str]]:
        """(variable, chunk) of every stream variable message, in order."""
        return [
            (m["message"]["variable_name"], m["message"]["variable_value"])
            for m in self.of_type("variable")
            if m["message"].get("stream")
        ]

    @property
    def files(self) -> list[File]:
        """Blobs reassembled from their 8 KiB chunks, checked against total_length."""
        chunks: dict[str, list[tuple[int, bytes]]] = {}
        files: list[File] = []
        for message in self.of_type("blob_chunk"):
            chunk = message["message"]
            chunks.setdefault(chunk["id"], []).append((chunk["sequence"], binascii.a2b_base64(chunk["blob"])))
            if chunk["end"]:
                data = b"".join(piece for _, piece in sorted(chunks.pop(chunk["id"])))
                assert len(data) == chunk["total_length"], "blob chunks do not add up to total_length"
                meta = message.get("meta") or {}
                files.append(File(meta.get("filename", ""), meta.get("mime_type", ""), data))
        return files

    def model_reads(self, runner: str) -> str:
        """What an agent's model reads of this call, from the plugin's own messages: every
        text, every JSON as json.dumps writes it, every variable's name and value, and in the
        New Agent also each blob as str() writes it into the context (docs/dify-protocol.md).
        The other runners show a blob to the person and give the model a fixed sentence."""
        parts = [*self.texts, *(json.dumps(value, ensure_ascii=False) for value in self.json)]
        parts += [
            f"{m['message']['variable_name']}: {m['message']['variable_value']}" for m in self.of_type("variable")
        ]
        if runner == "new_agent":
            parts += [f"blob={file.data!r}" for file in self.files]
        return "\n".join(parts)

    @property
    def error_message(self) -> str:
        return (self.error or {}).get("message", "")

    @property
    def error_type(self) -> str:
        return (self.error or {}).get("error_type", "")


class _Session:
    """Collects one session's messages until its `end` (filled by the reader thread)."""

    def __init__(self, envelope: dict[str, Any], files: DifyFiles | None) -> None:
        self.result = Result()
        self.ended = threading.Event()
        self.envelope = envelope
        self.files = files

    def backwards(self, invocation: dict[str, Any]) -> list[dict[str, Any]]:
        """The daemon's answer to one backwards invocation: its response events, `end` last.

        Only ``upload_file`` is served (the daemon forwards it to Dify's inner API, which
        answers with a signed upload URL); without a file service the daemon reports the
        failed call to Dify as an error event."""
        self.result.invocations.append(invocation)
        request_id = invocation.get("backwards_request_id", "")
        kind, request = invocation.get("type"), invocation.get("request") or {}

        def event(name: str, message: str = "", data: Any = None) -> dict[str, Any]:
            return {"backwards_request_id": request_id, "event": name, "message": message, "data": data}

        if kind != "upload_file":
            answer = event("error", f"permission denied or unsupported invoke type: {kind}")
        elif self.files is None:
            answer = event("error", "upload file failed: request failed: Dify API answered 500")
        else:
            user = self.envelope["data"].get("user_id", "")
            answer = event("response", "struct", self.files.answer_upload_file(request, "tenant-1", user))
        return [answer, event("end")]

    def add(self, item: dict[str, Any]) -> None:
        if item["type"] == "end":
            self.ended.set()
        elif item["type"] == "error":
            self.result.error = item["data"]
        elif item["type"] == "stream":
            self.result.stream.append(item["data"])
            if isinstance(item["data"], dict) and "type" in item["data"]:
                self.result.messages.append(item["data"])


class PluginProcess:
    """One running plugin; safe to use from several threads at once."""

    def __init__(
        self, plugin_dir: Path = ROOT, python: str = sys.executable, env: dict[str, str] | None = None
    ) -> None:
        self.plugin_dir = Path(plugin_dir)
        self.python = python
        self.env = {**os.environ, **(env or {}), "INSTALL_METHOD": "local"}
        self.env.pop("PYTHONPATH", None)
        self.logs: list[dict[str, Any]] = []
        self.stdout_lines: list[str] = []
        self.longest_line = 0
        self.heartbeats = 0
        self.startup_seconds: float | None = None
        self._sessions: dict[str, _Session] = {}
        self._ready = threading.Event()
        self._write_lock = threading.Lock()
        self._stderr: list[str] = []
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> PluginProcess:
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [self.python, "-m", "main"],
            cwd=self.plugin_dir,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError(f"plugin sent no heartbeat within {timeout} s; stderr:\n{self.stderr}")
        self.startup_seconds = time.monotonic() - started
        return self

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    @property
    def stderr(self) -> str:
        return "".join(self._stderr)

    @property
    def output(self) -> str:
        """Everything the plugin wrote on stdout and stderr (for secret checks)."""
        return "\n".join(self.stdout_lines) + "\n" + self.stderr

    def _read_stderr(self) -> None:
        assert self.proc and self.proc.stderr
        for raw in self.proc.stderr:
            self._stderr.append(raw.decode("utf-8", "replace"))

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for raw in self.proc.stdout:
            self.longest_line = max(self.longest_line, len(raw))
            if raw.isspace():
                continue
            try:
                message = json.loads(raw)
            except ValueError:
                self.stdout_lines.append(raw.decode("utf-8", "replace").strip())
                continue
            event = message.get("event") if isinstance(message, dict) else None
            data = message.get("data") if event == "session" else None
            stream = data.get("data") if isinstance(data, dict) else None
            if not (isinstance(stream, dict) and stream.get("type") == "blob_chunk"):
                self.stdout_lines.append(raw.decode("utf-8", "replace").strip())  # image chunks are not kept
            if event == "heartbeat":
                self.heartbeats += 1
                self._ready.set()
            elif event == "session":
                session = self._sessions.get(message.get("session_id", ""))
                if session is not None:
                    session.result.longest_line = max(session.result.longest_line, len(raw))
                    if data.get("type") == "invoke":
                        self._answer(message["session_id"], session, data.get("data") or {})
                    else:
                        session.add(data)
            elif event == "log":
                self.logs.append(message["data"])

    def _write(self, message: dict[str, Any]) -> None:
        assert self.proc and self.proc.stdin
        with self._write_lock:
            self.proc.stdin.write((json.dumps(message) + "\n").encode())
            self.proc.stdin.flush()

    def _answer(self, session_id: str, session: _Session, invocation: dict[str, Any]) -> None:
        """Answer a backwards invocation on stdin, as `backwards_response` events of the session."""
        ids = {key: session.envelope[key] for key in ("conversation_id", "message_id", "app_id", "endpoint_id")}
        for event in session.backwards(invocation):
            self._write({"session_id": session_id, **ids, "context": {}, "event": "backwards_response", "data": event})

    def request(
        self,
        data: dict[str, Any],
        timeout: float = 120.0,
        message_id: str | None = None,
        runner: Runner | None = None,
        files: DifyFiles | None = None,
    ) -> Result:
        """Send one request and collect its session until `end`.

        ``runner`` gives the session ids (a workflow tool node's by default); ``message_id``
        alone makes it an Agent app's; ``files`` answers the plugin's uploads."""
        assert self.proc and self.proc.stdin, "start() the plugin first"
        if runner is None:
            runner = RUNNERS["agent_app"] if message_id else RUNNERS["workflow"]
        ids = runner.ids() | ({"message_id": message_id} if message_id else {})
        session_id = uuid.uuid4().hex
        envelope = {
            "session_id": session_id,
            "event": "request",
            **ids,
            "endpoint_id": None,
            "context": {},
            "data": {"user_id": "test-user", **data},
        }
        session = _Session(envelope, files)
        self._sessions[session_id] = session
        self._write(envelope)
        try:
            if not session.ended.wait(timeout):
                raise TimeoutError(f"session {data.get('action')} did not end within {timeout} s")
        finally:
            self._sessions.pop(session_id, None)
        return session.result

    def invoke(
        self,
        tool: str,
        parameters: dict[str, Any],
        credentials: dict[str, Any],
        timeout: float = 120.0,
        message_id: str | None = None,
        runner: Runner | None = None,
        files: DifyFiles | None = None,
    ) -> Result:
        return self.request(
            {
                "type": "tool",
                "action": "invoke_tool",
                "provider": "sdwebui",
                "tool": tool,
                "credentials": credentials,
                "credential_type": "api-key",
                "tool_parameters": parameters,
            },
            timeout,
            message_id,
            runner,
            files,
        )

    def validate(self, credentials: dict[str, Any], timeout: float = 60.0) -> Result:
        return self.request(
            {"type": "tool", "action": "validate_tool_credentials", "provider": "sdwebui", "credentials": credentials},
            timeout,
        )

    def fetch_options(self, tool: str, parameter: str, credentials: dict[str, Any], timeout: float = 60.0) -> Result:
        return self.request(
            {
                "type": "dynamic_parameter",
                "action": "fetch_parameter_options",
                "provider": "sdwebui",
                "provider_action": tool,
                "parameter": parameter,
                "credentials": credentials,
                "credential_type": "api-key",
            },
            timeout,
        )
