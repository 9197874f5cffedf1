from dify_plugin import DifyPluginEnv, Plugin

# MAX_REQUEST_TIMEOUT only bounds a connection in serverless mode; the daemon's own
# PLUGIN_MAX_EXECUTION_TIMEOUT (600 s by default) is what ends a local call.
plugin = Plugin(DifyPluginEnv(MAX_REQUEST_TIMEOUT=1200))

if __name__ == "__main__":
    plugin.run()
