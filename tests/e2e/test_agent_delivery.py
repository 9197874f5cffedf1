"""Each runner that can call a tool gets the picture to the person and a short observation
to the model; plain workflow nodes keep their outputs (daemon protocol, docs/dify-protocol.md).

The session ids each runner sends are in tests/daemon.py (RUNNERS). What the model reads is
counted from the plugin's own messages (Result.model_reads); Dify's fixed sentences around
them are not ours to shorten. Picture links (Dify's signed preview URLs) are not counted.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.agent_calls import (
    AGENTS,
    INPUTS,
    LINK,
    MODEL_BUDGET,
    PICTURE_TOOLS,
    TOOLS,
    call,
    outside_links,
    swell,
)
from tests.conftest import creds
from tests.daemon import RUNNERS, Result
from tests.dify_files import DifyFiles
from tests.emulator import Emulator


@pytest.fixture
def webui() -> Iterator[Emulator]:
    """A server of this test's own: the plugin keeps what it learnt of a server (its scripts,
    lists) for a while per address, and these tests change what the server answers."""
    with Emulator("a1111") as server:
        yield server


@pytest.fixture
def dify_files() -> Iterator[DifyFiles]:
    files = DifyFiles()
    yield files
    files.stop()


def assert_the_person_gets_the_pictures(result: Result, runner: str, files: DifyFiles) -> None:
    if runner == "new_agent":
        assert result.files == [], "a blob would be str()-ed into the New Agent's context"
        links = LINK.findall(result.text)
        assert links, f"no markdown image in {result.text[:300]!r}"
        assert len(links) == len(files.uploads)
        for url in links:
            status, mime, data = files.get(url)
            assert (status, mime) == (200, "image/png")
            assert Image.open(io.BytesIO(data)).format == "PNG"
    else:
        assert result.files and all(file.mime_type.startswith("image/") for file in result.files)
        assert files.uploads == [] and result.invocations == []


@pytest.mark.parametrize("runner", AGENTS)
@pytest.mark.parametrize("tool", TOOLS)
def test_the_model_reads_a_few_hundred_characters_and_the_person_gets_the_picture(
    plugin, webui, dify_files, tool, runner
):
    result = call(plugin, webui, tool, runner, dify_files)
    assert result.error is None, result.error
    reads = outside_links(result.model_reads(runner))
    assert len(reads) <= MODEL_BUDGET, f"{tool} in {runner}: the model reads {len(reads)} characters: {reads[:500]!r}"
    assert result.of_type("json") == [] and result.of_type("variable") == []
    if tool in PICTURE_TOOLS:
        assert_the_person_gets_the_pictures(result, runner, dify_files)
    else:
        assert result.files == [] and dify_files.uploads == []


@pytest.mark.parametrize("runner", AGENTS)
@pytest.mark.parametrize("tool", TOOLS)
def test_a_4_mb_answer_from_the_server_stays_out_of_the_models_context(plugin, webui, dify_files, tool, runner):
    swell(webui, tool)
    result = call(plugin, webui, tool, runner, dify_files)
    assert result.error is None, result.error
    reads = outside_links(result.model_reads(runner))
    assert len(reads) <= MODEL_BUDGET, f"{tool} in {runner}: the model reads {len(reads)} characters: {reads[:500]!r}"


def test_generate_image_at_1024_in_each_runner(plugin, webui, dify_files):
    """The issue's measure of done: a 1024² picture reaches the person in every runner."""
    for runner in AGENTS:
        result = call(plugin, webui, "generate_image", runner, dify_files)
        assert result.error is None, result.error
        assert_the_person_gets_the_pictures(result, runner, dify_files)
        if runner == "new_agent":
            [upload] = dify_files.uploads
            assert Image.open(io.BytesIO(upload.data)).size == (1024, 1024)
            assert "seed 123" in result.text
        else:
            [file] = result.files
            assert Image.open(io.BytesIO(file.data)).size == (1024, 1024)


def test_the_new_agent_gets_one_markdown_image_per_picture(plugin, webui, dify_files):
    parameters = {"prompt": "three boats", "width": 64, "height": 64, "seed": 40, "count": 3, "steps": 4}
    result = plugin.invoke("generate_image", parameters, creds(webui), runner=RUNNERS["new_agent"], files=dify_files)
    assert result.error is None, result.error
    assert [upload.filename for upload in dify_files.uploads] == ["image_40.png", "image_41.png", "image_42.png"]
    alts = re.findall(r"!\[([^\]]*)\]", result.text)
    assert alts == ["seed 40", "seed 41", "seed 42"]
    assert [inv["type"] for inv in result.invocations] == ["upload_file"] * 3
    assert result.streamed == []  # no progress lines: the New Agent would read them


@pytest.mark.parametrize("tool", TOOLS)
def test_plain_workflow_nodes_keep_blobs_json_variables_and_text(plugin, webui, dify_files, tool):
    """A tool node's outputs (text, files, json, variables) as before, in workflows and
    chatflows alike; the other e2e suites hold their contents (they run as a workflow node)."""
    results = [call(plugin, webui, tool, runner, dify_files) for runner in ("workflow", "chatflow")]
    for result in results:
        assert result.error is None, result.error
        assert len(result.json) == 1 and result.text and result.variables
        if tool in PICTURE_TOOLS:
            assert result.files and LINK.findall(result.text) == []
        if tool in ("generate_image", "txt2img", "img2img", "job_result"):
            assert {"seed", "seeds", "infotexts", "image_count", "width", "height"} <= set(result.variables)
    assert dify_files.uploads == [] and results[0].invocations == results[1].invocations == []
    kinds = [[m["type"] for m in result.messages if not m["message"].get("stream")] for result in results]
    assert kinds[0] == kinds[1]  # progress lines aside, which follow the server's timing
    assert set(results[0].json[0]) == set(results[1].json[0])


def test_a_workflow_agent_node_left_on_auto_is_taken_for_a_tool_node(plugin, webui, dify_files):
    """Both send app_id alone: auto keeps a tool node's outputs, the documented limit."""
    in_node = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["agent_node"], files=dify_files)
    in_workflow = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["workflow"])
    kinds = [[m["type"] for m in r.messages if m["type"] not in ("blob_chunk",)] for r in (in_node, in_workflow)]
    assert kinds[0] == kinds[1] and in_node.json and in_node.variables["seed"] == 123


@pytest.mark.parametrize(
    ("delivery", "runner", "uploads"),
    [("links", "workflow", True), ("links", "agent_app", True), ("files", "new_agent", False)],
)
def test_the_delivery_setting_wins_over_the_ids(plugin, webui, dify_files, delivery, runner, uploads):
    parameters = {**INPUTS["txt2img"], "delivery": delivery}
    result = plugin.invoke("txt2img", parameters, creds(webui), runner=RUNNERS[runner], files=dify_files)
    assert result.error is None, result.error
    assert bool(dify_files.uploads) is uploads and bool(result.files) is not uploads
    assert result.json == [] and result.variables == {} and len(outside_links("".join(result.texts))) <= MODEL_BUDGET


def test_an_unknown_delivery_is_refused_with_the_choices(plugin, webui):
    result = plugin.invoke("txt2img", {**INPUTS["txt2img"], "delivery": "email"}, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert all(word in result.error_message for word in ("delivery", "auto", "files", "links"))


# --- when the upload fails -------------------------------------------------------------------


def assert_a_clear_upload_error(result: Result, *words: str) -> None:
    assert result.error_type == "FileUploadFailed", result.error
    assert "FILES_URL" in result.error_message
    for word in words:
        assert word in result.error_message
    assert result.files == [] and result.of_type("blob_chunk") == []
    assert len(result.model_reads("new_agent")) <= MODEL_BUDGET


def test_an_empty_files_url_is_named(plugin, webui):
    files = DifyFiles(files_url="")  # Dify then hands out a relative upload URL
    try:
        result = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["new_agent"], files=files)
    finally:
        files.stop()
    assert_a_clear_upload_error(result, "relative")
    assert files.uploads == []


@pytest.mark.parametrize("status", [403, 413, 500, 502])
def test_an_upload_answered_with_an_error_status_is_named(plugin, webui, dify_files, status):
    dify_files.upload_status = status
    result = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["new_agent"], files=dify_files)
    assert_a_clear_upload_error(result, str(status))


def test_the_daemon_refusing_the_upload_is_named(plugin, webui):
    result = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["new_agent"], files=None)
    assert_a_clear_upload_error(result)


def test_an_unreachable_files_url_is_named(plugin, webui):
    files = DifyFiles(internal_files_url="http://127.0.0.1:9")  # nothing listens on the discard port
    try:
        result = plugin.invoke("txt2img", INPUTS["txt2img"], creds(webui), runner=RUNNERS["new_agent"], files=files)
    finally:
        files.stop()
    assert_a_clear_upload_error(result, "INTERNAL_FILES_URL")
