"""A finished generation -> Dify messages: one blob per image, a JSON summary, variables, text.

Images only ever leave as blob messages (the SDK streams them in 8 KiB chunks); the
JSON, variable and text messages carry no base64 and are cut to fit the daemon's
line limit (glue/budget.py), keeping seeds, counts and the first infotext whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from glue.budget import bounded, bounded_text
from glue.call import DIFY_MAX_FILE_BYTES
from glue.session import in_agent
from webui import Generation, ImageRole, InvalidResponse, OutputImage, mib

# Never cut from the JSON summary or the variables.
PROTECTED = ("seeds", "subseeds", "seed", "image_count", "width", "height", "filename", "role")


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
        "seeds": result.seeds,
        "subseeds": result.subseeds,
        "infotexts": result.infotexts,
        "model": result.model,
        "sampler": result.sampler,
        "scheduler": result.scheduler,
        "server": {**generation.flavour.describe(), "version": result.version},
        "seconds": round(generation.seconds, 2),
        "parameters": generation.payload,
        "not_returned": skipped,
    }
    if infotext_unused:
        data["infotext_unused"] = infotext_unused  # infotext keys no parameter of this tool takes
    return data


def _text(generation: Generation, files: list[dict[str, Any]], skipped: list[str]) -> str:
    generated = [item for item in files if item["role"] == "image"]
    result = generation.result
    if generated:
        size = f"{generated[0]['width']}×{generated[0]['height']}"
        noun = "image" if len(generated) == 1 else "images"
        text = f"Generated {len(generated)} {noun} ({size}) in {generation.seconds:.1f} s"
        if result.seeds:
            text += ", seed " + ", ".join(str(seed) for seed in result.seeds)
        details = [
            f"{label} {value}"
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


def image_messages(
    tool: Tool, images: list[OutputImage], prefix: str, files: list[dict[str, Any]], skipped: list[str]
) -> Iterator[ToolInvokeMessage]:
    """Every image as a blob (MIME type from its bytes, a file name with its seed or number).

    ``files`` receives a description of each image sent, ``skipped`` a note for each one
    over Dify's file limit; when none fits, that is an error."""
    for image, filename in zip(images, _filenames(prefix, images), strict=True):
        size = len(image.data)
        if size > DIFY_MAX_FILE_BYTES:
            skipped.append(
                f"Image {image.index + 1} ({mib(size)}) was not returned: Dify accepts files up to "
                f"{mib(DIFY_MAX_FILE_BYTES)}. Lower width/height, or set the server's image format "
                "to JPEG or WebP (Settings → Saving images)."
            )
            continue
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
        image.data = b""  # the SDK has copied it into chunks; free it now
    if images and not files:
        raise InvalidResponse(" ".join(skipped))


def generation_messages(
    tool: Tool,
    generation: Generation,
    prefix: str,
    infotext_unused: dict[str, str] | None = None,
    more: dict[str, Any] | None = None,
) -> Iterator[ToolInvokeMessage]:
    """Every image as a blob, then JSON, variables and text; ``more`` joins the JSON and the
    variables. Agent apps get the blobs and the text only."""
    files: list[dict[str, Any]] = []
    skipped: list[str] = []
    yield from image_messages(tool, generation.result.images, prefix, files, skipped)
    if not in_agent(tool):  # an agent's LLM reads every message: the text line says enough
        data = {**summary(generation, files, skipped, infotext_unused or {}), **(more or {})}
        yield from summary_messages(tool, data, {**_variables(generation, files), **(more or {})})
    yield tool.create_text_message(bounded_text(_text(generation, files, skipped)))


def _variables(generation: Generation, files: list[dict[str, Any]]) -> dict[str, Any]:
    result = generation.result
    generated = [item for item in files if item["role"] == "image"]
    return {
        "seed": result.seeds[0] if result.seeds else None,
        "seeds": result.seeds,
        "subseeds": result.subseeds,
        "infotexts": result.infotexts,
        "model": result.model,
        "sampler": result.sampler,
        "scheduler": result.scheduler,
        "width": generated[0]["width"] if generated else None,
        "height": generated[0]["height"] if generated else None,
        "image_count": len(generated),
    }


def summary_messages(tool: Tool, data: dict[str, Any], variables: dict[str, Any]) -> Iterator[ToolInvokeMessage]:
    """The JSON message, then one message per variable that has a value; each cut to fit
    a message line, and the JSON says what was cut."""
    data, notes = bounded(data, protect=PROTECTED)
    if notes:
        data["cut_to_fit"] = notes
    yield tool.create_json_message(data)
    for name, value in variables.items():
        if value is not None:
            yield tool.create_variable_message(name, bounded(value, protect=PROTECTED)[0])
