"""upscale, interrogate and png_info: image in, through the webui client, messages out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage
from pydantic import BaseModel

from glue.call import webui_call
from glue.delivery import AGENT_TEXT_BUDGET, Delivery, delivered
from glue.files import ImageLoader, load_image, load_images, take_images, take_one_image
from glue.outputs import Sent, finish, image_messages, short
from glue.pickers import merge_picks
from webui import (
    ExtrasRequest,
    InputImage,
    InterrogateRequest,
    InvalidParameter,
    PngInfoRequest,
    ToolOptions,
    WebUIClient,
    clip,
    parse_inputs,
)

# Of a caption or an infotext, what a model reads at most (the rest of its budget says what it is).
_QUOTED = AGENT_TEXT_BUDGET - 80
_NO_PARAMETERS = "This picture holds no generation parameters (no A1111 infotext in its metadata)."
_NEEDS_AN_IMAGE = "needs a picture: set image (a file) or image_url (an http(s) URL, a data: URI or base64)."


def _one_image(parameters: dict[str, Any], tool: str) -> Any:
    """Pop the image input of a one-picture tool; the one given."""
    value = take_one_image(parameters, "image", "image_url", "the picture")
    if value is None:
        raise InvalidParameter(f"{tool} {_NEEDS_AN_IMAGE}")
    return value


@delivered
def run_upscale(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    with webui_call(tool.runtime.credentials) as client:
        parameters = merge_picks(parameters)
        values = take_images(parameters, "image", "images", "image_url")
        inputs = parse_inputs(ExtrasRequest, parameters, ToolOptions)
        if not values:
            raise InvalidParameter(f"upscale {_NEEDS_AN_IMAGE.replace('image (a file)', 'image or images (files)')}")
        client.limit(inputs.options.timeout)
        images = load_images(values, "image", ImageLoader.of(client))
        upscaled = client.upscale(inputs.request, inputs.options, inputs.passthrough, images)
        sent = Sent()
        yield from image_messages(tool, delivery, upscaled.images, "upscale", sent)
        files, skipped = sent.files, sent.skipped
        first = files[0]
        data = {
            "images": files,
            "upscaler": upscaled.upscaler,
            "html_info": clip(upscaled.html_info, 4000),
            "seconds": round(upscaled.seconds, 2),
            "parameters": upscaled.request,
            "not_returned": skipped,
        }
        variables = {
            "width": first["width"],
            "height": first["height"],
            "image_count": len(files),
            "upscaler": upscaled.upscaler,
        }
        noun = "picture" if len(files) == 1 else "pictures"
        sizes = [f"{item['width']}×{item['height']}" for item in files]
        size = sizes[0] if len(set(sizes)) == 1 else ", ".join(sizes)  # each picture's own when they differ
        text = f"Upscaled {len(files)} {noun} to {size} with {upscaled.upscaler} in {upscaled.seconds:.1f} s."
        brief = f"Upscaled {len(files)} {noun} to {size} with {short(upscaled.upscaler)}."
        if skipped:
            brief += f" {len(skipped)} more were over Dify's file size limit and not returned."
        yield from finish(tool, delivery, data, variables, " ".join([text, *skipped]), sent.links, brief)


@contextmanager
def _one_image_call[R: BaseModel](
    tool: Tool, parameters: dict[str, Any], model: type[R], name: str
) -> Iterator[tuple[WebUIClient, R, InputImage, float]]:
    """What interrogate and png_info share: their client, request, one loaded picture, timeout."""
    with webui_call(tool.runtime.credentials) as client:
        parameters = dict(parameters)
        value = _one_image(parameters, name)
        inputs = parse_inputs(model, parameters, ToolOptions)
        timeout = client.seconds(inputs.options.timeout)
        client.limit(timeout)
        loader = ImageLoader.of(client)
        loader.budget.count(1, "image")
        image = load_image(value, "The image", loader)
        yield client, inputs.request, image, timeout


@delivered
def run_interrogate(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    with _one_image_call(tool, parameters, InterrogateRequest, "interrogate") as (client, request, image, timeout):
        caption, model = client.interrogate(image, request.model, timeout)
        yield from finish(
            tool,
            delivery,
            {"caption": caption, "model": model},
            {"prompt": caption, "caption": caption, "model": model},
            caption,
            brief=f"Caption ({short(model)}): {clip(caption, _QUOTED)}",
        )


@delivered
def run_png_info(tool: Tool, parameters: dict[str, Any], delivery: Delivery) -> Iterator[ToolInvokeMessage]:
    with _one_image_call(tool, parameters, PngInfoRequest, "png_info") as (client, _, image, timeout):
        text, found = client.png_info(image, timeout)
        yield from finish(
            tool,
            delivery,
            {"found": bool(text), "parameters": found.parameters, "other": found.other, "infotext": text},
            {"found": bool(text), "infotext": text, **found.parameters},
            text or _NO_PARAMETERS,
            brief=f"Generation parameters: {clip(text, _QUOTED)}" if text else _NO_PARAMETERS,
        )
