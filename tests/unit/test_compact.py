"""generate_image's sizing: which checkpoints are 1024-class, and the sizes per aspect ratio."""

from __future__ import annotations

import pytest

from webui.errors import InvalidParameter
from webui.requests.compact import SIZES, family_of, size_for, txt2img_inputs
from webui.requests.models import AspectRatio, ModelFamily


@pytest.mark.parametrize(
    "name",
    [
        "sd_xl_base_1.0.safetensors [31e35c80fc]",
        "juggernautXL_v9Rdphoto2Lightning.safetensors",
        "RealVisXL_V4.0.safetensors",
        "ponyDiffusionV6XL_v6StartWithThisOne.safetensors",
        "illustrious/waiNSFWIllustrious_v110.safetensors",
        "noobaiXLNAIXL_vPred10Version.safetensors",
        "animagine-xl-3.1.safetensors",
        "flux1-dev-bnb-nf4-v2.safetensors",
        "sd3.5_large.safetensors",
    ],
)
def test_sdxl_and_newer_bases_are_1024_class(name):
    assert family_of(name) is ModelFamily.sdxl


@pytest.mark.parametrize(
    "name",
    ["v1-5-pruned-emaonly.safetensors [6ce0161689]", "meinamix_v11.safetensors", "dreamshaper_8", "anything-v5", ""],
)
def test_other_names_are_sd15_class(name):
    assert family_of(name) is ModelFamily.sd15


def test_every_size_is_a_multiple_of_8_with_the_ratios_shape():
    for family, sizes in SIZES.items():
        assert set(sizes) == set(AspectRatio)
        for ratio, (width, height) in sizes.items():
            across, down = (int(part) for part in ratio.value.split(":"))
            assert width % 8 == 0 and height % 8 == 0
            assert abs(width / height - across / down) < 0.1, (family, ratio)
        assert max(sizes[AspectRatio.square]) == (1024 if family is ModelFamily.sdxl else 512)


def test_given_sizes_win_and_one_side_sets_the_scale():
    assert size_for(AspectRatio.wide, ModelFamily.sdxl, 640, 480) == (640, 480)
    assert size_for(AspectRatio.wide, ModelFamily.sdxl, 1280) == (1280, 720)
    assert size_for(AspectRatio.portrait, ModelFamily.sd15, None, 900) == (600, 900)


def test_the_server_is_asked_only_when_the_size_needs_it():
    asked: list[int] = []

    def loaded() -> str:
        asked.append(1)
        return "ponyDiffusionV6XL.safetensors"

    both = txt2img_inputs({"prompt": "x", "width": 512, "height": 512}, loaded)
    assert (both["width"], both["height"], both["n_iter"]) == (512, 512, 1) and not asked
    named = txt2img_inputs({"prompt": "x", "checkpoint": "dreamshaper_8", "aspect_ratio": "tall"}, loaded)
    assert (named["width"], named["height"]) == (432, 768) and not asked
    server = txt2img_inputs({"prompt": "x", "aspect_ratio": "", "count": "2"}, loaded)
    assert (server["width"], server["height"], server["n_iter"]) == (1024, 1024, 2) and asked == [1]


def test_negative_prompts_join_and_empty_ones_vanish():
    joined = txt2img_inputs(
        {"default_negative_prompt": " lowres ", "negative_prompt": "blurry", "width": 64, "height": 64}, lambda: None
    )
    assert joined["negative_prompt"] == "lowres, blurry"
    alone = txt2img_inputs(
        {"default_negative_prompt": "", "negative_prompt": None, "width": 64, "height": 64}, lambda: None
    )
    assert alone["negative_prompt"] == ""


def test_bad_inputs_name_the_field():
    with pytest.raises(InvalidParameter, match="count"):
        txt2img_inputs({"count": 0}, lambda: None)
