"""Typed inputs: numbers arrive as numbers or strings; bad values fail with the field's name."""

import pytest

from webui.errors import InvalidParameter
from webui.requests.fields import parse_model
from webui.requests.inputs import parse_inputs
from webui.requests.models import Img2ImgRequest, InpaintingFill, ResizeMode, Txt2ImgRequest


def test_numeric_strings_become_numbers():
    request = parse_model(Txt2ImgRequest, {"width": "768", "height": " 512 ", "steps": "30", "cfg_scale": "6.5"})
    assert (request.width, request.height, request.steps, request.cfg_scale) == (768, 512, 30, 6.5)


def test_defaults_follow_the_ui_not_the_api():
    request = parse_model(Txt2ImgRequest, {})
    assert (request.steps, request.width, request.height, request.cfg_scale, request.seed) == (20, 512, 512, 7.0, -1)
    img = parse_model(Img2ImgRequest, {})
    assert (img.inpainting_fill, img.inpaint_full_res, img.inpaint_full_res_padding) == (
        InpaintingFill.original,
        False,
        32,
    )
    assert img.width is None and img.denoising_strength == 0.75


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"width": 700},
            "width = 700: must be a multiple of 8 (A1111 would silently shrink 700 to 696); use 696 or 704",
        ),
        ({"width": 0}, "width = 0: must be at least 64"),
        ({"width": 100000}, "width = 100000: must be at most 4096"),
        ({"height": "tall"}, "height = 'tall': must be a whole number"),
        ({"steps": 7.5}, "steps = 7.5: must be a whole number"),
        ({"seed": -5}, "seed = -5: must be at least -1 (-1 = random)"),
        ({"seed": 2**32}, "seed = 4294967296: must be at most 4294967295"),
        ({"cfg_scale": "nan"}, "cfg_scale = 'nan': must be a finite number"),
        ({"restore_faces": "maybe"}, "restore_faces = 'maybe': must be true or false"),
        ({"denoising_strength": 1.5}, "denoising_strength = 1.5: must be at most 1"),
    ],
)
def test_bad_values_name_the_field_and_the_rule(values, expected):
    with pytest.raises(InvalidParameter) as raised:
        parse_model(Txt2ImgRequest, values)
    assert expected in str(raised.value)


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(InvalidParameter) as raised:
        parse_model(Txt2ImgRequest, {"width": 1, "steps": "many"})
    assert "width = 1" in str(raised.value) and "steps = 'many'" in str(raised.value)


def test_json_parameters_say_where_the_json_is_broken():
    with pytest.raises(InvalidParameter) as raised:
        parse_model(Txt2ImgRequest, {"override_settings": '{"CLIP_stop_at_last_layers": 2,}'})
    assert "override_settings" in str(raised.value)
    assert "is not valid JSON: Expecting property name enclosed in double quotes at line 1, column 32" in str(
        raised.value
    )


def test_json_of_the_wrong_shape_is_refused():
    with pytest.raises(InvalidParameter, match=r"alwayson_scripts.*must be a JSON object .* got a JSON list"):
        parse_model(Txt2ImgRequest, {"alwayson_scripts": "[1, 2]"})
    with pytest.raises(InvalidParameter, match=r"script_args.*must be a JSON array"):
        parse_model(Txt2ImgRequest, {"script_args": '{"a": 1}'})


def test_json_parameters_accept_objects_and_text():
    as_text = parse_model(Txt2ImgRequest, {"override_settings": '{"eta_noise_seed_delta": 31337}'})
    as_object = parse_model(Txt2ImgRequest, {"override_settings": {"eta_noise_seed_delta": 31337}})
    assert as_text.override_settings == as_object.override_settings == {"eta_noise_seed_delta": 31337}


def test_styles_accept_commas_lines_and_json():
    assert parse_model(Txt2ImgRequest, {"styles": "Cinematic, Watercolor"}).styles == ["Cinematic", "Watercolor"]
    assert parse_model(Txt2ImgRequest, {"styles": "Cinematic\nWatercolor"}).styles == ["Cinematic", "Watercolor"]
    assert parse_model(Txt2ImgRequest, {"styles": '["A, with comma"]'}).styles == ["A, with comma"]


def test_choices_accept_names_numbers_and_labels():
    for value in ("crop_and_resize", "Crop and resize", "1", 1):
        assert parse_model(Img2ImgRequest, {"resize_mode": value}).resize_mode is ResizeMode.crop_and_resize
    with pytest.raises(InvalidParameter, match="resize_mode = 'zoom': must be one of just_resize, crop_and_resize"):
        parse_model(Img2ImgRequest, {"resize_mode": "zoom"})


def test_huge_prompt_is_refused_with_its_size():
    with pytest.raises(InvalidParameter, match=r"prompt = .*is too long \(1048576 characters; at most 65536\)"):
        parse_model(Txt2ImgRequest, {"prompt": "a" * 1024 * 1024})


def test_japanese_prompt_is_kept_as_is():
    assert parse_model(Txt2ImgRequest, {"prompt": "桜の木の下の少女、水彩画"}).prompt == "桜の木の下の少女、水彩画"


def test_parse_inputs_drops_empty_fields_but_keeps_empty_prompt():
    inputs = parse_inputs(
        Txt2ImgRequest, {"prompt": "", "sampler_name": "", "width": "", "checkpoint": " ", "seed": None}
    )
    request, options, passthrough = inputs.request, inputs.options, inputs.passthrough
    assert request.prompt == "" and request.sampler_name is None and request.width == 512
    assert options.checkpoint is None and passthrough == {}


def test_extra_payload_known_keys_are_validated_and_win_unknown_pass_through():
    inputs = parse_inputs(
        Txt2ImgRequest,
        {"steps": 20, "extra_payload": '{"steps": "35", "eta": 0.5, "distilled_cfg_scale": "3.5", "pag_scale": 3}'},
    )
    request, passthrough = inputs.request, inputs.passthrough
    assert request.steps == 35 and request.eta == 0.5 and request.distilled_cfg_scale == 3.5  # Forge field
    assert passthrough == {"pag_scale": 3}
    with pytest.raises(InvalidParameter, match="s_noise = 'loud': must be a number"):
        parse_inputs(Txt2ImgRequest, {"extra_payload": {"s_noise": "loud"}})


def test_unknown_tool_input_is_an_error():
    with pytest.raises(InvalidParameter, match="hr_magic: is not a parameter of this tool"):
        parse_inputs(Txt2ImgRequest, {"hr_magic": 1})
