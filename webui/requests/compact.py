"""generate_image, the compact tool for agents: its few inputs become a txt2img request.

The agent chooses a prompt, an aspect ratio (or a size) and a count; the node settings are
txt2img's own parameters and pass through unchanged. A size the agent leaves out comes from
the aspect ratio and the size class the checkpoint was trained at: SD 1.5 at 512², SDXL and
its kin (Pony, Illustrious, Flux, SD3) at 1024². Far from that size they draw duplicated
limbs and broken compositions.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from webui.requests.fields import parse_model, size_near
from webui.requests.inputs import is_unset
from webui.requests.models import AspectRatio, GenerateImageRequest, ModelFamily

# Sizes each family was trained at (SDXL's published buckets; SD 1.5's 512 base), per ratio.
SIZES: dict[ModelFamily, dict[AspectRatio, tuple[int, int]]] = {
    ModelFamily.sd15: {
        AspectRatio.square: (512, 512),
        AspectRatio.portrait: (512, 768),
        AspectRatio.landscape: (768, 512),
        AspectRatio.tall: (432, 768),
        AspectRatio.wide: (768, 432),
    },
    ModelFamily.sdxl: {
        AspectRatio.square: (1024, 1024),
        AspectRatio.portrait: (832, 1216),
        AspectRatio.landscape: (1216, 832),
        AspectRatio.tall: (768, 1344),
        AspectRatio.wide: (1344, 768),
    },
}
# Checkpoint names that say "1024-class": SDXL and the models built on it, and newer bases.
_LARGE = re.compile(r"xl|pony|illustrious|noob|animagine|flux|sd3|kolors|playground|auraflow|hunyuan", re.IGNORECASE)


def family_of(checkpoint: str) -> ModelFamily:
    """The size class a checkpoint's name suggests; SD 1.5 when it names none."""
    return ModelFamily.sdxl if _LARGE.search(checkpoint) else ModelFamily.sd15


def size_for(
    ratio: AspectRatio, family: ModelFamily, width: int | None = None, height: int | None = None
) -> tuple[int, int]:
    """Width and height: both given win; one given sets the scale; none, the family's size."""
    if width and height:
        return width, height
    across, down = (int(part) for part in ratio.value.split(":"))
    if width:
        return width, size_near(width * down / across)
    if height:
        return size_near(height * across / down), height
    return SIZES[family][ratio]


def txt2img_inputs(inputs: dict[str, Any], current_checkpoint: Callable[[], str | None]) -> dict[str, Any]:
    """generate_image's inputs as txt2img inputs.

    ``current_checkpoint`` is asked only when the size depends on a checkpoint the node
    does not name (the one the server has loaded)."""
    own_names = set(GenerateImageRequest.model_fields)
    own = parse_model(
        GenerateImageRequest,
        {name: value for name, value in inputs.items() if name in own_names and not is_unset(name, value)},
    )
    txt2img = {name: value for name, value in inputs.items() if name not in own_names}
    width, height = own.width, own.height
    if not (width and height):
        family = own.model_family
        if family is ModelFamily.auto:
            checkpoint = txt2img.get("checkpoint")
            named = checkpoint if isinstance(checkpoint, str) and checkpoint.strip() else current_checkpoint()
            family = family_of(named or "")
        width, height = size_for(own.aspect_ratio, family, width, height)
    negatives = [own.default_negative_prompt, txt2img.get("negative_prompt")]
    negative = ", ".join(text.strip() for text in negatives if isinstance(text, str) and text.strip())
    return {**txt2img, "width": width, "height": height, "n_iter": own.count, "negative_prompt": negative}
