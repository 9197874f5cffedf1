"""A finished generation -> Dify messages: one blob per image, a JSON summary, variables, text.

Images only ever leave as blob messages (the SDK streams them in 8 KiB chunks); the
JSON and text messages carry no base64, so no stdout line comes near the daemon's
5 MiB limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from dify_plugin import Tool
from dify_plugin.entities.tool import ToolInvokeMessage

from webui.client import Generation
from webui.errors import InvalidResponse
from webui.results import OutputImage

# Dify's API refuses a tool file larger than this (core/plugin/utils/chunk_merger.py).
DIFY_MAX_FILE_BYTES = 30 * 1024 * 1024


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _filenames(prefix: str, images: list[OutputImage]) -> list[str]:
    names: list[str] = []
    extras = 0
    for image in images:
        if image.role == "grid":
            stem = f"{prefix}_grid"
        elif image.role == "extra":
            extras += 1
            stem = f"{prefix}_extra_{extras}"
        else:
            stem = f"{prefix}_{image.seed if image.seed is not None else image.index + 1}"
        name, suffix = stem, 2
        while f"{name}.{image.image.extension}" in names:
            name, suffix = f"{stem}_{suffix}", suffix + 1
        names.append(f"{name}.{image.image.extension}")
    return names


def summary(generation: Generation, files: list[dict[str, Any]], skipped: list[str]) -> dict[str, Any]:
    result = generation.result
    return {
        "images": files,
        "seeds": result.seeds,
        "subseeds": result.subseeds,
        "infotexts": result.infotexts,
        "model": result.model,
        "sampler": result.sampler,
        "scheduler": result.scheduler,
        "server": {**generation.flavour.describe(), "version": result.info.get("version")},
        "seconds": round(generation.seconds, 2),
        "parameters": generation.payload,
        "not_returned": skipped,
    }


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


def generation_messages(tool: Tool, generation: Generation, prefix: str) -> Iterator[ToolInvokeMessage]:
    """Every image as a blob (mime type, filename with the seed), then JSON, variables and text."""
    images = generation.result.images
    files: list[dict[str, Any]] = []
    skipped: list[str] = []
    for image, filename in zip(images, _filenames(prefix, images), strict=True):
        size = len(image.data)
        if size > DIFY_MAX_FILE_BYTES:
            skipped.append(
                f"Image {image.index + 1} ({_mib(size)}) was not returned: Dify accepts files up to "
                f"{_mib(DIFY_MAX_FILE_BYTES)}. Lower width/height, or set the server's image format "
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
    result = generation.result
    generated = [item for item in files if item["role"] == "image"]
    yield tool.create_json_message(summary(generation, files, skipped))
    variables: dict[str, Any] = {
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
    for name, value in variables.items():
        if value is not None:
            yield tool.create_variable_message(name, value)
    yield tool.create_text_message(_text(generation, files, skipped))
