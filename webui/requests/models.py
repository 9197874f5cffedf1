"""Typed requests for the WebUI's generation and Extras routes.

Field names, types and meaning are A1111 1.10.1's (docs/a1111-api.md). A field that
A1111 1.10.1 does not have (a Forge field, a newer A1111 field) is declared with
:func:`only_on`, which names the servers that have it; that is the whole change.
Defaults are this plugin's: where A1111's API default surprises (50 steps, the
inpainting trio) we use what its UI uses; ``None`` means "not sent, the server
decides". Bounds and defaults here are also what the tool YAML shows
(scripts/gen_tools.py reads them). The field types are in webui/requests/fields.py.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from webui.extensions.adetailer import ADetailerInputs
from webui.extensions.controlnet import ControlNetInputs
from webui.requests.fields import (
    CONFIG,
    MAX_PIXELS,
    MAX_PROMPT_CHARS,
    Fraction,
    HiresPixels,
    JsonObject,
    Name,
    Pixels,
    Prompt,
    ScriptArgs,
    Seed,
    Styles,
    choice,
    only_on,
    round_to_8,
)
from webui.transport.http import MAX_TIMEOUT, MIN_TIMEOUT


class RequestKind(StrEnum):
    """The generation routes: /sdapi/v1/<kind> (and the queue's /queue/<kind>)."""

    TXT2IMG = "txt2img"
    IMG2IMG = "img2img"


class ResizeMode(IntEnum):
    just_resize = 0
    crop_and_resize = 1
    resize_and_fill = 2
    just_resize_latent_upscale = 3


class InpaintingFill(IntEnum):
    fill = 0
    original = 1
    latent_noise = 2
    latent_nothing = 3


class MaskInvert(IntEnum):
    inpaint_masked = 0
    inpaint_not_masked = 1


class GenerationRequest(BaseModel):
    """Fields txt2img and img2img share."""

    model_config = CONFIG

    prompt: Prompt = ""
    negative_prompt: Prompt = ""
    styles: Styles | None = None
    seed: Seed = Field(-1, description="-1 = random")
    subseed: Seed | None = Field(None, description="-1 = random")
    subseed_strength: Fraction | None = None
    seed_resize_from_h: int | None = Field(None, ge=-1, le=2 * MAX_PIXELS)
    seed_resize_from_w: int | None = Field(None, ge=-1, le=2 * MAX_PIXELS)
    sampler_name: Name | None = None
    scheduler: Name | None = None
    batch_size: int = Field(1, ge=1, le=16)
    n_iter: int = Field(1, ge=1, le=100)
    steps: int = Field(20, ge=1, le=150)
    cfg_scale: float = Field(7.0, ge=0, le=30)
    # txt2img: 512 by default; img2img: unset is the init image's size
    width: Pixels | None = None
    height: Pixels | None = None
    restore_faces: bool | None = None
    tiling: bool | None = None
    do_not_save_samples: bool | None = None
    do_not_save_grid: bool | None = None
    eta: float | None = Field(None, ge=0, le=1)
    denoising_strength: Fraction | None = None
    s_min_uncond: float | None = Field(None, ge=0, le=100)
    s_churn: float | None = Field(None, ge=0, le=100)
    s_tmax: float | None = Field(None, ge=0)
    s_tmin: float | None = Field(None, ge=0)
    s_noise: float | None = Field(None, ge=0, le=2)
    override_settings: JsonObject | None = None
    override_settings_restore_afterwards: bool | None = None
    refiner_checkpoint: Name | None = None
    refiner_switch_at: Fraction | None = None
    disable_extra_networks: bool | None = None
    firstpass_image: str | None = None
    comments: JsonObject | None = None
    force_task_id: Name | None = None
    sampler_index: Name | None = None
    script_name: Name | None = None
    script_args: ScriptArgs | None = None
    send_images: bool | None = None
    save_images: bool | None = None
    alwayson_scripts: JsonObject | None = None
    infotext: Annotated[str, Field(max_length=4 * MAX_PROMPT_CHARS)] | None = None
    # Forge's guidance for distilled models (Flux); A1111 ignores it.
    distilled_cfg_scale: float | None = only_on("Forge", ge=0, le=30)


class Txt2ImgRequest(GenerationRequest):
    """POST /sdapi/v1/txt2img."""

    width: Pixels = 512
    height: Pixels = 512

    enable_hr: bool | None = None
    firstphase_width: int | None = Field(None, ge=0, le=MAX_PIXELS)
    firstphase_height: int | None = Field(None, ge=0, le=MAX_PIXELS)
    hr_scale: float | None = Field(None, ge=1, le=8)
    hr_upscaler: Name | None = None
    hr_second_pass_steps: int | None = Field(None, ge=0, le=150)
    hr_resize_x: HiresPixels | None = None
    hr_resize_y: HiresPixels | None = None
    hr_checkpoint_name: Name | None = None
    hr_sampler_name: Name | None = None
    hr_scheduler: Name | None = None
    hr_prompt: Prompt | None = None
    hr_negative_prompt: Prompt | None = None


class Img2ImgRequest(GenerationRequest):
    """POST /sdapi/v1/img2img. Width/height unset = the init image's size."""

    init_images: list[str] | None = None
    resize_mode: Annotated[ResizeMode, choice(ResizeMode)] | None = None
    denoising_strength: Fraction = 0.75
    image_cfg_scale: float | None = Field(None, ge=0, le=30)
    mask: str | None = None
    mask_blur_x: int | None = Field(None, ge=0, le=64)
    mask_blur_y: int | None = Field(None, ge=0, le=64)
    mask_blur: int | None = Field(None, ge=0, le=64)
    mask_round: bool | None = None
    # A1111's UI defaults, not its API's (0 "fill", true "only masked", padding 0).
    inpainting_fill: Annotated[InpaintingFill, choice(InpaintingFill)] = InpaintingFill.original
    inpaint_full_res: bool = False
    inpaint_full_res_padding: int = Field(32, ge=0, le=256)
    inpainting_mask_invert: Annotated[MaskInvert, choice(MaskInvert)] | None = None
    initial_noise_multiplier: float | None = Field(None, ge=0, le=1.5)
    latent_mask: str | None = None
    include_init_images: bool | None = None


class AspectRatio(StrEnum):
    square = "1:1"
    portrait = "2:3"
    landscape = "3:2"
    tall = "9:16"
    wide = "16:9"


class ModelFamily(StrEnum):
    auto = "auto"
    sd15 = "SD 1.5"
    sdxl = "SDXL"


# An agent's width/height: rounded to a multiple of 8 instead of refused, at most 2048.
AgentPixels = Annotated[int, Field(ge=64, le=2048), BeforeValidator(round_to_8)]


class GenerateImageRequest(BaseModel):
    """generate_image's own inputs; its other parameters are txt2img's (webui/requests/compact.py)."""

    model_config = CONFIG

    aspect_ratio: Annotated[AspectRatio, choice(AspectRatio)] = AspectRatio.square
    # Unset: a size the model family was trained at, for the aspect ratio.
    width: AgentPixels | None = None
    height: AgentPixels | None = None
    # Pictures to draw, one after another (n_iter: no more VRAM than one).
    count: int = Field(1, ge=1, le=4)
    # Joined before the agent's negative prompt.
    default_negative_prompt: Prompt | None = None
    # Which size class to use; auto reads it from the checkpoint's name.
    model_family: Annotated[ModelFamily, choice(ModelFamily)] = ModelFamily.auto


class ExtrasRequest(BaseModel):
    """POST /sdapi/v1/extra-single-image and extra-batch-images (A1111's "Extras" tab)."""

    model_config = CONFIG

    # 0 = scale by upscaling_resize, 1 = scale to upscaling_resize_w × _h (the tool decides).
    resize_mode: int | None = Field(None, ge=0, le=1)
    show_extras_results: bool | None = None
    gfpgan_visibility: Fraction | None = None
    codeformer_visibility: Fraction | None = None
    codeformer_weight: Fraction | None = None
    upscaling_resize: float = Field(2.0, ge=1, le=8)
    upscaling_resize_w: int | None = Field(None, ge=64, le=4 * MAX_PIXELS)
    upscaling_resize_h: int | None = Field(None, ge=64, le=4 * MAX_PIXELS)
    upscaling_crop: bool | None = None
    upscaler_1: Name | None = None
    upscaler_2: Name | None = None
    extras_upscaler_2_visibility: Fraction | None = None
    upscale_first: bool | None = None


class InterrogateModel(StrEnum):
    clip = "clip"
    deepdanbooru = "deepdanbooru"


class InterrogateRequest(BaseModel):
    """POST /sdapi/v1/interrogate (the image is added by the tool)."""

    model_config = CONFIG

    model: InterrogateModel = InterrogateModel.clip


class PngInfoRequest(BaseModel):
    """POST /sdapi/v1/png-info: nothing but the image, which the tool adds."""

    model_config = CONFIG


class JobResultRequest(BaseModel):
    """The job_result tool: which agent-scheduler task, and how long to wait for it."""

    model_config = CONFIG

    task_id: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
    # Seconds to wait for the job to finish; never longer than the timeout.
    wait: float = Field(30.0, ge=0, le=3600)


class ToolOptions(BaseModel):
    """Inputs every server tool has that are not A1111 request fields."""

    model_config = CONFIG

    # Seconds to wait for the server; unset = the provider's timeout.
    timeout: float | None = Field(None, ge=MIN_TIMEOUT, le=MAX_TIMEOUT)
    # Merged into the request last; keys A1111 does not know pass through unchecked.
    extra_payload: JsonObject | None = None


class GenerationOptions(ToolOptions, ControlNetInputs, ADetailerInputs):  # type: ignore[misc, valid-type]
    """Inputs of the generation tools that are not A1111 request fields, and where they go.

    controlnet_* and adetailer_* become always-on script units (webui/extensions/apply.py)."""

    # override_settings.sd_model_checkpoint, checked against /sdapi/v1/sd-models.
    checkpoint: Name | None = None
    # override_settings.sd_vae (A1111, reForge, SD.Next) or forge_additional_modules (Forge).
    vae: Name | None = None
    # override_settings.CLIP_stop_at_last_layers (A1111 family) or clip_skip (SD.Next).
    clip_skip: int | None = Field(None, ge=1, le=12)
    # "name:0.8, other:0.5": appended to the prompt as <lora:name:0.8> tags, names checked.
    loras: Annotated[str, Field(max_length=8192)] | None = None
    # Stream the WebUI's progress as the `progress` stream variable (glue/progress.py).
    progress: bool = True
    # Hand the job to sd-webui-agent-scheduler's queue and return its task id at once.
    queue: bool = False
