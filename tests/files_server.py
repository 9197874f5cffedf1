"""A loopback HTTP server standing in for Dify's file server (signed file URLs)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FileServer:
    """Serves registered bytes at /files/<name>; records request headers."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str, bool]] = {}
        self.redirects: dict[str, tuple[int, str]] = {}
        self.cookie = ""  # sent as Set-Cookie with every file when set
        self.requests: list[dict[str, str]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append({"path": self.path, **dict(self.headers)})
                name = self.path.split("?")[0].removeprefix("/files/")
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

    def add(self, name: str, data: bytes, mime: str = "image/png", *, content_length: bool = True) -> str:
        """Serve ``data`` and return its signed-looking URL."""
        self.files[name] = (data, mime, content_length)
        return f"{self.url}/files/{name}?timestamp=1732430000&nonce=ab12&sign=c2lnbmVk"

    def redirect(self, name: str, target: str, status: int = 302) -> str:
        """Answer /files/<name> with a redirect to ``target``; returns the file's URL."""
        self.redirects[name] = (status, target)
        return f"{self.url}/files/{name}?timestamp=1732430000&nonce=ab12&sign=c2lnbmVk"

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
