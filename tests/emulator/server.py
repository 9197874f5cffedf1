"""An HTTP server on 127.0.0.1 that answers like an A1111-compatible WebUI.

    with Emulator("a1111", auth={"tester": "secret"}) as server:
        requests.get(server.url + "/sdapi/v1/sd-models", auth=("tester", "secret"))

It validates and rejects like the real servers (422/401/404/405/500 bodies in each
flavour's shape), falls back silently where they do, serializes generations through
a FIFO lock, reports /progress, returns real images, and records every request so
tests can assert what the plugin sent. ``faults`` makes a route misbehave.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from PIL import Image

from tests.emulator import extensions, pictures
from tests.emulator.engine import Engine, HTTPError, ServerError
from tests.emulator.flavours import EXTENSIONS_SET, STATE_ROUTES, Flavour, capture, make_flavour
from tests.emulator.scheduler import PREFIX as SCHEDULER_PREFIX
from tests.emulator.scheduler import AgentScheduler
from tests.emulator.validation import validate_body

# Routes added by extensions with app.get/app.post: never behind --api-auth.
EXTENSION_ROUTES = {"/sdapi/v1/loras", "/sdapi/v1/refresh-loras"}
# SD.Next's extras routes fail on their own answer model (ex_extra_*.json)
SDNEXT_EXTRAS_ERROR = (
    "1 validation error for {model}\nhtml_info\n  Input should be a valid string [type=string_type, "
    "input_value=None, input_type=NoneType]\n    For further information visit "
    "https://errors.pydantic.dev/2.13/v/string_type"
)
SDNEXT_GENERATION_COST = {"/sdapi/v1/txt2img": 5}  # rl_429_txt2img_cost5.json
OPEN_ROUTES = {"/openapi.json", "/docs", "/redoc", "/internal/ping"}
FAULTS = (
    "hang",  # accept the connection, never answer
    "close",  # close the connection without an answer
    "close_mid_body",  # send headers and half the body, then close
    "html_200",  # an HTML page with status 200
    "no_images",  # JSON 200 without "images"
    "bad_base64",  # images: ["%%%"]
    "truncated_base64",  # images with a cut-off base64 string
    "not_an_image",  # images: [base64 of a text]
    "empty_images",  # images: [] (interrupted job)
    "oom",  # 500 OutOfMemoryError like A1111 on a CUDA OOM
    "huge_image",  # one image of about 31 MiB
    "huge_and_small",  # a normal image and one of about 31 MiB
    "echo_auth",  # a 500 whose message repeats the request's Authorization header
    "echo_auth_at_clip",  # the same, with the header where a message would be clipped
    "trickle_headers",  # send the answer's headers one byte a second
    "trickle_body",  # send the headers, then the body one byte a second
    "huge_declared",  # headers declaring a 2 GiB body, then nothing
    "huge_streamed",  # a chunked body of 300 MiB, without a declared length
    "redirect_307",  # 307 to `redirect_to` (another server)
    "redirect_301",  # 301 to `redirect_to`
)


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any  # parsed JSON, or the raw bytes when it is not JSON
    at: float = field(default_factory=time.monotonic)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _dispatch(self) -> None:
        self.server.emulator.handle(self)

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        super().__init__(("127.0.0.1", 0), _Handler)


class _Reply(Exception):
    def __init__(
        self, status: int, body: Any, content_type: str = "application/json", headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status)
        self.status, self.body, self.content_type, self.headers = status, body, content_type, headers or {}


class Emulator:
    def __init__(
        self,
        flavour: str = "a1111",
        *,
        auth: dict[str, str] | None = None,
        generation_delay: float = 0.0,
        nowebui: bool = False,
        name: str = "",
    ) -> None:
        self.flavour_name = flavour
        self.name = name or flavour  # tells emulators apart (several behind one load balancer)
        self.nowebui = nowebui  # --nowebui: the API alone, without the UI's /internal routes
        self.flavour: Flavour = make_flavour(flavour)
        self.engine = Engine(self.flavour, generation_delay=generation_delay)
        self.auth = auth
        self.requests: list[Recorded] = []
        self.faults: dict[str, str] = {}
        # path -> what to answer instead of the route: a JSON value (200), raw bytes (200, as
        # JSON), or (status, value) where a str value is sent as an HTML page
        self.answers: dict[str, Any] = {}
        self.redirect_to = ""
        self.echo_padding = 1170  # "echo_auth_at_clip": characters before the echoed header
        self.interrogate_fails = False  # the interrogator raises inside (caption "<error>")
        # runs when "agent-scheduler" is installed
        self.scheduler = AgentScheduler(self._scheduled, lambda: self.engine.tasks, self._task_params)
        self._lock = threading.Lock()
        self._spent: dict[tuple[str, str], list[tuple[float, int]]] = {}  # SD.Next's rate limit
        self._stopping = threading.Event()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"emulator-{self.name}", daemon=True)
        self._routes: dict[tuple[str, str], Callable[[Any, dict[str, list[str]]], Any]] = self._route_table()

    # --- lifecycle ------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the port (connections are refused from then on); idempotent."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget recorded requests and faults; back to a freshly started server."""
        with self._lock:
            self.requests.clear()
        self.faults.clear()
        self.answers.clear()
        self.redirect_to = ""
        self.echo_padding = 1170
        self.interrogate_fails = False
        self.scheduler.clear()
        self.engine = Engine(self.flavour)
        with self._lock:
            self._spent.clear()

    @property
    def extensions(self) -> set[str]:
        """The extensions installed (a set the tests change in place)."""
        return self.engine.extensions

    # --- what tests look at ------------------------------------------------------------

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        with self._lock:
            return [
                r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)
            ]

    def last(self, path: str) -> Recorded:
        found = self.calls(path=path)
        assert found, f"no request to {path}; got {[r.path for r in self.requests]}"
        return found[-1]

    # --- HTTP -------------------------------------------------------------------------

    def handle(self, handler: _Handler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        try:
            parsed: Any = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw
        with self._lock:
            self.requests.append(
                Recorded(handler.command, parts.path, parse_qs(parts.query), dict(handler.headers), parsed)
            )
        fault = self.faults.get(parts.path)
        if fault in ("hang", "close", "close_mid_body", "trickle_headers", "trickle_body", "huge_declared"):
            self._misbehave(handler, fault)
            return
        if fault == "huge_streamed":
            self._stream_huge(handler)
            return
        if parts.path in self.answers:
            answer = self.answers[parts.path]
            status, body = answer if isinstance(answer, tuple) else (200, answer)
            kind = "text/html" if isinstance(body, str) else "application/json"
            self._send(handler, status, body.encode() if isinstance(body, str) else body, kind, {})
            return
        try:
            status, body, content_type, headers = self._respond(handler, parts.path, parts.query, raw, fault)
        except _Reply as reply:
            status, body, content_type, headers = reply.status, reply.body, reply.content_type, reply.headers
        if self.flavour.rate_limit and self._over_limit(handler.client_address[0], parts.path):
            status, body, content_type, headers = self._error(
                HTTPError(429, f"{handler.client_address[0]}:{parts.path}: rate limit exceeded")
            )
        self._send(handler, status, body, content_type, headers)

    def _over_limit(self, client: str, path: str) -> bool:
        """SD.Next counts a request after its endpoint ran (a refused txt2img has generated
        already) per client and route, over the last minute (rl_*.json)."""
        limit = int(self.engine.options.get("server_rate_limit") or 0)
        now = time.monotonic()
        with self._lock:
            spent = [(at, cost) for at, cost in self._spent.get((client, path), []) if now - at < 60]
            spent.append((now, SDNEXT_GENERATION_COST.get(path, 1)))
            self._spent[(client, path)] = spent
            return limit > 0 and sum(cost for _, cost in spent) > limit

    def _trickle(self, handler: _Handler, data: bytes) -> None:
        for byte in data:
            if self._stopping.wait(1.0):
                return
            try:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            except OSError:
                return

    def _stream_huge(self, handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        chunk = b"A" * (1024 * 1024)
        try:
            handler.wfile.write(b'%x\r\n{"images": ["\r\n' % len(b'{"images": ["'))
            for _ in range(300):
                handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:
            pass
        handler.close_connection = True

    def _misbehave(self, handler: _Handler, fault: str) -> None:
        if fault == "hang":
            self._stopping.wait(3600)
        elif fault == "trickle_headers":
            self._trickle(handler, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + b"X-Pad: " + b"a" * 3600)
        elif fault == "trickle_body":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", "3600")
            handler.end_headers()
            handler.wfile.flush()
            self._trickle(handler, b" " * 3600)
        elif fault == "huge_declared":
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(2 * 1024**3))
            handler.end_headers()
            handler.wfile.flush()
            self._stopping.wait(5)
        elif fault == "close_mid_body":
            body = json.dumps({"images": ["A" * 50_000], "info": "{}"}).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body[: len(body) // 2])
            handler.wfile.flush()
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(2)

    def _send(self, handler: _Handler, status: int, body: Any, content_type: str, headers: dict[str, str]) -> None:
        data = (
            body
            if isinstance(body, bytes)
            else json.dumps(body).encode()
            if content_type == "application/json"
            else str(body).encode()
        )
        extra = dict(headers)
        if self.flavour.gzip and "gzip" in handler.headers.get("Accept-Encoding", "") and len(data) >= 2048:
            data = gzip.compress(data, compresslevel=1)
            extra["Content-Encoding"] = "gzip"
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.send_header("Server", "uvicorn")
            for key, value in extra.items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _protected(self, path: str) -> bool:
        if not self.auth or path in OPEN_ROUTES or path in EXTENSION_ROUTES or path in self.flavour.unauthenticated:
            return False
        return path.startswith("/sdapi/v1/")

    def _check_auth(self, handler: _Handler) -> None:
        header = handler.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "basic" or not token:
            raise HTTPError(401, "Not authenticated")
        try:
            user, _, password = base64.b64decode(token, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            raise HTTPError(401, "Invalid authentication credentials") from None
        if self.auth.get(user) != password:
            raise HTTPError(
                401, "Unauthorized" if self.flavour.errors == "sdnext" else "Incorrect username or password"
            )

    def _respond(
        self, handler: _Handler, path: str, query_string: str, raw: bytes, fault: str | None
    ) -> tuple[int, Any, str, dict[str, str]]:
        if path.startswith(SCHEDULER_PREFIX + "/") and "agent-scheduler" in self.extensions:
            try:
                return 200, self._scheduler_route(handler, path[len(SCHEDULER_PREFIX) :], raw), "application/json", {}
            except (HTTPError, ServerError) as error:
                return self._error(error)
        query = f"?{query_string}" if query_string else ""
        recorded = self.engine.recorded.get(path + query) if handler.command == "GET" else None
        if recorded is not None and (recorded[0] != 200 or path not in STATE_ROUTES):
            try:
                if self._protected(path) and recorded[0] not in (404, 405):  # routing comes before auth
                    self._check_auth(handler)
            except HTTPError as error:
                return self._error(error)
            return recorded[0], recorded[1], "application/json", {}
        route = self._routes.get((handler.command, path))
        if route is None:
            if any(p == path for _, p in self._routes):
                return 405, {"detail": "Method Not Allowed"}, "application/json", {}
            return 404, {"detail": "Not Found"}, "application/json", {}
        try:
            if self._protected(path):
                self._check_auth(handler)
            if fault:
                return self._faulty(fault, path, handler.headers.get("Authorization", ""))
            body: Any = None
            if handler.command == "POST":
                body = self._json_body(raw)
            return 200, route(body, parse_qs(query_string)), "application/json", {}
        except (HTTPError, ServerError) as error:
            return self._error(error)

    def _scheduler_route(self, handler: _Handler, route: str, raw: bytes) -> Any:
        """agent_scheduler/api.py: its own --api-auth check, then queue and task routes."""
        if self.auth and route not in ("/samplers", "/sd-models"):
            self._check_auth(handler)
        parts = route.strip("/").split("/")
        method, scheduler = handler.command, self.scheduler
        if method == "POST" and parts[0] == "queue" and len(parts) == 2 and parts[1] in ("txt2img", "img2img"):
            body = self._json_body(raw)
            self._validated(body, img2img=parts[1] == "img2img")  # the task args model: a 422 as usual
            return scheduler.queue(parts[1], body)
        actions = {"pause": scheduler.pause, "resume": scheduler.resume, "clear": scheduler.clear_queue}
        if method == "POST" and parts[-1] in actions and parts[:-1] in ([], ["queue"]) and route != "/clear":
            return actions[parts[-1]]()
        if method == "GET" and parts == ["queue"]:
            return scheduler.status()
        if method == "GET" and parts == ["history"]:
            query = parse_qs(urlsplit(handler.path).query)
            return scheduler.history(query.get("status", [None])[0])
        if method == "GET" and parts[0] == "task" and len(parts) == 2:
            return scheduler.task(parts[1])
        if method == "GET" and parts[0] == "task" and len(parts) == 3 and parts[2] in ("position", "results"):
            return scheduler.position(parts[1]) if parts[2] == "position" else scheduler.results(parts[1])
        if method == "GET" and parts[0] == "results" and len(parts) == 2:
            return scheduler.results(parts[1])
        if method == "POST" and (parts[0] == "task" and parts[2:] == ["run"] or parts[0] == "run") and len(parts) >= 2:
            return scheduler.run(parts[1])
        raise _Reply(404, {"detail": "Not Found"})

    def _scheduled(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        """What the queue's runner runs: the API generation, which saves its pictures (and a grid)."""
        body = {**body, "save_images": True}
        return self._img2img(body) if kind == "img2img" else self._txt2img(body)

    def _task_params(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.engine._echo(self._validated(body, img2img=kind == "img2img"), kind == "img2img")

    def _json_body(self, raw: bytes) -> Any:
        if not raw:
            return None
        try:
            return json.loads(raw)
        except json.JSONDecodeError as error:
            if self.flavour.pydantic2:
                detail = [
                    {
                        "type": "json_invalid",
                        "loc": ["body", error.pos],
                        "msg": "JSON decode error",
                        "input": {},
                        "ctx": {"error": error.msg},
                    }
                ]
            else:
                ctx = {
                    "msg": error.msg,
                    "doc": error.doc,
                    "pos": error.pos,
                    "lineno": error.lineno,
                    "colno": error.colno,
                }
                detail = [{"loc": ["body", error.pos], "msg": str(error), "type": "value_error.jsondecode", "ctx": ctx}]
            raise _Reply(422, {"detail": detail}) from None

    def _error(self, error: HTTPError | ServerError) -> tuple[int, Any, str, dict[str, str]]:
        style = self.flavour.errors
        if isinstance(error, HTTPError):
            headers = {"WWW-Authenticate": "Basic"} if error.status == 401 and style != "a1111" else {}
            if style == "forge":
                return error.status, {"detail": error.detail}, "application/json", headers
            body: dict[str, Any] = {"error": "HTTPException", "detail": error.detail, "body": "", "errors": ""}
            if style == "sdnext":
                body = {
                    "error": "HTTPException",
                    "code": error.status,
                    "detail": error.detail,
                    "body": "",
                    "errors": f"{error.status}: {error.detail}",
                }
            return error.status, body, "application/json", headers
        if style == "forge":  # err_500_*.json: "message" where A1111 says "errors"
            return (
                500,
                {"error": error.error_class, "detail": "", "body": "", "message": error.message},
                "application/json",
                {},
            )
        if style == "sdnext":
            return (
                500,
                {"error": error.error_class, "code": 500, "detail": "", "body": "", "errors": error.message},
                "application/json",
                {},
            )
        return (
            500,
            {"error": error.error_class, "detail": "", "body": "", "errors": error.message},
            "application/json",
            {},
        )

    def _faulty(self, fault: str, path: str, authorization: str) -> tuple[int, Any, str, dict[str, str]]:
        one = pictures.encode(pictures.render(64, 64, 1), "png", "fault")
        bodies: dict[str, Any] = {
            "no_images": {"parameters": {}, "info": "{}"},
            "bad_base64": {"images": ["%%%not base64%%%"], "info": "{}"},
            "truncated_base64": {"images": [one[: len(one) // 2]], "info": "{}"},
            "not_an_image": {"images": [base64.b64encode(b"this is plain text, not an image").decode()], "info": "{}"},
            "empty_images": {"images": [], "parameters": {}, "info": json.dumps({"all_seeds": [], "infotexts": []})},
        }
        if fault == "html_200":
            return (
                200,
                b"<!DOCTYPE html><html><head><title>Login</title></head><body>Sign in</body></html>",
                "text/html; charset=utf-8",
                {},
            )
        if fault == "oom":
            return self._error(
                ServerError(
                    "OutOfMemoryError",
                    "CUDA out of memory. Tried to allocate 9.00 GiB (GPU 0; 11.99 GiB total capacity; 6.20 GiB already allocated)",
                )
            )
        if fault in ("huge_image", "huge_and_small"):
            big = pictures.encode(pictures.render(3300, 3300, 1, noise=True), "png", None)
            images, seeds = ([big], [1]) if fault == "huge_image" else ([one, big], [1, 2])
            info = {"all_seeds": seeds, "infotexts": ["x"] * len(seeds)}
            return 200, {"images": images, "parameters": {}, "info": json.dumps(info)}, "application/json", {}
        if fault == "echo_auth":
            return self._error(ServerError("RuntimeError", f"rejected request with header {authorization!r}"))
        if fault == "echo_auth_at_clip":
            return self._error(ServerError("RuntimeError", "x" * self.echo_padding + f" header {authorization!r}"))
        if fault in ("redirect_307", "redirect_301"):
            status = int(fault.rsplit("_", 1)[1])
            return status, {"detail": "moved"}, "application/json", {"Location": self.redirect_to + path}
        if fault in bodies:
            return 200, bodies[fault], "application/json", {}
        raise ValueError(f"unknown fault {fault!r} for {path}; known: {FAULTS}")

    # --- routes -----------------------------------------------------------------------

    def _route_table(self) -> dict[tuple[str, str], Callable[[Any, dict[str, list[str]]], Any]]:
        f = self.flavour
        lists: dict[str, Callable[[], Any]] = {
            "/sdapi/v1/sd-models": lambda: self.engine.checkpoints,
            "/sdapi/v1/samplers": lambda: f.samplers,
            "/sdapi/v1/upscalers": lambda: f.capture("get_upscalers"),
            "/sdapi/v1/loras": lambda: self._extension("lora", self.engine.loras),
            "/controlnet/model_list": lambda: self._controlnet({"model_list": self.engine.controlnet_models}),
            "/controlnet/module_list": lambda: self._controlnet(
                {"module_list": self.engine.controlnet_modules, "module_detail": {}}
            ),
            "/adetailer/v1/version": lambda: self._extension("adetailer", {"version": extensions.ADETAILER_VERSION}),
            "/adetailer/v1/ad_model": lambda: self._extension("adetailer", {"ad_model": self.engine.adetailer_models}),
            "/sdapi/v1/prompt-styles": lambda: self.engine.styles,
            "/sdapi/v1/embeddings": lambda: self.engine.embeddings,
            "/sdapi/v1/options": self._options,
            "/sdapi/v1/cmd-flags": lambda: f.capture("get_cmd_flags"),
            "/sdapi/v1/progress": self._progress,
            "/sdapi/v1/memory": lambda: f.capture("get_memory"),
            "/sdapi/v1/scripts": self.engine_scripts,
            "/sdapi/v1/script-info": lambda: self.engine.script_info(),
            "/sdapi/v1/extensions": lambda: f.capture("get_extensions"),
            "/sdapi/v1/face-restorers": lambda: f.capture("get_face_restorers"),
            "/sdapi/v1/realesrgan-models": lambda: f.capture("get_realesrgan_models"),
            "/sdapi/v1/hypernetworks": lambda: f.capture("get_hypernetworks"),
            f.vae_route: lambda: self.engine.vaes,
        }
        if f.family != "sdnext":
            lists["/sdapi/v1/latent-upscale-modes"] = lambda: f.capture("get_latent_upscale_modes")
        if f.schedulers is not None:
            lists["/sdapi/v1/schedulers"] = lambda: f.schedulers
        if f.openapi is not None:
            lists["/openapi.json"] = self._openapi
        if f.family != "forge":  # Forge's built-in ControlNet has no version route (cn_version.json)
            lists["/controlnet/version"] = lambda: self._extension("controlnet", {"version": 3})
        routes: dict[tuple[str, str], Callable[[Any, dict[str, list[str]]], Any]] = {
            ("GET", path): (lambda body, query, get=get: get()) for path, get in lists.items()
        }
        if not self.nowebui:
            routes[("GET", "/internal/ping")] = lambda body, query: {}
            routes[("POST", "/internal/progress")] = lambda body, query: self.engine.progress.internal(
                (body or {}).get("id_task"), self.engine.tasks
            )
        for page in ("/docs", "/redoc"):
            routes[("GET", page)] = lambda body, query, page=page: self._page(page)
        routes[("POST", "/sdapi/v1/txt2img")] = lambda body, query: self._txt2img(body)
        routes[("POST", "/sdapi/v1/img2img")] = lambda body, query: self._img2img(body)
        routes[("POST", "/sdapi/v1/options")] = lambda body, query: self._set_options(body)
        routes[("POST", "/sdapi/v1/png-info")] = lambda body, query: self._png_info(body)
        routes[("POST", "/sdapi/v1/extra-single-image")] = lambda body, query: self._extra_single(body)
        routes[("POST", "/sdapi/v1/extra-batch-images")] = lambda body, query: self._extra_batch(body)
        if f.interrogate:  # SD.Next has caption/vqa/tagger routes instead (ex_interrogate_*.json: 404)
            routes[("POST", "/sdapi/v1/interrogate")] = lambda body, query: self._interrogate(body)
        routes[("POST", "/controlnet/detect")] = lambda body, query: self._detect(body)
        routes[("POST", "/sdapi/v1/interrupt")] = lambda body, query: self._flag("interrupted", {})
        routes[("POST", "/sdapi/v1/skip")] = lambda body, query: self._flag("skipped", None)
        for name in ("refresh-checkpoints", "refresh-loras", "refresh-vae", "refresh-embeddings"):
            routes[("POST", f"/sdapi/v1/{name}")] = lambda body, query: None
        for name in ("unload-checkpoint", "reload-checkpoint"):
            routes[("POST", f"/sdapi/v1/{name}")] = lambda body, query: {}
        routes[("POST", "/sdapi/v1/server-stop")] = lambda body, query: "Stopping."
        return routes

    def _validated(self, body: Any, img2img: bool) -> dict[str, Any]:
        fields = self.flavour.img2img_fields if img2img else self.flavour.txt2img_fields
        request, errors = validate_body(body, fields, self.flavour.pydantic2, self.flavour.pydantic_url)
        if errors:
            raise _Reply(422, {"detail": errors})
        assert request is not None
        return request

    def _txt2img(self, body: Any) -> Any:
        request = self._validated(body, img2img=False)
        self.engine.check_scripts(request, img2img=False)
        return self.engine.generate(request, img2img=False)

    def _decode_image(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            host = urlsplit(value).hostname or ""
            if host in ("localhost", "127.0.0.1", "::1") or host.startswith(("10.", "192.168.", "172.")):
                raise HTTPError(500, "Request to local resource not allowed")  # err_img2img_url_init_image.json
            raise HTTPError(500, "Invalid image url")
        try:
            return pictures.decode(str(value))
        except ValueError:
            raise HTTPError(500, "Invalid encoded image") from None

    def _img2img(self, body: Any) -> Any:
        request = self._validated(body, img2img=True)
        if request.get("init_images") is None:
            raise HTTPError(404, "Init image not found")  # err_img2img_no_init_images.json
        self.engine.check_scripts(request, img2img=True)
        images = [self._decode_image(item) for item in request["init_images"]]
        mask = self._decode_image(request["mask"]) if request.get("mask") else None
        if not images:
            raise ServerError(
                "RuntimeError",
                "Expected 3D (unbatched) or 4D (batched) input to conv2d, but got input of size: [0]",
            )  # err_img2img_empty_init_images.json
        return self.engine.generate(request, img2img=True, init_images=images, mask=mask)

    def _openapi(self) -> Any:
        """The flavour's recorded document; A1111 with the three recorded extensions gives theirs."""
        if self.flavour.name == "a1111" and {"controlnet", "adetailer", "agent-scheduler"} <= self.extensions:
            return capture("openapi", EXTENSIONS_SET)
        return self.flavour.openapi

    def _progress(self) -> Any:
        report = self.engine.progress.report()
        if self.flavour.family == "sdnext":  # get_progress_idle.json: an "id" first, no stopping_generation
            report["state"].pop("stopping_generation", None)
            return {"id": self.engine.progress.task_id or "", **report}
        return report

    def _options(self) -> Any:
        if self.flavour.sparse_options:  # SD.Next lists only the keys that were set (get_options_keys.json)
            return {key: value for key, value in self.engine.options.items() if key in self.engine.config_keys}
        return self.engine.options

    def _set_options(self, body: Any) -> Any:
        if self.flavour.family == "sdnext":  # rl_options_*.json; unknown keys: a guess (taken as well)
            self.engine.options.update(body or {})
            self.engine.config_keys.update(body or {})
            return {"updated": [{key: True} for key in body or {}]}
        for key, value in (body or {}).items():
            if key not in self.engine.options:
                raise ServerError("KeyError", f"'{key}'")
            if key == "sd_model_checkpoint" and self.engine.checkpoint_by_alias(str(value)) is None:
                raise ServerError("RuntimeError", f"model {value!r} not found")
            self.engine.options[key] = value
            self.engine.config_keys.add(key)
        return None

    def _png_info(self, body: Any) -> Any:
        encoded = (body or {}).get("image") or ""
        if not encoded:
            raise HTTPError(500, "Invalid encoded image")  # png_info_empty.json
        image = self._decode_image(encoded)
        return {"info": image.info.get("parameters", ""), "items": {}, "parameters": {}}

    def _upscaled(self, image: Any, body: dict[str, Any]) -> tuple[Any, str]:
        """scripts/postprocessing_upscale.py: scale by, or scale to (and crop), with upscaler 1."""
        names = [u["name"] for u in self.flavour.capture("get_upscalers")]
        for key in ("upscaler_1", "upscaler_2"):
            name = body.get(key, "None")
            if name not in names:
                raise ServerError("AssertionError", f"could not find upscaler named {name}")
        upscaler = body.get("upscaler_1", "None")
        if body.get("resize_mode", 0) == 1:
            width, height = int(body.get("upscaling_resize_w", 512)), int(body.get("upscaling_resize_h", 512))
            scale = max(width / image.width, height / image.height)
            info = f"Postprocess upscale to: {width}x{height}"
        else:
            scale = float(body.get("upscaling_resize", 2))
            info = f"Postprocess upscale by: {scale}"
        if upscaler != "None":
            image = image.resize((int(image.width * scale), int(image.height * scale)))
            info += f", Postprocess upscaler: {upscaler}"
        if body.get("resize_mode", 0) == 1 and body.get("upscaling_crop", True):
            cropped = Image.new("RGB", (width, height))
            cropped.paste(image, (width // 2 - image.width // 2, height // 2 - image.height // 2))
            image = cropped
            info += f", Postprocess crop to: {width}x{height}"
        return image, info

    def _extra_single(self, body: Any) -> Any:
        if self.flavour.extras_error:
            raise ServerError("ValidationError", SDNEXT_EXTRAS_ERROR.format(model="ResProcessImage"))
        body = body or {}
        with self.engine.lock:
            image, info = self._upscaled(self._decode_image(body.get("image") or ""), body)
            return {"html_info": f"<p>{info}</p>", "image": pictures.encode(image, "png", None)}

    def _extra_batch(self, body: Any) -> Any:
        if self.flavour.extras_error:
            raise ServerError("ValidationError", SDNEXT_EXTRAS_ERROR.format(model="ResProcessBatch"))
        body = body or {}
        items = body.get("imageList") or []
        with self.engine.lock:
            results = [self._upscaled(self._decode_image(item.get("data") or ""), body) for item in items]
            return {
                "html_info": f"<p>{results[0][1] if results else ''}</p>",
                "images": [pictures.encode(image, "png", None) for image, _ in results],
            }

    def _interrogate(self, body: Any) -> Any:
        """api.interrogateapi; the interrogator turns an exception into the caption "<error>"."""
        body = body or {}
        image = self._decode_image(body.get("image") or "")
        model = body.get("model", "clip")
        if model not in ("clip", "deepdanbooru"):
            raise HTTPError(404, "Model not found")
        if self.interrogate_fails:
            return {"caption": "<error>"}
        with self.engine.lock:
            if model == "deepdanbooru":
                return {"caption": f"1girl, solo, {image.width}x{image.height}, simple background"}
            return {"caption": f"a picture of a square, {image.width} by {image.height} pixels"}

    def engine_scripts(self) -> Any:
        titles = {"controlnet": "controlnet", "adetailer": "adetailer"}
        added = [
            title
            for name, title in titles.items()
            if name in self.extensions or (name == "controlnet" and self.flavour.family == "forge")
        ]
        return {mode: [*titles_, *added] for mode, titles_ in self.flavour.capture("get_scripts").items()}

    def _detect(self, body: Any) -> Any:
        """/controlnet/detect (cn_detect_canny.json): one detected map per input image."""
        if "controlnet" not in self.extensions and self.flavour.family != "forge":
            raise _Reply(404, {"detail": "Not Found"})
        body = body or {}
        with self.engine.lock:
            images = [self._decode_image(item) for item in body.get("controlnet_input_images") or []]
            maps = [pictures.encode(image.convert("RGB"), "png", None) for image in images]
        return {"images": maps, "info": "Success"}

    def _controlnet(self, answer: dict[str, Any]) -> Any:
        """sd-webui-controlnet's lists, or Forge's built-in ones (with "None" first, no hashes)."""
        if self.flavour.family == "forge":  # no module_detail (cn_module_list.json)
            return {key: value for key, value in answer.items() if key != "module_detail"}
        return self._extension("controlnet", answer)

    def _extension(self, name: str, answer: Any) -> Any:
        if name not in self.extensions:
            raise _Reply(404, {"detail": "Not Found"})
        return answer

    def _page(self, page: str) -> Any:
        html = capture("auth_docs_no_auth" if page == "/docs" else "auth_redoc_no_auth")
        raise _Reply(200, html.encode(), "text/html; charset=utf-8")

    def _flag(self, name: str, answer: Any) -> Any:
        if self.engine.progress.job_count:
            setattr(self.engine.progress, name, True)
        return answer
