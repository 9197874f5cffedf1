import logging

from dify_plugin import DifyPluginEnv, Plugin
from dify_plugin.config.logger_format import plugin_logger_handler
from dify_plugin.core.utils import yaml_loader

from glue.startup import FastYaml

# The SDK reads the declarations with yaml_loader.yaml.safe_load; glue/startup.py says why
# this replaces it, and why it must stay.
if hasattr(yaml_loader, "yaml"):
    yaml_loader.yaml = FastYaml

# The plugin's own log lines (server, route, status, time; never a secret) go to the
# daemon's log as "log" events.
logging.getLogger("sdwebui").addHandler(plugin_logger_handler)
logging.getLogger("sdwebui").setLevel(logging.INFO)

# MAX_REQUEST_TIMEOUT only bounds a connection in serverless mode; the daemon's own
# PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by default) is what ends a local call.
plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=1200))

if __name__ == "__main__":
    plugin.run()
