"""img2img and inpainting through the daemon protocol, with Dify file objects served from loopback."""

from __future__ import annotations

import base64
import io
import socket

import pytest
from PIL import Image

from tests.conftest import creds
from tests.files_server import SIGN, dify_file


def picture(size=(96, 80), fmt="PNG", colour=(200, 40, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def mask_picture(size=(96, 80)) -> bytes:
    image = Image.new("L", size, 0)
    image.paste(255, (size[0] // 4, size[1] // 4, size[0] // 2, size[1] // 2))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def decoded_size(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_plain_img2img_from_a_dify_file(plugin, webui, file_server):
    data = picture()
    url = file_server.add("cat.png", data)
    result = plugin.invoke(
        "img2img",
        {"init_image": dify_file(url, "cat.png", size=len(data)), "prompt": "a cat, oil painting", "seed": 42},
        creds(webui),
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert base64.b64decode(sent["init_images"][0]) == data
    assert (sent["width"], sent["height"], sent["denoising_strength"]) == (96, 80, 0.75)
    [file] = result.files
    assert file.filename == "img2img_42.png" and decoded_size(file.data) == (96, 80)
    assert result.variables["seeds"] == [42]


def test_inpainting_uses_the_ui_defaults(plugin, webui, file_server):
    image_url = file_server.add("room.png", picture())
    mask_url = file_server.add("room-mask.png", mask_picture())
    result = plugin.invoke(
        "img2img",
        {
            "init_image": dify_file(image_url, "room.png"),
            "mask": dify_file(mask_url, "room-mask.png"),
            "prompt": "a plant",
        },
        creds(webui),
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert base64.b64decode(sent["mask"]) == mask_picture()
    assert (sent["inpainting_fill"], sent["inpaint_full_res"], sent["inpaint_full_res_padding"]) == (1, False, 32)
    assert "Mask blur: 4" in result.variables["infotexts"][0]


def test_every_inpainting_field_reaches_the_server(plugin, webui, file_server):
    parameters = {
        "init_image_url": file_server.add("i.png", picture()),
        "mask_url": file_server.add("m.png", mask_picture()),
        "prompt": "x",
        "resize_mode": "Crop and resize",
        "mask_blur": "8",
        "mask_round": "false",
        "inpainting_fill": "latent noise",
        "inpaint_full_res": True,
        "inpaint_full_res_padding": 48,
        "inpainting_mask_invert": "inpaint_not_masked",
        "initial_noise_multiplier": "0.9",
        "denoising_strength": "0.4",
    }
    result = plugin.invoke("img2img", parameters, creds(webui, allow_private_image_urls=True))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert {
        key: sent[key] for key in ("resize_mode", "mask_blur", "mask_round", "inpainting_fill", "inpaint_full_res")
    } == {
        "resize_mode": 1,
        "mask_blur": 8,
        "mask_round": False,
        "inpainting_fill": 2,
        "inpaint_full_res": True,
    }
    assert (sent["inpaint_full_res_padding"], sent["inpainting_mask_invert"], sent["initial_noise_multiplier"]) == (
        48,
        1,
        0.9,
    )
    info = result.variables["infotexts"][0]
    assert (
        "Masked content: latent noise" in info
        and "Inpaint area: Only masked" in info
        and "Mask mode: Inpaint not masked" in info
    )


def test_url_input_is_downloaded_by_the_plugin(plugin, webui, file_server):
    data = picture(fmt="JPEG", size=(64, 128))
    url = file_server.add("photo.jpg", data, "image/jpeg")
    result = plugin.invoke(
        "img2img", {"init_image_url": url, "prompt": "x"}, creds(webui, allow_private_image_urls=True)
    )
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert base64.b64decode(sent["init_images"][0]) == data  # not the URL: A1111 refuses local URLs
    assert (sent["width"], sent["height"]) == (64, 128)


@pytest.mark.parametrize("prefix", ["data:image/png;base64,", ""])
def test_data_uri_and_plain_base64(plugin, webui, prefix):
    text = prefix + base64.b64encode(picture(size=(72, 72))).decode()
    result = plugin.invoke("img2img", {"init_image_url": text, "prompt": "x"}, creds(webui))
    assert result.error is None, result.error
    assert decoded_size(result.files[0].data) == (72, 72)


def test_width_and_height_from_variables_override_the_image_size(plugin, webui, file_server):
    url = file_server.add("big.png", picture(size=(200, 120)))
    result = plugin.invoke(
        "img2img", {"init_image": dify_file(url, "big.png"), "width": "512", "height": "768"}, creds(webui)
    )
    assert result.error is None, result.error
    assert decoded_size(result.files[0].data) == (512, 768)


def test_odd_image_size_is_rounded_to_a_multiple_of_8(plugin, webui, file_server):
    url = file_server.add("odd.png", picture(size=(101, 75)))
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "odd.png")}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert (sent["width"], sent["height"]) == (104, 72)


def test_batch_of_init_images_sets_the_batch_size(plugin, webui, file_server):
    files = [dify_file(file_server.add(f"b{i}.png", picture(colour=(i * 60, 0, 0))), f"b{i}.png") for i in range(3)]
    result = plugin.invoke("img2img", {"init_images": files, "seed": 7}, creds(webui))
    assert result.error is None, result.error
    sent = webui.last("/sdapi/v1/img2img").body
    assert len(sent["init_images"]) == 3 and sent["batch_size"] == 3
    assert [f.filename for f in result.files] == ["img2img_7.png", "img2img_8.png", "img2img_9.png"]


def test_a_file_over_the_size_cap_is_refused_before_downloading(plugin, webui, file_server):
    url = file_server.add("huge.png", b"\x89PNG" + b"\0" * 64)
    before = len(file_server.requests)
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "huge.png", size=40 * 1024 * 1024)}, creds(webui))
    assert result.error_type == "InputImageError"
    assert "The init image 'huge.png' is 40.0 MiB; the limit is 32.0 MiB" in result.error_message
    assert len(file_server.requests) == before and webui.requests == []


def test_a_download_over_the_size_cap_is_cut_off(plugin, webui, file_server):
    url = file_server.add("stream.png", picture() + b"\0" * (33 * 1024 * 1024), content_length=False)
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "stream.png", size=1000)}, creds(webui))
    assert result.error_type == "InputImageError" and "the limit is 32.0 MiB" in result.error_message


def test_a_non_image_file_is_refused(plugin, webui, file_server):
    url = file_server.add("notes.pdf", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "application/pdf")
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "notes.pdf", "application/pdf")}, creds(webui))
    assert result.error_type == "InputImageError"
    assert "The init image 'notes.pdf' is a PDF document" in result.error_message
    assert "only PNG, JPEG and WebP images are accepted" in result.error_message
    assert webui.requests == []


def test_unreachable_file_url_explains_files_url(plugin, webui):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = "/files/tools/0b3c2a8e-5f1d-4c3e-9a7b-2d6e8f1a4c5b.png"
    url = f"http://127.0.0.1:{port}{path}?timestamp=1732430000&nonce={'ab12' * 8}&sign={SIGN}"
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "abc.png")}, creds(webui))
    assert result.error_type == "InputImageError"
    assert f"Could not download The init image 'abc.png' from http://127.0.0.1:{port}{path}" in result.error_message
    assert "INTERNAL_FILES_URL" in result.error_message and SIGN not in result.error_message


def test_relative_file_url_means_files_url_is_not_set(plugin, webui):
    result = plugin.invoke("img2img", {"init_image": dify_file("/files/tools/abc.png?sign=x", "abc.png")}, creds(webui))
    assert result.error_type == "InputImageError"
    assert "relative URL (/files/tools/abc.png)" in result.error_message and "FILES_URL" in result.error_message


def test_missing_init_image_is_a_clear_error(plugin, webui):
    result = plugin.invoke("img2img", {"prompt": "x"}, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert "img2img needs an init image" in result.error_message and webui.requests == []


def test_webui_credentials_never_go_to_the_file_server(plugin, secured, file_server):
    url = file_server.add("private.png", picture())
    result = plugin.invoke("img2img", {"init_image": dify_file(url, "private.png")}, creds(secured))
    assert result.error is None, result.error
    assert not any("Authorization" in request for request in file_server.requests)
    assert secured.last("/sdapi/v1/img2img").headers["Authorization"].startswith("Basic ")


def test_returned_masks_are_labelled_not_counted(plugin, webui, file_server):
    parameters = {
        "init_image_url": file_server.add("i2.png", picture()),
        "mask_url": file_server.add("m2.png", mask_picture()),
        "override_settings": '{"return_mask": true, "return_mask_composite": true}',
        "seed": 3,
    }
    result = plugin.invoke("img2img", parameters, creds(webui, allow_private_image_urls=True))
    assert result.error is None, result.error
    assert [f.filename for f in result.files] == ["img2img_3.png", "img2img_extra_1.png", "img2img_extra_2.png"]
    assert result.variables["image_count"] == 1 and result.variables["seeds"] == [3]
    assert [i["role"] for i in result.json[0]["images"]] == ["image", "extra", "extra"]


@pytest.mark.parametrize(
    ("tool", "file_name", "text_name", "extra"),
    [
        ("img2img", "mask", "mask_url", {"init_image_url": "INLINE", "prompt": "x"}),
        ("txt2img", "controlnet_image", "controlnet_image_url", {"prompt": "x"}),
        ("png_info", "image", "image_url", {}),
        ("interrogate", "image", "image_url", {}),
    ],
)
def test_a_picture_given_both_as_file_and_as_text_is_refused(
    plugin, webui, file_server, tool, file_name, text_name, extra
):
    data = picture()
    url = file_server.add("both.png", data)
    inline = base64.b64encode(data).decode()
    parameters = {key: inline if value == "INLINE" else value for key, value in extra.items()}
    parameters |= {file_name: dify_file(url, "both.png", size=len(data)), text_name: inline}
    result = plugin.invoke(tool, parameters, creds(webui))
    assert result.error_type == "InvalidParameter"
    assert f"({file_name}) or as text ({text_name}), not both" in result.error_message
    assert webui.calls("POST") == []
