"""The facade tools use: check a server, detect its flavour, generate images."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from webui.cache import FLAVOUR_TTL, SHARED_CACHE, TTLCache
from webui.catalog import Catalog
from webui.errors import AuthenticationFailed, InvalidResponse, ServerError
from webui.flavour import Flavour, from_openapi, from_probes
from webui.http import ServerConfig, Transport
from webui.models import GenerationOptions, Img2ImgRequest, Txt2ImgRequest
from webui.payload import build_payload, with_init_images
from webui.resolve import NameResolver
from webui.results import GenerationResult, answer_limit, parse_generation
from webui.safety import check_request
from webui.sources import InputImage

CHECK_TIMEOUT = 15.0
_SHOWN_STRING = 600


def summarize(value: Any) -> Any:
    """A copy safe to show: long strings (base64 images) become '<N characters>'."""
    if isinstance(value, dict):
        return {key: summarize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [summarize(item) for item in value]
    if isinstance(value, str) and len(value) > _SHOWN_STRING:
        return f"<{len(value)} characters>"
    return value


@dataclass
class Generation:
    result: GenerationResult
    payload: dict[str, Any]  # what was sent, with images summarized
    flavour: Flavour
    seconds: float


class WebUIClient:
    def __init__(self, config: ServerConfig, cache: TTLCache = SHARED_CACHE) -> None:
        self.config = config
        self.transport = Transport(config)
        self.catalog = Catalog(self.transport, cache)
        self._cache = cache

    def check(self) -> Flavour:
        """Prove the URL, the credentials and the API work; then detect the flavour."""
        models = self.transport.call("GET", "/sdapi/v1/sd-models", action="list the checkpoints", timeout=CHECK_TIMEOUT)
        if not isinstance(models, list) or not all(isinstance(item, dict) and "title" in item for item in models):
            raise InvalidResponse(
                f"{self.config.base_url}/sdapi/v1/sd-models answered JSON that is not a checkpoint list: "
                "the base URL does not point at an A1111-compatible WebUI."
            )
        return self.flavour()

    def flavour(self) -> Flavour:
        return self._cache.get_or_load((self.config.fingerprint(), "flavour"), FLAVOUR_TTL, self._detect)

    def _optional(self, route: str) -> Any:
        """The route's JSON, or None when the server has no such route (or answers it with
        something else). Unreachable servers, timeouts and refused credentials raise, so that
        a guess made without an answer is never cached."""
        try:
            return self.transport.call("GET", route, action=f"read {route}", timeout=CHECK_TIMEOUT)
        except AuthenticationFailed:
            raise
        except (ServerError, InvalidResponse):
            return None

    def _detect(self) -> Flavour:
        detected = from_openapi(self._optional("/openapi.json"))
        if detected is not None:
            return detected
        samplers = self._optional("/sdapi/v1/samplers")
        return from_probes(
            sdnext_version=isinstance(self._optional("/sdapi/v1/version"), dict),
            sd_modules=isinstance(self._optional("/sdapi/v1/sd-modules"), list),
            schedulers=isinstance(self._optional("/sdapi/v1/schedulers"), list),
            combined_samplers=isinstance(samplers, list)
            and any(isinstance(item, dict) and str(item.get("name", "")).endswith(" Karras") for item in samplers),
        )

    def prepare(
        self,
        request: Txt2ImgRequest | Img2ImgRequest,
        options: GenerationOptions,
        passthrough: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], Flavour]:
        """Check the request against the trust rules and every name against the server,
        then build the body for its flavour."""
        flavour = self.flavour()
        check_request(request, passthrough)
        request, options = NameResolver(self.catalog, flavour).apply(request, options)
        return build_payload(request, options, flavour, passthrough), flavour

    def txt2img(
        self,
        request: Txt2ImgRequest,
        options: GenerationOptions,
        passthrough: dict[str, Any] | None = None,
    ) -> Generation:
        payload, flavour = self.prepare(request, options, passthrough)
        return self._generate("/sdapi/v1/txt2img", "txt2img", payload, flavour, options)

    def img2img(
        self,
        request: Img2ImgRequest,
        options: GenerationOptions,
        passthrough: dict[str, Any] | None = None,
        *,
        init_images: list[InputImage],
        mask: InputImage | None = None,
    ) -> Generation:
        payload, flavour = self.prepare(with_init_images(request, init_images, mask), options, passthrough)
        return self._generate("/sdapi/v1/img2img", "img2img", payload, flavour, options)

    def _generate(
        self,
        route: str,
        name: str,
        payload: dict[str, Any],
        flavour: Flavour,
        options: GenerationOptions,
    ) -> Generation:
        timeout = options.timeout or self.config.timeout
        images = int(payload.get("batch_size", 1)) * int(payload.get("n_iter", 1))
        started = time.monotonic()
        body = self.transport.call(
            "POST",
            route,
            action=f"run {name}",
            payload=payload,
            timeout=timeout,
            max_bytes=answer_limit(images),
            generation=True,
        )
        result = parse_generation(body, images_expected=payload.get("send_images", True) is not False)
        return Generation(result, summarize(payload), flavour, time.monotonic() - started)
