"""Replay the requests recorded from a live A1111 1.10.1 against the emulator and compare answers.

tests/captures/ holds real requests and responses (INDEX.md lists them; long base64 was
truncated with a `<truncated: ..., format=PNG, size=64x64, ...>` marker). The emulator
must give the same status and the same body, except for values that are random on the
real server (random seeds, subseeds, timestamps).
"""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image, PngImagePlugin

from tests.emulator import Emulator
from tests.emulator.flavours import CAPTURES, recorded_gets

MARKER = re.compile(
    r"\.\.\.<truncated: full_length=\d+(?:, decoded_bytes=\d+)?, format=(\w+), size=(\d+)x(\d+), mode=(\w+)>$"
)
CAPTURED_AUTH = {"tester": "secret"}
# Not request/response pairs, or need the real server's timing or process: covered elsewhere.
SKIPPED = {
    "concurrency_3_txt2img",  # tests/e2e/test_load.py checks FIFO order instead
    "progress_during_generation_live_preview",
    "timings",
    "get_options_keys",
    "openapi",
    "openapi_with_api_auth",
    "options_after_override_leak",  # replayed in test_override_settings_leak
    "server_kill",  # ends the real process
    "interrupt_during_generation_call",
    "skip_during_generation_call",
    "txt2img_result_after_interrupt",
    "txt2img_result_after_skip",
}
RANDOM_INFO = {"subseed", "all_subseeds", "job_timestamp"}


def captures() -> list[str]:
    return sorted(p.stem for p in CAPTURES.glob("*.json") if p.stem not in SKIPPED)


def load(name: str) -> dict[str, Any]:
    return json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def servers():
    """Servers set up like the captured one: the same lone checkpoint, no LoRAs, styles or VAEs."""
    made = {}
    for auth in (False, True):
        server = Emulator("a1111", auth=CAPTURED_AUTH if auth else None).start()
        made[auth] = server
    yield made
    for server in made.values():
        server.stop()


def fresh(server: Emulator) -> Emulator:
    server.reset()
    engine = server.engine
    engine.checkpoints[:] = json.loads(json.dumps(load("get_sd_models")["body"]))
    engine.options["sd_model_checkpoint"] = engine.checkpoints[0]["title"]
    engine.loras.clear()
    engine.styles.clear()
    engine.vaes.clear()
    engine.embeddings = {"loaded": {}, "skipped": {}}
    return server


def image_from_marker(text: str, parameters: str | None = None) -> str:
    """A real image in place of a truncated one: same format and size."""
    prefix = text[: text.index("base64,") + 7] if text.startswith("data:") else ""
    fmt, width, height, mode = MARKER.search(text).groups()
    out = io.BytesIO()
    image = Image.new(mode if mode in ("RGB", "RGBA", "L") else "RGB", (int(width), int(height)), 120)
    info = PngImagePlugin.PngInfo()
    if parameters:
        info.add_text("parameters", parameters)
    image.save(out, format=fmt, pnginfo=info if fmt == "PNG" else None)
    return prefix + base64.b64encode(out.getvalue()).decode()


def rebuild(value: Any, parameters: str | None = None) -> Any:
    if isinstance(value, str) and MARKER.search(value):
        return image_from_marker(value, parameters)
    if isinstance(value, list):
        return [rebuild(item, parameters) for item in value]
    if isinstance(value, dict):
        return {key: rebuild(item, parameters) for key, item in value.items()}
    return value


def send(server: Emulator, request: dict[str, Any], parameters: str | None = None) -> requests.Response:
    auth = request.get("basic_auth")
    kwargs: dict[str, Any] = {"headers": request.get("headers", {}), "timeout": 30}
    if auth:
        kwargs["auth"] = (auth["user"], auth["password"])
    if "raw_body" in request:
        kwargs["data"] = request["raw_body"]
        kwargs["headers"] = {**kwargs["headers"], "Content-Type": "application/json"}
    elif "body" in request:
        kwargs["json"] = rebuild(request["body"], parameters)
    return requests.request(request["method"], server.url + request["path"], **kwargs)


def described_image(encoded: str) -> tuple[str, int, int, str]:
    image = Image.open(io.BytesIO(base64.b64decode(encoded)))
    return image.format, image.width, image.height, image.mode


def compare_generation(expected: dict[str, Any], actual: dict[str, Any], request: dict[str, Any]) -> None:
    assert len(actual["images"]) == len(expected["images"])
    for want, got in zip(expected["images"], actual["images"], strict=True):
        fmt, width, height, mode = MARKER.search(want).groups()
        assert described_image(got) == (fmt, int(width), int(height), mode)
    want_info, got_info = json.loads(expected["info"]), json.loads(actual["info"])
    assert set(got_info) == set(want_info)
    random_seed = request.get("body", {}).get("seed", -1) == -1
    for key, value in want_info.items():
        if key in RANDOM_INFO or (random_seed and key in ("seed", "all_seeds", "infotexts")):
            continue
        assert got_info[key] == value, f"info.{key}"
    for key, value in expected["parameters"].items():
        sent = actual["parameters"][key]
        if isinstance(value, list) and value and isinstance(value[0], str) and MARKER.search(value[0]):
            assert [described_image(item.split(",")[-1]) for item in sent] == [
                (f, int(w), int(h), m) for f, w, h, m in (MARKER.search(item).groups() for item in value)
            ]
        else:
            assert sent == value, f"parameters.{key}"


@pytest.mark.parametrize("name", captures())
def test_emulator_answers_like_the_real_server(servers, name):
    capture = load(name)
    request = capture["request"]
    uses_auth = name.startswith(("auth_", "server_stop")) or "basic_auth" in request
    server = fresh(servers[uses_auth])
    if name == "txt2img_override_restored_when_key_in_config":
        server.engine.config_keys.add("samples_format")
    expected = capture["body"]
    parameters = expected.get("info") if name.startswith("png_info") and isinstance(expected, dict) else None
    response = send(server, request, parameters)
    assert response.status_code == capture["status"], response.text
    if isinstance(expected, str) and expected.lstrip().startswith("<"):
        assert response.text == expected and response.headers["content-type"].startswith("text/html")
        return
    actual = response.json()
    if capture["status"] >= 400 or name.startswith(("get_progress", "post_", "refresh", "reload", "unload", "server_")):
        if name.startswith("get_progress"):  # idle: the last job's counters remain, job_count is 0
            assert set(actual) == set(expected) and set(actual["state"]) == set(expected["state"])
            assert (actual["progress"], actual["state"]["job_count"]) == (0.0, 0)
        else:
            assert actual == expected
        return
    if name == "auth_openapi_no_auth":
        assert (actual["openapi"], len(actual["paths"])) == (expected["openapi"], expected["path_count"])
        return
    if isinstance(expected, dict) and "images" in expected:
        compare_generation(expected, actual, request)
    elif isinstance(expected, dict) and "image" in expected:
        assert actual["html_info"] == expected["html_info"]
        fmt, width, height, _ = MARKER.search(expected["image"]).groups()
        assert described_image(actual["image"])[:3] == (fmt, int(width), int(height))
    elif name.startswith("png_info"):
        assert actual["info"] == expected["info"]
    else:
        assert actual == expected


# --- the other recorded sets: every flavour and the extensions ---------------------------

# set -> (emulator flavour, extensions installed when it was recorded)
SETS = {
    "a1111-110-ext": ("a1111", {"lora", "controlnet", "adetailer", "agent-scheduler"}),
    "a1111-18": ("a1111-1.8", {"lora"}),
    "forge": ("forge", {"lora"}),
    "forge-neo": ("forge-neo", {"lora"}),
    "reforge": ("reforge", {"lora"}),
    "sdnext": ("sdnext", {"lora"}),
}
SET_SKIPPED = {
    "forge-neo": {
        "auth_openapi_no_auth": "recorded from the --auth run with its UI, whose document lists the UI's "
        "routes too (119 paths); the API's own document is openapi.json, replayed",
    },
    "sdnext": {
        # the limit is per minute and per route: replayed in their order in test_sdnext_rate_limit
        "rl_429_sd_models": "replayed in order by test_sdnext_rate_limit",
        "rl_429_txt2img_cost5": "replayed in order by test_sdnext_rate_limit",
        "rl_429_txt2img_second": "replayed in order by test_sdnext_rate_limit",
        "rl_samplers_other_route_not_limited": "replayed in order by test_sdnext_rate_limit",
        "sdn_internal_progress_after_force_task_id": "SD.Next's /internal/progress is not emulated",
        "sdn_internal_progress_unknown": "SD.Next's /internal/progress is not emulated",
    },
}
# ADetailer given its unit without the two leading flags also wrote a second unit, from the
# UI state the previous request left behind: a state of the real process the emulator lacks.
LOOSE_INFOTEXT = {("a1111-110-ext", "ad_txt2img_dict_only_args")}


# The agent-scheduler and per-task progress recordings are a session: test_queue_captures.py
# replays them in their order against the queue emulator.
IN_ORDER = ("as_", "ip_")


def set_captures() -> list[tuple[str, str]]:
    found = []
    for name in SETS:
        for path in sorted((CAPTURES / name).glob("*.json")):
            if path.stem not in SET_SKIPPED.get(name, {}) and not path.stem.startswith(IN_ORDER):
                found.append((name, path.stem))
    return found


def set_load(name: str, capture: str) -> Any:
    return json.loads((CAPTURES / name / f"{capture}.json").read_text(encoding="utf-8"))


def recorded_body(name: str, capture: str, default: Any) -> Any:
    path = CAPTURES / name / f"{capture}.json"
    if not path.exists():
        return default
    data = set_load(name, capture)
    return data["body"] if data["status"] == 200 else default


@pytest.fixture(scope="module")
def set_servers():
    made: dict[tuple[str, bool], Emulator] = {}
    yield made
    for server in made.values():
        server.stop()


def set_server(made: dict[tuple[str, bool], Emulator], name: str, auth: bool) -> Emulator:
    """A server set up like the recorded one: its models, LoRAs, styles, VAEs, extensions."""
    flavour, installed = SETS[name]
    if (name, auth) not in made:
        made[(name, auth)] = Emulator(flavour, auth=CAPTURED_AUTH if auth else None).start()
    server = made[(name, auth)]
    server.reset()
    engine = server.engine
    engine.extensions.clear()
    engine.extensions.update(installed)
    checkpoints = recorded_body(name, "get_sd_models", None) or load("get_sd_models")["body"]
    engine.checkpoints[:] = json.loads(json.dumps(checkpoints))
    engine.options["sd_model_checkpoint"] = engine.checkpoints[0]["title"]
    engine.loras[:] = recorded_body(name, "get_loras", [])
    engine.styles[:] = recorded_body(name, "get_prompt_styles", [])
    vae_capture = "get_sd_modules" if flavour == "forge" else "get_sd_vae"
    engine.vaes[:] = recorded_body(name, vae_capture, [])
    engine.embeddings = recorded_body(name, "get_embeddings", {"loaded": {}, "skipped": {}})
    if name == "a1111-110-ext":
        engine.recorded.update(recorded_gets(CAPTURES / name))
    if "controlnet" in installed or flavour == "forge":
        engine.controlnet_models[:] = recorded_body(name, "cn_model_list", {})["model_list"]
        engine.controlnet_modules[:] = recorded_body(name, "cn_module_list", {})["module_list"]
    if "adetailer" in installed:
        engine.adetailer_models[:] = recorded_body(name, "ad_model", {})["ad_model"]
    return server


def same_shape(expected: Any, actual: Any, where: str) -> None:
    """The same kind of value; a dict with the same keys; a list as long, with items of the same keys."""
    assert type(actual) is type(expected) or {type(actual), type(expected)} <= {int, float}, where
    if isinstance(expected, dict):
        assert set(actual) == set(expected), where
    if isinstance(expected, list):
        assert len(actual) == len(expected), where
        if expected and isinstance(expected[0], dict):
            assert set(actual[0]) == set(expected[0]), f"{where}[0]"


def described_marker(text: str) -> tuple[str, int, int, str]:
    fmt, width, height, mode = MARKER.search(text).groups()
    return fmt, int(width), int(height), mode


def compare_set_generation(expected: dict[str, Any], actual: dict[str, Any], loose: bool, seeded: bool) -> None:
    assert set(actual) == set(expected)
    assert [described_image(got)[:3] for got in actual["images"]] == [
        described_marker(want)[:3] for want in expected["images"]
    ], "image count, formats and sizes"
    assert set(actual["parameters"]) == set(expected["parameters"]), "parameters"
    want_info, got_info = json.loads(expected["info"]), json.loads(actual["info"])
    assert list(got_info) == list(want_info), "info keys"
    if not loose:
        want_extra, got_extra = want_info["extra_generation_params"], got_info["extra_generation_params"]
        assert set(got_extra) == set(want_extra), "extra_generation_params"
    for key in ("sampler_name", "sd_model_name", "width", "height", "steps", "seed", "batch_size"):
        if key in want_info and (seeded or key != "seed"):
            assert got_info[key] == want_info[key], f"info.{key}"


@pytest.mark.parametrize(("name", "capture"), set_captures())
def test_each_flavour_answers_like_its_recording(set_servers, name, capture):
    recorded = set_load(name, capture)
    if "request" not in recorded:  # a raw document
        server = set_server(set_servers, name, False)
        if capture == "openapi":
            answer = requests.get(server.url + "/openapi.json", timeout=10)
            assert answer.json() == recorded
        elif capture == "get_options_keys":
            options = requests.get(server.url + "/sdapi/v1/options", timeout=10).json()
            assert sorted(options) == recorded["keys"]
        else:
            pytest.fail(f"no rule for the raw document {name}/{capture}")
        return
    request = recorded["request"]
    server = set_server(set_servers, name, capture.startswith("auth_") or "basic_auth" in request)
    expected = recorded["body"]
    parameters = None
    if request["path"] == "/sdapi/v1/png-info" and isinstance(expected, dict):
        parameters = expected.get("info") or None
    response = send(server, request, parameters)
    assert response.status_code == recorded["status"], response.text[:500]
    actual = response.json()
    if recorded["status"] >= 400:
        assert actual == expected
    elif capture == "auth_openapi_no_auth":
        assert (actual["openapi"], actual["info"]) == (expected["openapi"], expected["info"])
        if name != "reforge":  # its --auth run listed 41 paths, its openapi.json (without --auth) 85
            assert len(actual["paths"]) == expected["paths_count"]
    elif isinstance(expected, dict) and "images" in expected and "parameters" in expected:
        seeded = request["body"].get("seed", -1) != -1
        compare_set_generation(expected, actual, (name, capture) in LOOSE_INFOTEXT, seeded)
    elif isinstance(expected, dict) and "images" in expected:  # /controlnet/detect, extra-batch-images
        same_shape(expected, actual, "body")
        assert [described_image(got)[:3] for got in actual["images"]] == [
            described_marker(want)[:3] for want in expected["images"]
        ]
    elif isinstance(expected, dict) and "image" in expected:
        same_shape(expected, actual, "body")
        assert described_image(actual["image"])[:3] == described_marker(expected["image"])[:3]
    else:
        same_shape(expected, actual, "body")


def test_sdnext_rate_limit():
    """rl_*.json in the order they were recorded: the limit counts each client and route over a
    minute, a txt2img costs 5, and a refused txt2img has generated its picture already."""
    with Emulator("sdnext") as server:
        limit = set_load("sdnext", "rl_options_set_limit_5")["request"]
        assert send(server, limit).json() == set_load("sdnext", "rl_options_set_limit_5")["body"]
        refused = set_load("sdnext", "rl_429_sd_models")
        statuses = [send(server, refused["request"]).status_code for _ in range(6)]
        assert statuses == [200, 200, 200, 200, 200, 429]
        answer = send(server, refused["request"])
        assert (answer.status_code, answer.json()) == (429, refused["body"])
        assert "Retry-After" not in answer.headers
        other = set_load("sdnext", "rl_samplers_other_route_not_limited")
        assert send(server, other["request"]).status_code == other["status"]
        first, second = set_load("sdnext", "rl_429_txt2img_cost5"), set_load("sdnext", "rl_429_txt2img_second")
        assert send(server, first["request"]).status_code == first["status"]
        before = server.engine.generations
        answer = send(server, second["request"])
        assert (answer.status_code, answer.json()) == (second["status"], second["body"])
        assert server.engine.generations == before + 1  # it ran before it was counted


def test_forge_keeps_a_vae_override_and_ignores_unknown_ones():
    """ov_*.json in their recorded order, then ov_options_after.json: sd_vae stays "None"."""
    with Emulator("forge") as server:
        server.engine.vaes.clear()
        for capture in ("ov_override_sd_vae_none", "ov_override_sd_vae_unknown"):
            recorded = set_load("forge", capture)
            answer = send(server, recorded["request"])
            assert answer.status_code == recorded["status"]
        options = requests.get(server.url + "/sdapi/v1/options", timeout=10).json()
    assert options["sd_vae"] == set_load("forge", "ov_options_after")["body"]["sd_vae"] == "None"


def test_override_settings_leak(servers):
    """A fresh install keeps override_settings it had no config.json entry for (options_after_override_leak.json)."""
    server = fresh(servers[False])
    send(server, load("txt2img_override_settings_valid")["request"])
    options = requests.get(server.url + "/sdapi/v1/options", timeout=10).json()
    leaked = load("options_after_override_leak")
    assert options["samples_format"] == leaked["samples_format"]
    assert options["CLIP_stop_at_last_layers"] == leaked["CLIP_stop_at_last_layers"]


def test_fifo_queue_serves_in_arrival_order(servers):
    """concurrency_3_txt2img.json: three jobs sent 20 ms apart finish in order, one after another."""
    import threading
    import time

    server = fresh(servers[False])
    server.engine.generation_delay = 0.4
    done: list[int] = []

    def job(index: int) -> None:
        body = {"prompt": f"job {index}", "width": 64, "height": 64, "steps": 8, "seed": 100 + index}
        response = requests.post(server.url + "/sdapi/v1/txt2img", json=body, timeout=30)
        assert json.loads(response.json()["info"])["prompt"] == f"job {index}"
        done.append(index)

    threads = [threading.Thread(target=job, args=(i,)) for i in range(3)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    assert done == load("concurrency_3_txt2img")["completion_order"]
    assert time.monotonic() - started >= 3 * 0.4


def test_progress_reports_the_running_job(servers):
    import threading
    import time

    server = fresh(servers[False])
    server.engine.generation_delay = 0.6
    thread = threading.Thread(
        target=requests.post,
        args=(server.url + "/sdapi/v1/txt2img",),
        kwargs={"json": {"prompt": "p", "steps": 12, "width": 64, "height": 64}, "timeout": 30},
    )
    thread.start()
    time.sleep(0.3)
    during = requests.get(server.url + "/sdapi/v1/progress", timeout=5).json()
    thread.join()
    after = requests.get(server.url + "/sdapi/v1/progress", timeout=5).json()
    shape = {
        k: v for k, v in load("progress_during_generation_live_preview")["polls"][1].items() if k not in ("t_s", "rt_s")
    }
    assert set(during) == set(shape) and set(during["state"]) == set(shape["state"])
    assert during["state"]["job"] == "scripts_txt2img" and during["state"]["sampling_steps"] == 12
    assert 0 < during["progress"] < 1
    assert after["state"]["job_count"] == 0 and after["progress"] == 0.0


def test_capture_files_are_present():
    assert len(captures()) > 90, f"tests/captures looks incomplete: {Path(CAPTURES)}"
