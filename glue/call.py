"""What every tool call starts with, said once: the WebUI the provider's credentials name,
a client for it, and advice on Dify's side added to the errors it raises."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from glue.credentials import server_config
from webui import (
    AddressRefusal,
    GenerationTimeout,
    PictureLimit,
    ServerUnreachable,
    TTLCache,
    UnsafeInput,
    WebUIClient,
    WebUIError,
)

log = logging.getLogger("sdwebui")

# Dify's API refuses a tool file larger than this (core/plugin/utils/chunk_merger.py).
DIFY_MAX_FILE_BYTES = 30 * 1024 * 1024
PICTURE_LIMIT = PictureLimit(DIFY_MAX_FILE_BYTES, "Dify's")
# The server lists and flavours this plugin process has read, per credentials: one cache for
# every call, so that a tool call after a picker (or the call before) asks the server again
# only after the lists' time to live. Its last lists also stand in when a picker cannot
# reach the server (glue/pickers.py).
PROCESS_CACHE = TTLCache()
# Advice that depends on how Dify runs the plugin, added to the client's own messages.
_DOCKER_LOCALHOST = (
    "Inside Dify's Docker containers, localhost is the plugin's own container: use "
    "http://host.docker.internal:7860 (Docker Desktop) or the machine's LAN IP address."
)
_ADDRESS_SETTING = {
    AddressRefusal.PRIVATE: "If your images really are on your own network, turn on 'allow_private_image_urls' "
    "in the plugin's authorization.",
    AddressRefusal.NEVER: "'allow_private_image_urls' does not change that.",
}
_DIFY_CAP = (
    "Dify itself ends every plugin call after PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by default), so longer "
    "jobs also need that raised in Dify's .env."
)


def client_for(credentials: Mapping[str, Any]) -> WebUIClient:
    """A client for the WebUI the credentials name (raises InvalidParameter for bad settings)."""
    return WebUIClient(server_config(credentials), PROCESS_CACHE, PICTURE_LIMIT)


@contextmanager
def webui_call(credentials: Mapping[str, Any]) -> Iterator[WebUIClient]:
    """The client of one tool call; its errors are logged (they never carry a credential:
    webui builds every message clean) and get the advice that depends on Dify: its own
    execution cap, the Docker meaning of localhost, the private-address setting."""
    client = client_for(credentials)
    try:
        yield client
    except (GenerationTimeout, ServerUnreachable, UnsafeInput) as error:
        if isinstance(error, GenerationTimeout):
            error.add_note(_DIFY_CAP)
        elif isinstance(error, UnsafeInput):
            if error.address is not None:
                error.add_note(_ADDRESS_SETTING[error.address])
        elif client.config.is_local_host:
            error.add_note(_DOCKER_LOCALHOST)
        log.warning("%s: %s", type(error).__name__, error)
        raise
    except WebUIError as error:
        log.warning("%s: %s", type(error).__name__, error)
        raise
