"""A Dify-free client for AUTOMATIC1111-compatible Stable Diffusion WebUI servers.

Everything the plugin knows about A1111, Forge, reForge and SD.Next lives here:
request models (models.py), the HTTP layer (http.py), the error map (errors.py),
flavour detection (flavour.py), the server's lists and name checks (catalog.py,
names.py, resolve.py), payload builders (payload.py) and result parsing (results.py).
"""
