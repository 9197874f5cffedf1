"""WebUI extensions the plugin drives: ControlNet and ADetailer units (controlnet.py, adetailer.py),
and apply.py, which adds the units a request asks for."""
