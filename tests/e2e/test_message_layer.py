"""What the plugin writes, whatever the server answered: within the daemon's line limit,
in time linear in the answer, and without a credential (daemon protocol)."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image

from tests.conftest import AUTH, creds
from tests.daemon import DAEMON_LINE_LIMIT, RUNNERS, Result
from tests.dify_files import DifyFiles
from tests.emulator import Emulator

USER, PASSWORD = next(iter(AUTH.items()))


@pytest.fixture
def webui() -> Iterator[Emulator]:
    """A server of this test's own, since these tests change what it answers (the plugin
    keeps what it learnt of a server for a while per address)."""
    with Emulator("a1111") as server:
        yield server


@pytest.fixture
def secured() -> Iterator[Emulator]:
    with Emulator("a1111", auth=AUTH) as server:
        yield server


SECRETS = (PASSWORD, base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode())


def png_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def pairs(count: int, width: int) -> str:
    """An infotext of ``count`` distinct "Key: value" pairs, each value ``width`` characters."""
    return "a prompt\nSteps: 20, " + ", ".join(f"Key{i}: {'v' * width}" for i in range(count))


def everything_written(result: Result) -> str:
    """Every text, JSON and variable the session carried, as one string."""
    parts = [*result.texts, *(json.dumps(value, ensure_ascii=False) for value in result.json)]
    parts += [str(m["message"]["variable_value"]) for m in result.of_type("variable")]
    return "\n".join(parts)


def test_png_info_of_9000_pairs_finishes_in_seconds(plugin, webui):
    text = pairs(9_000, 500)  # 4.6 MB
    assert len(text) > 4_500_000
    webui.answers["/sdapi/v1/png-info"] = {"info": text, "items": {}, "parameters": {}}
    started = time.monotonic()
    result = plugin.invoke("png_info", {"image_url": png_uri()}, creds(webui), timeout=300)
    elapsed = time.monotonic() - started
    assert result.error is None, result.error
    assert elapsed < 15, f"png_info took {elapsed:.1f} s"
    assert result.longest_line <= DAEMON_LINE_LIMIT
    assert result.json[0]["cut_to_fit"]  # says what it left out


def test_the_budget_grows_linearly_with_the_answer(plugin, webui):
    """Twice the pairs may take about twice as long, not four times."""
    seconds = []
    for count in (4_000, 8_000):
        webui.answers["/sdapi/v1/png-info"] = {"info": pairs(count, 500), "items": {}, "parameters": {}}
        started = time.monotonic()
        result = plugin.invoke("png_info", {"image_url": png_uri()}, creds(webui), timeout=300)
        seconds.append(time.monotonic() - started)
        assert result.error is None, result.error
    assert seconds[1] < 3 * seconds[0] + 1.0, seconds


@pytest.mark.parametrize(
    ("tool", "route", "answer"),
    [
        ("png_info", "/sdapi/v1/png-info", {"info": '"' * 4_500_000, "items": {}, "parameters": {}}),
        ("interrogate", "/sdapi/v1/interrogate", {"caption": '"' * 4_500_000}),
        ("interrogate", "/sdapi/v1/interrogate", {"caption": "\x01" * 1_000_000}),  # 6 bytes each, escaped
        ("interrogate", "/sdapi/v1/interrogate", {"caption": "字" * 2_000_000}),  # 3 bytes each in UTF-8
    ],
)
@pytest.mark.parametrize("runner", ["workflow", "agent_app", "new_agent"])
def test_no_line_over_the_daemons_limit_whatever_the_characters(plugin, webui, tool, route, answer, runner):
    webui.answers[route] = answer
    result = plugin.invoke(
        "png_info" if tool == "png_info" else tool,
        {"image_url": png_uri()},
        creds(webui),
        runner=RUNNERS[runner],
        timeout=300,
    )
    assert result.error is None, result.error
    assert 0 < result.longest_line <= DAEMON_LINE_LIMIT, f"a stdout line of {result.longest_line:,} bytes"
    assert result.text


def echo_password(server: Any) -> None:
    """A server that echoes the password (and the Basic header) in every text field it answers."""
    leak = f" [debug: user {USER} password {PASSWORD} header Basic {SECRETS[1]}]"
    server.answers["/sdapi/v1/interrogate"] = {"caption": "a red fox" + leak}
    server.answers["/sdapi/v1/png-info"] = {"info": "a red fox" + leak + "\nSteps: 20, Seed: 5", "items": {}}
    generate = server.engine.generate

    def leaky(request: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        answer = generate(request, **kwargs)
        info = json.loads(answer["info"])
        info["infotexts"] = [text + leak for text in info["infotexts"]]
        info["sd_model_name"] = "model" + leak
        answer["info"] = json.dumps(info)
        return answer

    server.engine.generate = leaky


@pytest.mark.parametrize("runner", ["workflow", "agent_app", "new_agent"])
@pytest.mark.parametrize("tool", ["txt2img", "generate_image", "interrogate", "png_info"])
def test_a_password_echoed_in_a_200_answer_is_redacted_in_every_message(plugin, secured, runner, tool):
    echo_password(secured)
    inputs = {"image_url": png_uri()} if tool in ("interrogate", "png_info") else {"prompt": "x", "steps": 4}
    if tool == "txt2img":
        inputs |= {"width": 64, "height": 64}
    files = DifyFiles()
    try:
        result = plugin.invoke(tool, inputs, creds(secured), runner=RUNNERS[runner], files=files)
    finally:
        files.stop()
    assert result.error is None, result.error
    written = everything_written(result)
    assert "a red fox" in written or tool in ("txt2img", "generate_image")
    for secret in SECRETS:
        assert secret not in written, f"{secret!r} reached a message"
        assert all(secret not in upload.filename for upload in files.uploads)
