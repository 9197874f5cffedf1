"""A finished call -> Dify messages: the pictures, a JSON summary, variables, text.

Pictures leave as blob messages (the SDK streams them in 8 KiB chunks) or, when the call is
delivered as links, as uploads to Dify's file storage shown by a markdown image each
(glue/delivery.py). JSON, variables and text never carry base64; the gate in
glue/delivery.py cuts them to fit and keeps them from a model that reads the call.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.call import DIFY_MAX_FILE_BYTES
from glue.delivery import Delivery, upload
from webui import Generation, ImageRole, InvalidResponse, OutputImage, clip, mib

# What a model reads of a name or a note the server chose, at most.
_SHORT = 60


def _filenames(prefix: str, images: list[OutputImage]) -> list[str]:
    """<prefix>_<seed>.<ext> (grid, extra_N); a repeated seed gets _2, _3 ... in one pass."""
    names: list[str] = []
    taken: set[str] = set()
    counters: dict[str, int] = {}
    extras = 0
    for image in images:
        if image.role is ImageRole.GRID:
            stem = f"{prefix}_grid"
        elif image.role is ImageRole.EXTRA:
            extras += 1
            stem = f"{prefix}_extra_{extras}"
        else:
            stem = f"{prefix}_{image.seed if image.seed is not None else image.index + 1}"
        name = f"{stem}.{image.image.extension}"
        while name in taken:
            counters[stem] = counters.get(stem, 1) + 1
            name = f"{stem}_{counters[stem]}.{image.image.extension}"
        taken.add(name)
        names.append(name)
    return names


def summary(
    generation: Generation, files: list[dict[str, Any]], skipped: list[str], infotext_unused: dict[str, str]
) -> dict[str, Any]:
    result = generation.result
    data = {
        "images": files,
        **_what_ran(generation),
        "server": {**generation.flavour.describe(), "version": result.version},
        "seconds": round(generation.seconds, 2),
        "parameters": generation.payload,
        "not_returned": skipped,
    }
    if infotext_unused:
        data["infotext_unused"] = infotext_unused  # infotext keys no parameter of this tool takes
    return data


def _text(generation: Generation, files: list[dict[str, Any]], skipped: list[str], names: int = 0) -> str:
    """The text output; with ``names``, the names the server chose cut to that many characters."""
    generated = [item for item in files if item["role"] == "image"]
    result = generation.result
    if generated:
        size = f"{generated[0]['width']}×{generated[0]['height']}"
        noun = "image" if len(generated) == 1 else "images"
        text = f"Generated {len(generated)} {noun} ({size}) in {generation.seconds:.1f} s"
        if result.seeds:
            text += ", seed " + ", ".join(str(seed) for seed in result.seeds)
        details = [
            f"{label} {short(value, names) if names else value}"
            for label, value in (("model", result.model), ("sampler", result.sampler), ("schedule", result.scheduler))
            if value
        ]
        if details:
            text += "; " + ", ".join(details)
        text += "."
    else:
        text = f"The server finished in {generation.seconds:.1f} s and returned no generated image."
    extras = len(files) - len(generated)
    if extras:
        text += f" Also returned {extras} extra image(s) (grid, masks or extension output)."
    for note in skipped:
        text += " " + note
    return text


class Sent:
    """What went out of one call's pictures: a description of each (``files``), a note for
    each one left out (``skipped``) and, delivered as links, a markdown image each (``links``)."""

    def __init__(self) -> None:
        self.files: list[dict[str, Any]] = []
        self.skipped: list[str] = []
        self.links: list[str] = []


def image_messages(
    tool: Tool, delivery: Delivery, images: list[OutputImage], prefix: str, sent: Sent
) -> Iterator[ToolInvokeMessage]:
    """Every image as a blob, or uploaded to Dify when the call is delivered as links (MIME
    type from its bytes, a file name with its seed or number); an image over Dify's file
    limit is left out with a note, and when none fits, that is an error."""
    files, skipped = sent.files, sent.skipped
    for image, filename in zip(images, _filenames(prefix, images), strict=True):
        size = len(image.data)
        if size > DIFY_MAX_FILE_BYTES:
            skipped.append(
                f"Image {image.index + 1} ({mib(size)}) was not returned: Dify accepts files up to "
                f"{mib(DIFY_MAX_FILE_BYTES)}. Lower width/height, or set the server's image format "
                "to JPEG or WebP (Settings → Saving images)."
            )
            continue
        if delivery is Delivery.LINKS:
            url = upload(tool, image.data, filename, image.image.mime_type)
            alt = f"seed {image.seed}" if image.seed is not None and image.role is ImageRole.IMAGE else filename
            sent.links.append(f"![{alt}]({url})")
        else:
            yield tool.create_blob_message(image.data, meta={"mime_type": image.image.mime_type, "filename": filename})
        files.append(
            {
                "filename": filename,
                "mime_type": image.image.mime_type,
                "width": image.image.width,
                "height": image.image.height,
                "bytes": size,
                "role": image.role,
                "seed": image.seed,
                "subseed": image.subseed,
            }
        )
        image.data = b""  # the SDK has copied it into chunks (or it is uploaded); free it now
    if images and not files:
        raise InvalidResponse(" ".join(skipped))


def generation_messages(
    tool: Tool,
    delivery: Delivery,
    generation: Generation,
    prefix: str,
    infotext_unused: dict[str, str] | None = None,
    more: dict[str, Any] | None = None,
) -> Iterator[ToolInvokeMessage]:
    """The pictures, then JSON, variables and text; ``more`` joins the JSON and the variables."""
    sent = Sent()
    yield from image_messages(tool, delivery, generation.result.images, prefix, sent)
    data = {**summary(generation, sent.files, sent.skipped, infotext_unused or {}), **(more or {})}
    variables = {**_variables(generation, sent.files), **(more or {})}
    text = _text(generation, sent.files, sent.skipped)
    brief = _text(generation, sent.files, sent.skipped, names=_SHORT) if delivery.for_a_model else None
    yield from finish(tool, delivery, data, variables, text, sent.links, brief)


def _what_ran(generation: Generation) -> dict[str, Any]:
    """What the JSON summary and the output variables both say of a generation."""
    result = generation.result
    return {
        "seeds": result.seeds,
        "subseeds": result.subseeds,
        "infotexts": result.infotexts,
        "model": result.model,
        "sampler": result.sampler,
        "scheduler": result.scheduler,
    }


def _variables(generation: Generation, files: list[dict[str, Any]]) -> dict[str, Any]:
    result = generation.result
    generated = [item for item in files if item["role"] == "image"]
    return {
        "seed": result.seeds[0] if result.seeds else None,
        **_what_ran(generation),
        "width": generated[0]["width"] if generated else None,
        "height": generated[0]["height"] if generated else None,
        "image_count": len(generated),
    }


def short(value: Any, limit: int = _SHORT) -> str:
    """A name or note the server chose, on one line and at most ``limit`` characters."""
    return clip(str(value), limit)


def finish(
    tool: Tool,
    delivery: Delivery,
    data: dict[str, Any],
    variables: dict[str, Any],
    text: str,
    links: list[str] | None = None,
    brief: str | None = None,
) -> Iterator[ToolInvokeMessage]:
    """A tool node gets the JSON, every variable that has a value and ``text``; a model gets
    one text: a markdown image per uploaded picture, then ``brief`` (or ``text``)."""
    if not delivery.for_a_model:
        yield tool.create_json_message(data)
        for name, value in variables.items():
            if value is not None:
                yield tool.create_variable_message(name, value)
        yield tool.create_text_message(text)
        return
    sentence = brief if brief is not None else text
    if links:
        picture = "picture" if len(links) == 1 else "pictures"
        sentence += f" To show the {picture}, put the image line{'s' if len(links) > 1 else ''} above in your reply."
    yield tool.create_text_message("\n".join([*(links or []), sentence]))
