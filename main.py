import logging
from typing import Any

import yaml
from dify_plugin import DifyPluginEnv, Plugin
from dify_plugin.config.logger_format import plugin_logger_handler
from dify_plugin.core.utils import yaml_loader


class _LibYaml:
    """PyYAML with libyaml's loader: the SDK reads the tool YAML (four languages, some 80
    parameters per tool) with the pure-Python one, a quarter of a second at every start."""

    YAMLError = yaml.YAMLError

    @staticmethod
    def safe_load(stream: Any) -> Any:
        return yaml.load(stream, Loader=yaml.CSafeLoader)


if hasattr(yaml, "CSafeLoader") and hasattr(yaml_loader, "yaml"):
    yaml_loader.yaml = _LibYaml

# The plugin's own log lines (server, route, status, time; never a secret) go to the
# daemon's log as "log" events.
logging.getLogger("sdwebui").addHandler(plugin_logger_handler)
logging.getLogger("sdwebui").setLevel(logging.INFO)

# MAX_REQUEST_TIMEOUT only bounds a connection in serverless mode; the daemon's own
# PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by default) is what ends a local call.
plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=1200))

if __name__ == "__main__":
    plugin.run()
