"""Provider validation through the daemon protocol: success, and each way it can fail, in seconds."""

import socket
import time

import pytest

from tests.conftest import AUTH, creds, source_and_package
from tests.emulator import Emulator


@pytest.fixture(params=["source", "package"], scope="module")
def plugin(request):
    """Each test runs against the source tree and against the unpacked .difypkg."""
    return source_and_package(request)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_valid_credentials_are_accepted_and_the_flavour_is_detected(plugin):
    with Emulator("a1111", auth=AUTH) as fresh:  # a new port: nothing cached for it yet
        result = plugin.validate(creds(fresh))
        assert result.error is None and result.stream == [{"result": True}]
        assert [r.path for r in fresh.requests] == ["/sdapi/v1/sd-models", "/openapi.json"]
        assert fresh.requests[0].headers["Authorization"].startswith("Basic ")  # sent preemptively


def test_unreachable_localhost_explains_docker_networking(plugin):
    started = time.monotonic()
    result = plugin.validate({"base_url": f"http://localhost:{closed_port()}"})
    assert time.monotonic() - started < 5
    assert result.error_type == "ToolProviderCredentialValidationError"
    message = result.error_message
    assert "Could not reach the WebUI at http://localhost:" in message
    assert "connection was refused" in message
    assert "host.docker.internal" in message and "--listen" in message


def test_unresolvable_host_is_named(plugin):
    started = time.monotonic()
    result = plugin.validate({"base_url": "http://no-such-webui.invalid:7860"})
    assert time.monotonic() - started < 15
    assert "http://no-such-webui.invalid:7860" in result.error_message
    assert "does not resolve" in result.error_message and "host.docker.internal" not in result.error_message


def test_missing_credentials(plugin, secured):
    result = plugin.validate({"base_url": secured.url})
    assert result.error_type == "ToolProviderCredentialValidationError"
    assert "HTTP 401: Not authenticated" in result.error_message and "--api-auth" in result.error_message


def test_wrong_password_is_refused_without_echoing_it(plugin, secured):
    result = plugin.validate(creds(secured, password="wrong-horse-battery"))
    assert "Incorrect username or password" in result.error_message
    assert "wrong-horse-battery" not in plugin.output


def test_server_without_api(plugin, webui):
    result = plugin.validate({"base_url": webui.url + "/ui"})
    assert "Start the WebUI with --api" in result.error_message


def test_html_instead_of_the_api(plugin, webui):
    webui.faults["/sdapi/v1/sd-models"] = "html_200"
    result = plugin.validate(creds(webui))
    assert "answered an HTML page (81 bytes) instead of JSON" in result.error_message
    assert "A1111-compatible API" in result.error_message and "Sign in" not in result.error_message


def test_json_that_is_not_the_a1111_api(plugin, webui):
    webui.faults["/sdapi/v1/sd-models"] = "no_images"  # a JSON object where a list belongs
    result = plugin.validate(creds(webui))
    assert "answered JSON that is not a checkpoint list" in result.error_message


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"api_key": "tok", "username": "u", "password": "p"}, "not both"),
        ({"timeout": "ten minutes"}, "timeout must be a number of seconds"),
        ({"base_url": ""}, "The base URL is empty"),
    ],
)
def test_settings_errors(plugin, webui, extra, message):
    result = plugin.validate(creds(webui) | extra)
    assert message in result.error_message


def test_bearer_key_is_sent_to_a_gateway(plugin, webui):
    assert plugin.validate(creds(webui, api_key="gw-token")).error is None
    assert webui.requests[0].headers["Authorization"] == "Bearer gw-token"
