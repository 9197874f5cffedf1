"""Inputs an agent chooses, and answers a hostile server sends, through the daemon protocol.

Each test is one attack of the trust-boundary issue, numbered as there; docs/security.md
describes the rules they hold.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import AUTH, creds
from tests.daemon import DAEMON_LINE_LIMIT, ROOT, PluginProcess
from tests.emulator import Emulator
from tests.files_server import dify_file


def png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 150)).save(out, format="PNG")
    return out.getvalue()


class Listener:
    """A loopback port that counts the connections made to it."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def timed(plugin, tool, parameters, credentials):
    started = time.monotonic()
    result = plugin.invoke(tool, parameters, credentials, timeout=120)
    return result, time.monotonic() - started


# 1 --------------------------------------------------------------------------------------


def test_1_a_hostile_data_uri_is_refused_at_once(plugin, webui):
    hostile = "data:" + ";aaaaaaaa" * 12 + "!"
    result, seconds = timed(plugin, "img2img", {"init_image_url": hostile}, creds(webui))
    assert result.error_type == "InputImageError" and seconds < 2
    longer = "data:" + ";aaaaaaaa" * 20000 + "!"
    result, seconds = timed(plugin, "img2img", {"init_image_url": longer}, creds(webui))
    assert result.error_type == "InputImageError" and seconds < 2
    assert webui.calls("POST") == []


# 2 --------------------------------------------------------------------------------------


def spellings(port: int) -> list[str]:
    return [
        f"http://127.0.0.1:{port}/a.png",
        f"http://2130706433:{port}/a.png",
        f"http://0x7f000001:{port}/a.png",
        f"http://0177.0.0.1:{port}/a.png",
        f"http://127.1:{port}/a.png",
        f"http://localhost:{port}/a.png",
        f"http://[::1]:{port}/a.png",
        f"http://[::ffff:127.0.0.1]:{port}/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/a.png",
        "http://[fd00::1]/a.png",
        "http://0.0.0.0/a.png",
    ]


@pytest.mark.parametrize("field", ["init_image_url", "mask_url"])
def test_2_image_urls_on_internal_addresses_are_refused_without_connecting(plugin, webui, listener, field):
    base = {} if field == "init_image_url" else {"init_image_url": base64.b64encode(png()).decode()}
    for url in spellings(listener.port):
        result = plugin.invoke("img2img", {**base, field: url}, creds(webui))
        assert result.error_type == "UnsafeInput", (url, result.error)
        assert "allow_private_image_urls" in result.error_message
        assert not any(word in result.error_message for word in ("HTTP", "JSON", "HTML", "bytes"))
    assert listener.accepted == 0 and webui.calls("POST") == []


def test_2_the_operator_may_allow_private_addresses(plugin, webui, file_server):
    url = file_server.add("lan.png", png())
    refused = plugin.invoke("img2img", {"init_image_url": url}, creds(webui))
    assert refused.error_type == "UnsafeInput"
    allowed = plugin.invoke("img2img", {"init_image_url": url}, creds(webui, allow_private_image_urls=True))
    assert allowed.error is None, allowed.error


def test_2_a_dify_file_keeps_working_but_its_redirects_are_checked(plugin, webui, file_server, listener):
    file_server.add("new.png", png())
    moved = file_server.redirect("old.png", file_server.signed_url("new.png"))
    result = plugin.invoke("img2img", {"init_image": dify_file(moved, "old.png")}, creds(webui))
    assert result.error is None, result.error  # the same origin Dify handed over
    away = file_server.redirect("away.png", f"http://127.0.0.1:{listener.port}/steal")
    result = plugin.invoke("img2img", {"init_image": dify_file(away, "away.png")}, creds(webui))
    assert result.error_type == "UnsafeInput" and listener.accepted == 0


# 3 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"override_settings": '{"outdir_txt2img_samples": "/tmp/x"}'}, "'outdir_txt2img_samples'"),
        (
            {
                "extra_payload": '{"save_images": true, "override_settings": {"directories_filename_pattern": "../../x"}}'
            },
            "'directories_filename_pattern'",
        ),
        ({"override_settings": '{"samples_filename_pattern": "[prompt]"}'}, "'samples_filename_pattern'"),
        ({"override_settings": '{"save_init_img": true}'}, "'save_init_img'"),
        ({"override_settings": '{"disable_all_extensions": "all"}'}, "'disable_all_extensions'"),
        ({"extra_payload": '{"override_settings_restore_afterwards": false}'}, "restore_afterwards: false"),
        ({"script_name": "Custom code", "script_args": '["import os"]'}, "runs Python"),
        ({"alwayson_scripts": '{"custom code": {"args": []}}'}, "runs Python"),
        (
            {
                "script_name": "Prompts from file or textbox",
                "script_args": '[false, false, "start", "a cat\\n--prompt dog --outpath_samples /etc"]',
            },
            "line 2: --outpath_samples",
        ),
        (
            {
                "script_name": "prompts from file or textbox",
                "script_args": '[false, false, "start", "--prompt \\"x\\" --do_not_save_samples false"]',
            },
            "--do_not_save_samples",
        ),
        (
            {
                "alwayson_scripts": '{"ControlNet": {"args": [{"enabled": true, "input_mode": "batch", '
                '"batch_images": "/home"}]}}'
            },
            "read or write a folder",
        ),
    ],
)
def test_3_server_writes_state_and_code_are_refused_before_sending(plugin, webui, parameters, fragment):
    result = plugin.invoke("txt2img", {"prompt": "x", **parameters}, creds(webui))
    assert result.error_type == "UnsafeInput", result.error
    assert fragment in result.error_message
    assert webui.calls("POST") == []


def test_3_script_lines_obey_the_typed_bounds(plugin, webui):
    lines = "--prompt 'a cat' --steps 100000 --width 16384"
    parameters = {
        "script_name": "Prompts from file or textbox",
        "script_args": json.dumps([False, False, "start", lines]),
    }
    result = plugin.invoke("txt2img", {"prompt": "x", **parameters}, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert (
        "script_args line 1" in result.error_message and "steps = 100000: must be at most 150" in result.error_message
    )
    assert webui.calls("POST") == []


def test_3_a_harmless_prompt_list_still_works(plugin, webui):
    lines = 'a cat\n--prompt "a dog" --steps 12 --negative_prompt blurry\nbroken "quote --width'
    parameters = {
        "script_name": "Prompts from file or textbox",
        "script_args": json.dumps([False, False, "start", lines]),
    }
    result = plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64, **parameters}, creds(webui))
    assert result.error is None, result.error
    assert webui.last("/sdapi/v1/txt2img").body["script_args"][3] == lines


# 4 --------------------------------------------------------------------------------------


def test_4_long_prompts_times_many_images_stay_under_the_line_limit():
    prompt, negative = "masterpiece, " * 4600, "lowres, bad hands, " * 3100  # about 60 000 characters each
    with Emulator("a1111") as server, PluginProcess(ROOT) as plugin:
        parameters = {"prompt": prompt, "negative_prompt": negative, "batch_size": 16, "n_iter": 6, "seed": 7}
        result = plugin.invoke("txt2img", {**parameters, "width": 64, "height": 64}, creds(server), timeout=300)
        assert result.error is None, result.error
        assert result.longest_line < DAEMON_LINE_LIMIT
    [summary] = result.json
    assert summary["seeds"] == list(range(7, 7 + 96)) and result.variables["image_count"] == 96
    assert any(note.startswith("infotexts") for note in summary["cut_to_fit"])
    assert result.variables["infotexts"][0].startswith(prompt) and "Seed: 7" in result.variables["infotexts"][0]
    assert len(result.files) == 96


# 5 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["trickle_headers", "trickle_body"])
def test_5_the_timeout_is_a_total_deadline(plugin, webui, fault):
    webui.faults["/sdapi/v1/txt2img"] = fault
    result, seconds = timed(plugin, "txt2img", {"prompt": "x", "timeout": 3}, creds(webui))
    assert result.error_type == "GenerationTimeout" and "within 3 s" in result.error_message
    assert seconds < 6


# 6 --------------------------------------------------------------------------------------


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_6_an_answer_larger_than_the_request_needs_is_cut_off():
    with Emulator("a1111") as server, PluginProcess(ROOT) as plugin:
        server.faults["/sdapi/v1/txt2img"] = "huge_declared"
        result, seconds = timed(plugin, "txt2img", {"prompt": "x"}, creds(server))
        assert result.error_type == "InvalidResponse" and "larger than" in result.error_message and seconds < 3
        server.faults["/sdapi/v1/txt2img"] = "huge_streamed"
        result = plugin.invoke("txt2img", {"prompt": "x"}, creds(server))
        assert result.error_type == "InvalidResponse" and "larger than 112.0 MiB" in result.error_message
        assert peak_rss_mib(plugin.proc.pid) < 300  # an answer may take 112 MiB, not the 300 MiB sent
        server.faults.clear()
        assert plugin.invoke("txt2img", {"prompt": "x"}, creds(server)).error is None


# 7 --------------------------------------------------------------------------------------


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_7_a_size_read_from_an_image_header_obeys_the_bounds(plugin, webui):
    text = base64.b64encode(png_header_only(6000, 6000)).decode()  # larger ones: test_trust_gate.py, 10
    result = plugin.invoke("img2img", {"init_image_url": text}, creds(webui))
    assert result.error_type == "InvalidParameter" and "6000×6000" in result.error_message
    assert webui.calls("POST") == []


# 8 --------------------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["p#ss-Zq81", "p?ss-Zq81", "p/ss-Zq81"])
def test_8_a_password_with_url_delimiters_is_never_echoed(plugin, password):
    result = plugin.validate({"base_url": f"http://alice:{password}@127.0.0.1:notaport"})
    assert result.error is not None and password not in plugin.output and password not in result.error_message


@pytest.mark.parametrize("padding", range(1150, 1190, 3))
def test_8_a_token_echoed_at_the_clip_boundary_is_redacted_whole(plugin, secured, padding):
    """Wherever the message clip cuts the echoed header, no piece of the token shows."""
    secured.faults["/sdapi/v1/txt2img"] = "echo_auth_at_clip"
    secured.echo_padding = padding
    before = len(plugin.stdout_lines)
    result = plugin.invoke("txt2img", {"prompt": "x"}, creds(secured))
    token = base64.b64encode(":".join(next(iter(AUTH.items()))).encode()).decode()
    assert result.error_type == "ServerFailed" and "header" in result.error_message
    # what this call wrote (three letters could turn up by chance in other tests' output)
    written = "\n".join(plugin.stdout_lines[before:])
    assert token[:3] not in result.error_message and token[:3] not in written


@pytest.mark.parametrize("fault", ["redirect_307", "redirect_301"])
def test_8_a_post_is_never_sent_to_another_host(plugin, secured, fault):
    with Emulator("a1111") as other:
        secured.faults["/sdapi/v1/txt2img"] = fault
        secured.redirect_to = other.url
        result = plugin.invoke("txt2img", {"prompt": "private prompt"}, creds(secured))
        assert result.error_type == "InvalidResponse" and "does not follow it" in result.error_message
        assert other.requests == []


# 9 --------------------------------------------------------------------------------------


def test_9_hostile_names_and_prompts_cost_no_time(plugin, webui):
    result, seconds = timed(plugin, "txt2img", {"prompt": "<lora:" * 10922, "width": 64, "height": 64}, creds(webui))
    assert result.error is None and seconds < 3
    result, seconds = timed(plugin, "txt2img", {"prompt": "x", "checkpoint": "a" + " " * 120_000 + "b"}, creds(webui))
    assert result.error_type == "InvalidParameter" and "at most 512" in result.error_message and seconds < 3


def test_9_repeated_seeds_get_unique_file_names_in_one_pass(plugin, webui):
    """A1111 gives every image the same seed when subseed_strength > 0; naming 1600 of them
    took a quadratic search per name (8.6 s with every other session frozen)."""
    parameters = {"prompt": "x", "width": 64, "height": 64, "seed": 5, "subseed_strength": 0.5}
    result, seconds = timed(plugin, "txt2img", {**parameters, "batch_size": 16, "n_iter": 100}, creds(webui))
    assert result.error is None, result.error
    names = [file.filename for file in result.files]
    assert len(names) == len(set(names)) == 1600 and names[:3] == [
        "txt2img_5.png",
        "txt2img_5_2.png",
        "txt2img_5_3.png",
    ]
    assert seconds < 5


# 10 -------------------------------------------------------------------------------------


def test_10_the_base_url_follows_no_redirect_to_another_host(plugin, webui):
    with Emulator("a1111") as other:
        webui.faults["/sdapi/v1/sd-models"] = "redirect_301"
        webui.redirect_to = other.url
        result = plugin.validate(creds(webui))
        assert "does not follow it" in result.error_message and other.requests == []
        assert other.url not in result.error_message


@pytest.mark.parametrize(
    "answer",
    [
        (403, {"instance-id": "i-0123456789", "token": "metadata-secret"}),
        (500, "<html><body>internal admin page: metadata-secret i-0123456789</body></html>"),
        {"instance-id": "i-0123456789", "token": "metadata-secret"},
    ],
)
def test_10_pages_that_are_not_the_webui_are_described_not_quoted(plugin, webui, answer):
    webui.answers["/sdapi/v1/sd-models"] = answer
    result = plugin.validate(creds(webui))
    assert result.error is not None
    assert "metadata-secret" not in result.error_message and "i-0123456789" not in result.error_message


# 11 -------------------------------------------------------------------------------------


def test_11_malformed_answers_end_in_the_plugins_errors(plugin):
    with Emulator("a1111") as webui:  # a new address: nothing of it cached yet
        webui.answers["/openapi.json"] = {"components": [], "paths": 5}
        assert plugin.invoke("txt2img", {"prompt": "x", "width": 64, "height": 64}, creds(webui)).error is None
        webui.answers["/sdapi/v1/samplers"] = [{"name": "Euler", "aliases": 5}]
        result = plugin.invoke("txt2img", {"prompt": "x", "sampler_name": "Euler"}, creds(webui))
        assert result.error_type == "InvalidResponse" and "sampler list" in result.error_message
        webui.answers["/sdapi/v1/txt2img"] = b"[" * 100_000 + b"]" * 100_000
        result = plugin.invoke("txt2img", {"prompt": "x"}, creds(webui))
        assert result.error_type == "InvalidResponse"
        image = base64.b64encode(png()).decode()
        webui.answers["/sdapi/v1/txt2img"] = {"images": [image], "info": "[" * 100_000 + "]" * 100_000}
        assert plugin.invoke("txt2img", {"prompt": "x"}, creds(webui)).error is None


def test_11_deeply_nested_json_inputs_are_refused_before_generating(plugin, webui):
    deep = "{" + '"a": {' * 900 + "}" * 901
    result = plugin.invoke("txt2img", {"prompt": "x", "extra_payload": deep}, creds(webui))
    assert result.error_type == "InvalidParameter" and "nests deeper than 32 levels" in result.error_message
    assert webui.calls("POST") == []


# 12 -------------------------------------------------------------------------------------


def test_12_no_cookie_travels_from_one_download_to_the_next(plugin, webui, file_server):
    file_server.cookie = "tenant=a; Path=/"
    for name in ("c1.png", "c2.png"):
        url = file_server.add(name, png())
        assert plugin.invoke("img2img", {"init_image": dify_file(url, name)}, creds(webui)).error is None
    assert not [request for request in file_server.requests if "Cookie" in request]
