"""A Dify-free client for AUTOMATIC1111-compatible Stable Diffusion WebUI servers.

Everything the plugin knows about A1111, Forge, reForge and SD.Next lives in this package;
other code imports only what this front door exports. The rooms behind it:

- transport/: the one HTTP layer (net.py: total deadline, checked addresses, bounded bodies),
  the WebUI's settings and answers (http.py, answers.py), and the gate every outgoing body
  passes (gate.py: the trust rules);
- requests/: typed requests (models.py) and their field types (fields.py), loose tool inputs
  -> requests (inputs.py), A1111's infotext (infotext.py), the compact agent request
  (compact.py), LoRA tags (prompt.py), request bodies per flavour (payload.py);
- server/: which server answers (flavour.py), its lists (catalog.py, cache.py), name checks
  (names.py, resolve.py), everything a client can name (resources.py);
- extensions/: ControlNet and ADetailer units, and how they join a request (apply.py);
- jobs/: sd-webui-agent-scheduler's queue (scheduler.py), a task's progress (progress.py);
- images/: picture formats (formats.py), input pictures (sources.py), generation answers
  (results.py), Extras answers (extras.py);
- client.py: WebUIClient, the facade; errors.py: the error tree.
"""

from webui.client import Generation, Prepared, WebUIClient
from webui.errors import (
    AddressRefusal,
    ApiDisabled,
    AuthenticationFailed,
    ExtensionMissing,
    GenerationTimeout,
    InputError,
    InputImageError,
    InvalidParameter,
    InvalidResponse,
    JobFailed,
    QueueStalled,
    RateLimited,
    ServerError,
    ServerFailed,
    ServerRejected,
    ServerTimeout,
    ServerUnreachable,
    UnknownName,
    UnsafeInput,
    WebUIError,
    clip,
)
from webui.extensions.apply import ControlImages
from webui.images.results import GenerationResult, ImageRole, OutputImage, PictureLimit
from webui.images.sources import MAX_INPUT_BYTES, InputBudget, InputImage, download, from_bytes, from_text, too_big
from webui.jobs.progress import ProgressWatcher, new_task_id
from webui.jobs.scheduler import Job, JobState
from webui.requests.compact import txt2img_inputs
from webui.requests.inputs import Inputs, parse_inputs
from webui.requests.models import (
    ExtrasRequest,
    GenerateImageRequest,
    GenerationOptions,
    GenerationRequest,
    Img2ImgRequest,
    InterrogateRequest,
    JobResultRequest,
    PngInfoRequest,
    RequestKind,
    ToolOptions,
    Txt2ImgRequest,
)
from webui.server.cache import TTLCache
from webui.server.catalog import CHOICES
from webui.server.flavour import Band, Family, Flavour
from webui.server.names import Choice
from webui.server.resources import ResourceKind, list_resources, parse_kinds
from webui.transport.http import DEFAULT_TIMEOUT, ServerConfig, redact, shown_url
from webui.transport.net import AddressPolicy, Deadline, NetError, Origin
from webui.units import mib

__all__ = [
    "CHOICES",
    "DEFAULT_TIMEOUT",
    "MAX_INPUT_BYTES",
    "AddressPolicy",
    "AddressRefusal",
    "ApiDisabled",
    "AuthenticationFailed",
    "Band",
    "Choice",
    "ControlImages",
    "Deadline",
    "ExtensionMissing",
    "ExtrasRequest",
    "Family",
    "Flavour",
    "GenerateImageRequest",
    "Generation",
    "GenerationOptions",
    "GenerationRequest",
    "GenerationResult",
    "GenerationTimeout",
    "ImageRole",
    "Img2ImgRequest",
    "InputBudget",
    "InputError",
    "InputImage",
    "InputImageError",
    "Inputs",
    "InterrogateRequest",
    "InvalidParameter",
    "InvalidResponse",
    "Job",
    "JobFailed",
    "JobResultRequest",
    "JobState",
    "NetError",
    "Origin",
    "OutputImage",
    "PictureLimit",
    "PngInfoRequest",
    "Prepared",
    "ProgressWatcher",
    "QueueStalled",
    "RateLimited",
    "RequestKind",
    "ResourceKind",
    "ServerConfig",
    "ServerError",
    "ServerFailed",
    "ServerRejected",
    "ServerTimeout",
    "ServerUnreachable",
    "TTLCache",
    "ToolOptions",
    "Txt2ImgRequest",
    "UnknownName",
    "UnsafeInput",
    "WebUIClient",
    "WebUIError",
    "clip",
    "download",
    "from_bytes",
    "from_text",
    "list_resources",
    "mib",
    "new_task_id",
    "parse_inputs",
    "parse_kinds",
    "redact",
    "shown_url",
    "too_big",
    "txt2img_inputs",
]
