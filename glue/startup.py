"""What the plugin needs before the SDK reads its declarations; nothing here imports the SDK."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml


class FastYaml:
    """What the SDK reads its declarations with (dify_plugin.core.utils.yaml_loader.yaml).

    The SDK parses every tool YAML (four languages, some 80 parameters per tool) with PyYAML's
    pure-Python loader at each start. This reads the JSON copy scripts/gen_tools.py writes beside
    each tool YAML when its SHA-256 matches the YAML's text, and anything else with libyaml's
    loader: the same documents in a small part of the time (bench/cold_start.py). It must stay
    as long as the SDK offers no other way to read the declarations."""

    YAMLError = yaml.YAMLError

    @staticmethod
    def safe_load(stream: Any) -> Any:
        text = stream.read() if hasattr(stream, "read") else stream
        sidecar = Path(f"{getattr(stream, 'name', '')}.json")
        if sidecar.name != ".json" and sidecar.is_file():
            cached = json.loads(sidecar.read_text(encoding="utf-8"))
            if cached.get("sha256") == hashlib.sha256(text.encode("utf-8")).hexdigest():
                return cached["document"]
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
