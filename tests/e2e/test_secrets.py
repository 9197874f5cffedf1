"""Credentials never leak, and the plugin never changes the server's state."""

from __future__ import annotations

import base64
import io
import re

from PIL import Image

from tests.daemon import ROOT
from tests.emulator import Emulator

PASSWORD = "pw-Zq81!correct-horse"
WRONG_PASSWORD = "pw-WRONG-92-staple"
API_KEY = "gw-tok-77f1-battery"
USER = "alice"
SECRETS = [
    PASSWORD,
    WRONG_PASSWORD,
    API_KEY,
    base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
    base64.b64encode(f"{USER}:{WRONG_PASSWORD}".encode()).decode(),
]
# Routes that change global server state, leak its flags, or stop other users' jobs.
# Routes that change the server for everybody. /sdapi/v1/options is read (GET) for the loaded
# checkpoint, never written: that is checked on every call the tests make.
FORBIDDEN = re.compile(
    r"/sdapi/v1/(interrupt|skip|refresh-[\w-]+|server-\w+|unload-checkpoint|reload-checkpoint|create/\w+|train/\w+|cmd-flags)"
)


def png() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (9, 9, 9)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def exercise(plugin, credentials: dict, server: Emulator) -> list:
    """Every tool and action, with successes and failures; returns the results."""
    results = [
        plugin.validate(credentials),
        plugin.invoke("txt2img", {"prompt": "secret test", "width": 64, "height": 64}, credentials),
        plugin.invoke("img2img", {"init_image_url": png(), "prompt": "x"}, credentials),
        plugin.invoke("list_resources", {}, credentials),
        plugin.fetch_options("txt2img", "pick_checkpoint", credentials),
        plugin.invoke("txt2img", {"prompt": "x", "width": 7}, credentials),
        plugin.invoke("txt2img", {"prompt": "x", "checkpoint": "nope"}, credentials),
        plugin.invoke("generate_image", {"prompt": "x", "aspect_ratio": "wide", "steps": 4}, credentials),
    ]
    server.faults["/sdapi/v1/txt2img"] = "echo_auth"
    results.append(plugin.invoke("txt2img", {"prompt": "x"}, credentials))
    server.faults["/sdapi/v1/txt2img"] = "hang"
    results.append(plugin.invoke("txt2img", {"prompt": "x", "timeout": 1}, credentials))
    server.faults.clear()
    return results


def assert_no_secret(plugin, results) -> None:
    texts = [plugin.output] + [repr(result) for result in results]
    for secret in SECRETS:
        for text in texts:
            assert secret not in text, (
                f"a credential leaked: ...{text[max(0, text.find(secret) - 80) : text.find(secret)]}"
            )


def test_basic_auth_credentials_never_appear_anywhere(plugin):
    with Emulator("a1111", auth={USER: PASSWORD}) as server:
        good = {"base_url": server.url, "username": USER, "password": PASSWORD}
        results = exercise(plugin, good, server)
        assert results[0].stream == [{"result": True}] and results[1].error is None
        echoed = results[-2]
        assert (
            echoed.error_type == "ServerFailed" and "rejected request with header 'Basic ***'" in echoed.error_message
        )
        results += exercise(plugin, {**good, "password": WRONG_PASSWORD}, server)
        in_url = f"http://{USER}:{WRONG_PASSWORD}@{server.url.removeprefix('http://')}"
        results.append(plugin.validate({"base_url": in_url}))
        assert "Incorrect username or password" in results[-1].error_message
    assert_no_secret(plugin, results)


def test_gateway_key_never_appears_anywhere(plugin):
    with Emulator("a1111") as server:
        results = exercise(plugin, {"base_url": server.url, "api_key": API_KEY}, server)
        assert results[1].error is None
        assert "rejected request with header 'Bearer ***'" in results[-2].error_message
    assert_no_secret(plugin, results)


def test_no_state_changing_or_flag_leaking_route_is_called(plugin):
    with Emulator("a1111", auth={USER: PASSWORD}) as server:
        exercise(plugin, {"base_url": server.url, "username": USER, "password": PASSWORD}, server)
        called = [f"{r.method} {r.path}" for r in server.requests]
    assert called and not [
        call for call in called if FORBIDDEN.search(call) or call.startswith("POST /sdapi/v1/options")
    ]
    assert {call.split()[0] for call in called} <= {"GET", "POST"}
    # /internal/progress only reads a task's state (polled when a generation lasts long enough)
    assert {call for call in called if call.startswith("POST")} <= {
        "POST /sdapi/v1/txt2img",
        "POST /sdapi/v1/img2img",
        "POST /internal/progress",
    }


def test_the_plugin_code_names_no_such_route():
    sources = [p for d in ("webui", "glue", "tools", "provider") for p in (ROOT / d).rglob("*.py")] + [ROOT / "main.py"]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        assert not FORBIDDEN.search(text), f"{path.relative_to(ROOT)} names a state-changing route"
        for line in text.splitlines():
            assert not ("/sdapi/v1/options" in line and "POST" in line), f"{path.relative_to(ROOT)}: {line}"


def test_the_plugin_log_says_which_server_route_and_how_long(plugin):
    with Emulator("a1111", auth={USER: PASSWORD}) as server:
        credentials = {"base_url": server.url, "username": USER, "password": PASSWORD}
        assert plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64}, credentials).error is None
        plugin.invoke("txt2img", {"prompt": "x", "checkpoint": "nope"}, credentials)
    lines = [entry["message"] for entry in plugin.logs]
    assert any(f"POST {server.url}/sdapi/v1/txt2img -> HTTP 200" in line and " s" in line for line in lines)
    assert any(line.startswith("UnknownName: Unknown checkpoint 'nope'") for line in lines)
    assert not [line for line in lines for secret in SECRETS if secret in line]
