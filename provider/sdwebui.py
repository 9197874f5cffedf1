from typing import Any

from dify_plugin import ToolProvider
from dify_plugin.errors.tool import ToolProviderCredentialValidationError


class SdWebUIProvider(ToolProvider):
    """Checks the base URL and credentials against the server and detects its flavour."""

    def _validate_credentials(self, credentials: dict[str, Any]) -> None:
        # imported on first use, like the tools' flows: the plugin starts without the client
        from glue.call import webui_call
        from webui import WebUIError

        try:
            with webui_call(credentials) as client:
                client.check()
        except WebUIError as error:
            raise ToolProviderCredentialValidationError(str(error)) from None
