"""The payload builder per flavour: pure, offline, one rule per test."""

import pytest

from webui.errors import InvalidParameter
from webui.extensions.controlnet import queued_units
from webui.images.formats import ImageInfo
from webui.images.sources import InputImage
from webui.requests.fields import parse_model, size_near
from webui.requests.models import GenerationOptions, Img2ImgRequest, Txt2ImgRequest
from webui.requests.payload import build_payload, split_extra, with_init_images
from webui.server.flavour import Family, Flavour

A1111 = Flavour(Family.A1111, "1.10+")
A1111_18 = Flavour(Family.A1111, "1.8-", scheduler_field=False, schedulers_route=False)
FORGE = Flavour(Family.FORGE)
REFORGE = Flavour(Family.REFORGE)
SDNEXT = Flavour(Family.SDNEXT, scheduler_field=False, schedulers_route=False)


def body(flavour, options=None, passthrough=None, **fields):
    request = parse_model(Txt2ImgRequest, fields)
    return build_payload(request, GenerationOptions(**(options or {})), flavour, passthrough)


def test_only_given_fields_and_plugin_defaults_are_sent():
    assert body(A1111, prompt="a cat") == {
        "prompt": "a cat",
        "negative_prompt": "",
        "seed": -1,
        "batch_size": 1,
        "n_iter": 1,
        "steps": 20,
        "cfg_scale": 7.0,
        "width": 512,
        "height": 512,
    }


def test_checkpoint_goes_per_request_through_override_settings():
    sent = body(A1111, {"checkpoint": "sd15.safetensors [abc]"}, override_settings={"eta_noise_seed_delta": 31337})
    assert sent["override_settings"] == {"eta_noise_seed_delta": 31337, "sd_model_checkpoint": "sd15.safetensors [abc]"}
    assert "override_settings_restore_afterwards" not in sent  # A1111's default (true) applies


def test_vae_and_clip_skip_follow_the_flavour():
    assert body(A1111, {"vae": "vae.pt", "clip_skip": 2})["override_settings"] == {
        "sd_vae": "vae.pt",
        "CLIP_stop_at_last_layers": 2,
    }
    assert body(FORGE, {"vae": "/m/ae.safetensors"})["override_settings"] == {
        "forge_additional_modules": ["/m/ae.safetensors"]
    }
    sdnext = body(SDNEXT, {"clip_skip": 2})
    assert sdnext["clip_skip"] == 2 and "override_settings" not in sdnext


def test_old_a1111_gets_no_scheduler_fields():
    sent = body(A1111_18, sampler_name="DPM++ 2M Karras", scheduler="Karras", hr_scheduler="Karras")
    assert "scheduler" not in sent and "hr_scheduler" not in sent
    assert body(A1111, sampler_name="DPM++ 2M", scheduler="Karras")["scheduler"] == "Karras"


def test_hires_fix_always_sends_denoising_strength():
    assert body(A1111, enable_hr=True)["denoising_strength"] == 0.7
    assert body(A1111, enable_hr=True, denoising_strength=0.4)["denoising_strength"] == 0.4
    assert "denoising_strength" not in body(A1111, enable_hr=False)


@pytest.mark.parametrize("flavour", [FORGE, REFORGE])
def test_forge_family_hires_cfg_follows_cfg_scale(flavour):
    assert body(flavour, enable_hr=True, cfg_scale=5.5)["hr_cfg"] == 5.5
    assert body(flavour, passthrough={"hr_cfg": 2.0}, enable_hr=True, cfg_scale=5.5)["hr_cfg"] == 2.0
    assert "hr_cfg" not in body(A1111, enable_hr=True)


def test_forge_hires_needs_additional_modules():
    assert body(FORGE, enable_hr=True)["hr_additional_modules"] == ["Use same choices"]
    assert "hr_additional_modules" not in body(REFORGE, enable_hr=True)
    assert "hr_additional_modules" not in body(FORGE, enable_hr=False)


def test_passthrough_is_merged_last():
    sent = body(FORGE, passthrough={"distilled_cfg_scale": 3.5, "steps": 8}, steps=20)
    assert sent["distilled_cfg_scale"] == 3.5 and sent["steps"] == 8


def test_split_extra_separates_known_fields():
    assert split_extra(Txt2ImgRequest, {"eta": 0.3, "hr_force": True}) == ({"eta": 0.3}, {"hr_force": True})


def image_of(width: int, height: int) -> InputImage:
    return InputImage(b"", ImageInfo("png", width, height))


def test_img2img_size_defaults_to_the_init_image_rounded_to_8():
    assert size_near(1023) == 1024 and size_near(1020) == 1024 and size_near(1019) == 1016 and size_near(10) == 64
    request = parse_model(Img2ImgRequest, {})
    filled = with_init_images(request, [image_of(1023, 677)], None)
    assert (filled.width, filled.height) == (1024, 680)
    given = with_init_images(parse_model(Img2ImgRequest, {"width": 512}), [image_of(1023, 677)], None)
    assert (given.width, given.height) == (512, 680)


def test_several_init_images_fill_the_batch_slots():
    filled = with_init_images(parse_model(Img2ImgRequest, {"batch_size": 1}), [image_of(64, 64)] * 3, None)
    assert filled.batch_size == 3 and len(filled.init_images) == 3


def test_a_size_from_an_image_header_obeys_the_typed_bounds():
    with pytest.raises(InvalidParameter, match=r"the image is 50000×50000 .*for example 1536×1536"):
        with_init_images(parse_model(Img2ImgRequest, {}), [image_of(50000, 50000)], None)
    given = with_init_images(parse_model(Img2ImgRequest, {"width": 512, "height": 512}), [image_of(50000, 50000)], None)
    assert (given.width, given.height) == (512, 512)


IMG2IMG_FIELDS = [
    # (tool input, value given, what A1111 receives)
    ("resize_mode", "resize_and_fill", 2),
    ("denoising_strength", "0.35", 0.35),
    ("image_cfg_scale", "1.5", 1.5),
    ("mask_blur", "6", 6),
    ("mask_blur_x", 3, 3),
    ("mask_blur_y", "5", 5),
    ("mask_round", "false", False),
    ("inpainting_fill", "latent_nothing", 3),
    ("inpaint_full_res", "true", True),
    ("inpaint_full_res_padding", "64", 64),
    ("inpainting_mask_invert", "Inpaint not masked", 1),
    ("initial_noise_multiplier", "0.95", 0.95),
    ("init_images", ["AAAA"], ["AAAA"]),
    ("mask", "BBBB", "BBBB"),
    ("include_init_images", True, True),
    ("latent_mask", "CCCC", "CCCC"),
]


@pytest.mark.parametrize(("field", "given", "sent"), IMG2IMG_FIELDS)
def test_every_img2img_field_reaches_the_payload(field, given, sent):
    request = parse_model(Img2ImgRequest, {field: given})
    assert build_payload(request, GenerationOptions(), A1111)[field] == sent


def test_img2img_fields_are_all_covered():
    shared = set(Txt2ImgRequest.model_fields) & set(Img2ImgRequest.model_fields)
    own = set(Img2ImgRequest.model_fields) - shared | {"denoising_strength"}
    assert own == {field for field, _, _ in IMG2IMG_FIELDS}


def test_img2img_sends_the_ui_inpainting_defaults_and_no_hires_fields():
    sent = build_payload(parse_model(Img2ImgRequest, {"width": 512, "height": 512}), GenerationOptions(), FORGE)
    assert (sent["inpainting_fill"], sent["inpaint_full_res"], sent["inpaint_full_res_padding"]) == (1, False, 32)
    assert sent["denoising_strength"] == 0.75
    assert not any(key.startswith("hr_") or key == "enable_hr" for key in sent)


def test_a_queued_controlnet_unit_carries_its_image_and_mask_together():
    """as_queue_txt2img_controlnet_b64.json / _image_mask_dict.json: agent-scheduler reads unit["image"]["image"]."""
    body = {
        "prompt": "p",
        "alwayson_scripts": {
            "ControlNet": {"args": [{"image": "AAA", "mask": "BBB", "module": "canny"}, {"image": "CCC"}, {}]},
            "ADetailer": {"args": [True]},
        },
    }
    queued = queued_units(body)
    units = queued["alwayson_scripts"]["ControlNet"]["args"]
    assert units == [
        {"image": {"image": "AAA", "mask": "BBB"}, "module": "canny"},
        {"image": {"image": "CCC", "mask": None}},
        {},
    ]
    assert queued["alwayson_scripts"]["ADetailer"] == body["alwayson_scripts"]["ADetailer"]
    assert body["alwayson_scripts"]["ControlNet"]["args"][0]["image"] == "AAA"  # the direct body is untouched
    assert queued_units({"prompt": "p"}) == {"prompt": "p"}
