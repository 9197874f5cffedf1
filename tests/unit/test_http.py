"""Server settings as users type them, and secrets that never show."""

import pytest

from webui.errors import InvalidParameter
from webui.transport.http import ServerConfig, parse_timeout, redact, shown_url, split_credentials


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("http://127.0.0.1:7860", "http://127.0.0.1:7860"),
        ("http://127.0.0.1:7860/", "http://127.0.0.1:7860"),
        ("host.docker.internal:7860", "http://host.docker.internal:7860"),
        ("http://192.168.1.20:7860/sdapi/v1/", "http://192.168.1.20:7860"),
        ("https://example.com/sd/", "https://example.com/sd"),
        ("https://example.com/sd/docs", "https://example.com/sd"),
        ("  http://[::1]:7861  ", "http://[::1]:7861"),
    ],
)
def test_base_url_is_normalised(typed, expected):
    assert ServerConfig.create(typed).base_url == expected


def test_credentials_in_the_url_move_to_the_auth_fields():
    config = ServerConfig.create("http://alice:p%40ss@webui:7860")
    assert (config.base_url, config.username, config.password) == ("http://webui:7860", "alice", "p@ss")
    assert config.auth_headers() == {"Authorization": "Basic YWxpY2U6cEBzcw=="}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"base_url": ""}, "The base URL is empty"),
        ({"base_url": "ftp://x"}, "must look like http://host:port"),
        ({"base_url": "http://x:99999"}, "invalid port"),
        ({"base_url": "http://x", "password": "p"}, "the username is empty"),
        ({"base_url": "http://x", "username": "u", "api_key": "k"}, "not both"),
        ({"base_url": "http://x", "timeout": "soon"}, "timeout must be a number of seconds"),
        ({"base_url": "http://x", "timeout": "0"}, "between 1 and 86400"),
        ({"base_url": "http://x", "timeout": "0.5"}, "between 1 and 86400"),
    ],
)
def test_bad_settings_are_explained(kwargs, message):
    with pytest.raises(InvalidParameter, match=message):
        ServerConfig.create(**kwargs)


def test_bearer_key_and_timeouts():
    config = ServerConfig.create("http://x", api_key="tok", timeout="900")
    assert config.auth_headers() == {"Authorization": "Bearer tok"} and config.timeout == 900
    assert parse_timeout(" 12.5 ") == 12.5


def test_fingerprint_changes_with_any_credential_and_hides_them():
    base = ServerConfig.create("http://x", username="u", password="secret-one")
    other = ServerConfig.create("http://x", username="u", password="secret-two")
    assert base.fingerprint() != other.fingerprint()
    assert "secret" not in base.fingerprint() and "secret" not in repr(base)


def test_redaction():
    config = ServerConfig.create("http://x", username="u", password="hunter2")
    header = config.auth_headers()["Authorization"].split()[1]
    assert redact(f"pw hunter2 header {header}", config.secrets()) == "pw *** header ***"
    assert shown_url("http://u:hunter2@host:1/p?sign=abc") == "http://host:1/p"


@pytest.mark.parametrize("password", ["p#ss", "p?ss", "p/ss", "p@ss", "p:ss", "p#s?s/s@x"])
def test_passwords_with_url_delimiters_never_reach_a_message(password):
    """A parser would read 'alice:p#ss@host' as host 'alice', port 'p', fragment 'ss@host'."""
    user, host = "alice", "webui.lan:7860"
    config = ServerConfig.create(f"http://{user}:{password}@{host}/sd")
    assert (config.base_url, config.username, config.password) == (f"http://{host}/sd", user, password)
    assert split_credentials(f"http://{user}:{password}@{host}") == (f"http://{host}", user, password)
    with pytest.raises(InvalidParameter) as raised:
        ServerConfig.create(f"http://{user}:{password}@{host}x:99999")
    assert password not in str(raised.value) and "invalid port" in str(raised.value)


def test_an_at_sign_in_the_path_is_not_user_info():
    assert split_credentials("http://host/a@b") == ("http://host/a@b", "", "")
