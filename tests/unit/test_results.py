"""Answers are decoded, checked and labelled: grid first, generated images with their seeds, extras last."""

import base64
import io
import json

import pytest
from PIL import Image

from webui.errors import InvalidResponse
from webui.images.results import parse_generation


def png(size=(64, 64), fmt="PNG") -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(out, format=fmt)
    return base64.b64encode(out.getvalue()).decode()


def answer(images, **info):
    return {"images": images, "parameters": {}, "info": json.dumps(info)}


def test_seeds_infotexts_and_formats_are_paired_with_images():
    result = parse_generation(
        answer(
            [png(), png(fmt="JPEG")], all_seeds=[5, 6], all_subseeds=[9, 10], infotexts=["a", "b"], sd_model_name="m"
        )
    )
    assert [(i.role, i.seed, i.subseed, i.infotext, i.image.mime_type) for i in result.images] == [
        ("image", 5, 9, "a", "image/png"),
        ("image", 6, 10, "b", "image/jpeg"),
    ]
    assert result.seeds == [5, 6] and result.model == "m"


def test_grid_and_extra_images_are_labelled_not_counted_as_generated():
    # txt2img_grid_save_images_batch2.json / img2img_mask_return_mask_opts.json layouts
    grid = parse_generation(
        answer([png((128, 64)), png(), png()], all_seeds=[1, 2], index_of_first_image=1, infotexts=["g", "a", "b"])
    )
    assert [(i.role, i.seed, i.infotext) for i in grid.images] == [
        ("grid", None, "g"),
        ("image", 1, "a"),
        ("image", 2, "b"),
    ]
    masks = parse_generation(answer([png(), png(), png()], all_seeds=[7], infotexts=["only one"]))
    assert [i.role for i in masks.images] == ["image", "extra", "extra"] and masks.infotexts == ["only one"]


def test_scheduler_comes_from_extra_generation_params():
    result = parse_generation(
        answer([png()], all_seeds=[1], extra_generation_params={"Schedule type": "Karras"}, sampler_name="DPM++ 2M")
    )
    assert (result.sampler, result.scheduler) == ("DPM++ 2M", "Karras")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([1, 2], "JSON list, not a txt2img/img2img result"),
        ({"parameters": {}}, "has no 'images' list \\(keys: parameters\\)"),
        (answer([]), "without returning any image: the job was probably interrupted or skipped"),
        (answer(["%%%"]), "Image 1 of 1 in the server's answer is not valid base64"),
        (answer([png()[:-40]]), "truncated"),
        (answer([base64.b64encode(b"plain text here").decode()]), "not a PNG, JPEG or WebP image"),
    ],
)
def test_unusable_answers_are_errors(body, message):
    with pytest.raises(InvalidResponse, match=message):
        parse_generation(body)


def test_no_images_is_fine_when_none_were_asked_for():
    assert parse_generation(answer([]), images_expected=False).images == []


def test_base64_strings_are_released_as_they_are_decoded():
    body = answer([png(), png()], all_seeds=[1, 2])
    parse_generation(body)
    assert body["images"] == [None, None]
