from typing import Any

from dify_plugin import ToolProvider
from dify_plugin.errors.tool import ToolProviderCredentialValidationError

from glue.credentials import secrets_removed, server_config
from webui import WebUIClient, WebUIError


class SdWebUIProvider(ToolProvider):
    """Checks the base URL and credentials against the server and detects its flavour."""

    def _validate_credentials(self, credentials: dict[str, Any]) -> None:
        try:
            config = server_config(credentials)
            with secrets_removed(config):
                WebUIClient(config).check()
        except WebUIError as error:
            raise ToolProviderCredentialValidationError(error.message) from None
