"""A loopback HTTP server standing in for Dify's file server (signed file URLs).

Dify serves files to plugins at three signed routes (api/controllers/files/):
``/files/<uuid>/file-preview``, ``/files/<uuid>/image-preview`` and
``/files/tools/<uuid>.<extension>``, each with the query ``timestamp``, ``nonce`` (32 hex
digits) and ``sign`` (URL-safe base64 of an HMAC-SHA256). This server answers those
shapes for the files a test registers; the signature itself is not checked.
"""

from __future__ import annotations

import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# the shape of Dify's sign: URL-safe base64 of an HMAC-SHA256
SIGN = "4xsbVYViibR88HTRHv7BFpp7pEM81kSckOpV4KGBXMM="


def _file_id(path: str) -> str:
    """The file id of a path in one of Dify's three signed shapes, or ""."""
    for prefix, suffixes in (("/files/tools/", None), ("/files/", ("/file-preview", "/image-preview"))):
        if not path.startswith(prefix):
            continue
        rest = path[len(prefix) :]
        if suffixes is None:
            return rest.rsplit(".", 1)[0]
        for suffix in suffixes:
            if rest.endswith(suffix):
                return rest[: -len(suffix)]
    return ""


class FileServer:
    """Serves registered bytes at /files/<name>; records request headers."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, bool]] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.cookie = ""  # sent as Set-Cookie with every file when set
        self.requests: list[dict[str, str]] = []
        self.names: dict[str, str] = {}  # file id -> registered name
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append({"path": self.path, **dict(self.headers)})
                name = outer.names.get(_file_id(self.path.split("?")[0]), "")
                if name in outer.redirects:
                    status, target = outer.redirects[name]
                    self.send_response(status)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if name not in outer.files:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                data, mime, with_length = outer.files[name]
                self.send_response(200)
                self.send_header("Content-Type", mime)
                if outer.cookie:
                    self.send_header("Set-Cookie", outer.cookie)
                if with_length:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def signed_url(self, name: str, route: str = "tools") -> str:
        """The URL Dify would hand over for ``name``: a tool file, or an upload's file-preview."""
        file_id = str(uuid.uuid5(uuid.NAMESPACE_URL, name))
        self.names[file_id] = name
        extension = name.rsplit(".", 1)[-1] if "." in name else "bin"
        path = f"/files/tools/{file_id}.{extension}" if route == "tools" else f"/files/{file_id}/{route}"
        return f"{self.url}{path}?timestamp=1732430000&nonce={'ab12' * 8}&sign={SIGN}"

    def add(self, name: str, data: bytes, mime: str = "image/png", *, content_length: bool = True) -> str:
        """Serve ``data`` and return its signed URL."""
        self.files[name] = (data, mime, content_length)
        return self.signed_url(name)

    def redirect(self, name: str, target: str, status: int = 302) -> str:
        """Answer the file ``name`` with a redirect to ``target``; returns the file's URL."""
        self.redirects[name] = (status, target)
        return self.signed_url(name)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def dify_file(url: str, filename: str, mime: str = "image/png", size: int = 0) -> dict[str, Any]:
    """A file parameter as Dify sends it to a plugin (File.to_plugin_parameter)."""
    extension = "." + filename.rsplit(".", 1)[-1] if "." in filename else ""
    return {
        "dify_model_identity": "__dify__file__",
        "url": url,
        "mime_type": mime,
        "filename": filename,
        "extension": extension,
        "size": size,
        "type": "image" if mime.startswith("image/") else "document",
    }
