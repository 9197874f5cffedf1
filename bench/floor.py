"""The protocol floor: a plugin that only sends given bytes as blob messages, no HTTP.

What it costs to return N bytes of images through the SDK and the daemon protocol,
whatever the plugin does; bench/overhead.py runs it beside the real plugin so that the
share that is ours and the share that is the SDK's framing are each visible.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

MANIFEST = """\
version: 0.0.1
type: plugin
author: bench
name: floor
label: {en_US: Protocol floor}
description: {en_US: Sends files as blob messages.}
icon: icon.svg
resource: {memory: 268435456}
plugins: {tools: [provider.yaml]}
meta: {version: 0.0.1, arch: [amd64], runner: {language: python, version: "3.12", entrypoint: main}}
created_at: "2026-11-24T00:00:00Z"
"""
PROVIDER = """\
identity: {author: bench, name: floor, label: {en_US: Floor}, description: {en_US: Floor}, icon: icon.svg}
tools: [tool.yaml]
extra: {python: {source: provider.py}}
"""
TOOL = """\
identity: {name: emit, author: bench, label: {en_US: Emit}}
description: {human: {en_US: Emit files}, llm: Emit files}
parameters:
  - {name: paths, type: string, required: true, form: llm, label: {en_US: Paths},
     human_description: {en_US: Files to send, one path per line}}
extra: {python: {source: tool.py}}
"""
PROVIDER_PY = """\
from dify_plugin import ToolProvider


class FloorProvider(ToolProvider):
    def _validate_credentials(self, credentials):
        pass
"""
TOOL_PY = """\
from dify_plugin import Tool


class EmitTool(Tool):
    def _invoke(self, tool_parameters):
        for index, path in enumerate(tool_parameters["paths"].splitlines()):
            with open(path, "rb") as file:
                data = file.read()
            yield self.create_blob_message(data, meta={"mime_type": "image/png", "filename": f"{index}.png"})
        yield self.create_text_message("done")
"""
MAIN = """\
from dify_plugin import DifyPluginEnv, Plugin

plugin = Plugin(DifyPluginEnv())

if __name__ == "__main__":
    plugin.run()
"""
ICON = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


def write_floor_plugin() -> Path:
    """A fresh folder holding the floor plugin, ready for `python -m main`."""
    root = Path(tempfile.mkdtemp(prefix="floor-plugin-"))
    files = {
        "manifest.yaml": MANIFEST,
        "provider.yaml": PROVIDER,
        "tool.yaml": TOOL,
        "provider.py": PROVIDER_PY,
        "tool.py": TOOL_PY,
        "main.py": MAIN,
        "_assets/icon.svg": ICON,
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root
