"""The provider's stored credentials -> a webui ServerConfig."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from webui import DEFAULT_TIMEOUT, AddressPolicy, ServerConfig


def _flag(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("false", "0", "no", "off")
    return bool(value)


def server_config(credentials: Mapping[str, Any]) -> ServerConfig:
    """Build and check the settings; raises InvalidParameter with a user-facing message."""
    timeout = credentials.get("timeout")
    return ServerConfig.create(
        base_url=str(credentials.get("base_url") or ""),
        username=str(credentials.get("username") or ""),
        password=str(credentials.get("password") or ""),
        api_key=str(credentials.get("api_key") or ""),
        timeout=DEFAULT_TIMEOUT if timeout in (None, "") else timeout,
        verify_ssl=_flag(credentials.get("verify_ssl"), True),
        allow_private_image_urls=_flag(credentials.get("allow_private_image_urls"), False),
    )


def image_policy(config: ServerConfig) -> AddressPolicy:
    """Which addresses image URLs may point at: public ones, unless the operator allowed private ones."""
    return AddressPolicy(allow_private=config.allow_private_image_urls)
