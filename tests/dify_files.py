"""A loopback stand-in for Dify's file routes that a plugin's upload goes through.

``session.file.upload(...)`` in the SDK asks the daemon (a backwards invocation of type
``upload_file``) for a signed upload URL, which Dify builds from INTERNAL_FILES_URL or
FILES_URL as ``{base}/files/upload/for-plugin?timestamp=…&nonce=…&sign=…&tenant_id=…&user_id=…``
(relative when both are empty). The SDK POSTs the file there as multipart field ``file``
and expects HTTP 201 with ``{id, name, size, extension, mime_type, preview_url}``; the
preview URL is ``{FILES_URL}/files/tools/<id><extension>?timestamp=…&nonce=…&sign=…`` and
is refused after FILES_ACCESS_TIMEOUT seconds (docs/dify-protocol.md).

This server signs and checks both URLs with its own key, keeps the uploads, and serves
them at their preview URLs, so a test can fetch what a browser would show.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import mimetypes
import os
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Upload:
    id: str
    filename: str
    mime_type: str
    data: bytes
    extension: str


class DifyFiles:
    """Dify's /files/upload/for-plugin and /files/tools/<id>.<ext> routes on 127.0.0.1.

    ``files_url`` and ``internal_files_url`` are the two settings of Dify's docker/.env;
    ``files_url=None`` means this server's own address. ``upload_status`` makes every upload
    answer with that status instead (413, 500, ...)."""

    def __init__(self, files_url: str | None = None, internal_files_url: str = "", access_timeout: int = 300) -> None:
        self._key = os.urandom(32)
        self.access_timeout = access_timeout
        self.upload_status: int | None = None
        self.uploads: list[Upload] = []
        self.refused: list[str] = []  # why each refused request was refused
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                status, answer = outer._upload(self.path, self.headers.get("Content-Type", ""), body)
                self._reply(status, json.dumps(answer).encode(), "application/json")

            def do_GET(self) -> None:
                status, mime, data = outer._preview(self.path)
                self._reply(status, data, mime)

            def _reply(self, status: int, data: bytes, mime: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", mime)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.files_url = self.url if files_url is None else files_url
        self.internal_files_url = internal_files_url

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- signing ----------------------------------------------------------------------

    def _sign(self, message: str) -> str:
        return base64.urlsafe_b64encode(hmac.new(self._key, message.encode(), hashlib.sha256).digest()).decode()

    def _signed(self, message: str) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), os.urandom(16).hex()
        return {"timestamp": timestamp, "nonce": nonce, "sign": self._sign(f"{message}|{timestamp}|{nonce}")}

    def _valid(self, message: str, query: dict[str, str]) -> str:
        """Why the signed query is refused, or "" when it is good."""
        try:
            timestamp, nonce, sign = query["timestamp"], query["nonce"], query["sign"]
        except KeyError as missing:
            return f"no {missing.args[0]}"
        if not hmac.compare_digest(sign, self._sign(f"{message}|{timestamp}|{nonce}")):
            return "bad signature"
        if time.time() - int(timestamp) > self.access_timeout:
            return "expired"
        return ""

    def upload_url(self, filename: str, mimetype: str, tenant_id: str, user_id: str) -> str:
        """What Dify's inner API answers the daemon's upload_file request with."""
        base = self.internal_files_url or self.files_url
        query = {**self._signed(f"upload|{filename}|{mimetype}|{tenant_id}|{user_id}"), "tenant_id": tenant_id}
        return f"{base}/files/upload/for-plugin?{urlencode({**query, 'user_id': user_id})}"

    # --- routes -----------------------------------------------------------------------

    def _refuse(self, status: int, why: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refused.append(why)
        return status, {"code": "invalid_request", "message": why, "status": status}

    def _upload(self, path: str, content_type: str, body: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(path)
        if parts.path != "/files/upload/for-plugin":
            return self._refuse(404, f"no route {parts.path}")
        if self.upload_status is not None:
            return self._refuse(self.upload_status, "the test asked for this status")
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body, headersonly=False
        )
        field = next(
            (part for part in message.iter_parts() if part.get_param("name", header="content-disposition") == "file"),
            None,
        )
        if field is None:
            return self._refuse(400, "no file")
        filename, mimetype = field.get_filename() or "", field.get_content_type()
        why = self._valid(
            f"upload|{filename}|{mimetype}|{query.get('tenant_id', '')}|{query.get('user_id', '')}", query
        )
        if why:
            return self._refuse(403, why)
        data = field.get_payload(decode=True) or b""
        extension = mimetypes.guess_extension(mimetype) or ".bin"
        upload = Upload(str(uuid.uuid4()), filename, mimetype, data, extension)
        with self._lock:
            self.uploads.append(upload)
        preview = f"{self.files_url}/files/tools/{upload.id}{extension}?" + urlencode(
            self._signed(f"file-preview|{upload.id}")
        )
        answer = {
            "id": upload.id,
            "name": filename,
            "size": len(data),
            "extension": extension,
            "mime_type": mimetype,
            "preview_url": preview,
        }
        return 201, answer

    def _preview(self, path: str) -> tuple[int, str, bytes]:
        parts = urlsplit(path)
        name = parts.path.removeprefix("/files/tools/")
        with self._lock:
            found = next((u for u in self.uploads if name == f"{u.id}{u.extension}"), None)
        if not parts.path.startswith("/files/tools/") or found is None:
            return 404, "text/plain", b"not found"
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if why := self._valid(f"file-preview|{found.id}", query):
            self._refuse(403, why)
            return 403, "text/plain", b"Forbidden"
        return 200, found.mime_type, found.data

    # --- what tests use ---------------------------------------------------------------

    def answer_upload_file(self, request: dict[str, Any], tenant_id: str, user_id: str) -> dict[str, Any]:
        """The data of the daemon's response to an ``upload_file`` backwards invocation."""
        return {"url": self.upload_url(request["filename"], request["mimetype"], tenant_id, user_id)}

    @staticmethod
    def get(url: str) -> tuple[int, str, bytes]:
        """GET ``url`` as a browser would: (status, content type, body)."""
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.headers.get_content_type(), response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers.get_content_type(), error.read()
