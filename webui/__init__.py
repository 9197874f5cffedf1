"""A Dify-free client for AUTOMATIC1111-compatible Stable Diffusion WebUI servers.

Everything the plugin knows about A1111, Forge, reForge and SD.Next lives here:

- net.py: the one HTTP layer (total deadline, checked addresses, bounded bodies);
  http.py: the WebUI's settings and the Transport that maps answers to errors;
  errors.py: the error kinds; units.py: how sizes are shown;
- fields.py: shared field types and input validation; models.py: typed requests;
  inputs.py: loose tool inputs -> requests; infotext.py: A1111's settings text;
  compact.py: generate_image's few inputs -> a txt2img request;
- flavour.py: which server answers; catalog.py: its lists; names.py, resolve.py:
  name checks; prompt.py: LoRA tags;
- safety.py: the trust rules for request content; sources.py, images.py: input images;
- controlnet.py, adetailer.py: extension units; extensions.py: adds them to a request;
- payload.py: request bodies per flavour; results.py: decoding answers; extras.py:
  upscale, interrogate and PNG info;
- progress.py: a task's progress; scheduler.py: sd-webui-agent-scheduler's queue;
- client.py: the facade the tools use; resources.py: list_resources; cache.py.
"""
