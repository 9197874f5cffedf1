"""ControlNet and ADetailer as first-class inputs, through the daemon protocol."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from tests.conftest import creds
from tests.emulator import Emulator
from tests.files_server import dify_file

BASE = {"prompt": "a dancer", "width": 64, "height": 64, "seed": 11}


def pose(colour=(0, 0, 0), size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def controlnet(webui):
    webui.extensions.add("controlnet")
    return webui


def units_sent(server, title="ControlNet") -> list:
    return server.last("/sdapi/v1/txt2img").body["alwayson_scripts"][title]["args"]


def test_a_control_image_from_a_dify_file_becomes_the_units_image(plugin, controlnet, file_server):
    url = file_server.add("pose.png", pose())
    parameters = {
        **BASE,
        "controlnet_image": dify_file(url, "pose.png"),
        "controlnet_module": "OpenPose_Full",
        "controlnet_model": "control_v11p_sd15_openpose",
        "controlnet_control_mode": "prompt",
        "controlnet_weight": "0.8",
    }
    result = plugin.invoke("txt2img", parameters, creds(controlnet))
    assert result.error is None, result.error
    [unit] = units_sent(controlnet)
    assert base64.b64decode(unit["image"]) == pose()
    assert (unit["enabled"], unit["module"], unit["model"]) == (
        True,
        "openpose_full",
        "control_v11p_sd15_openpose [cab727d4]",
    )
    assert (unit["control_mode"], unit["resize_mode"], unit["weight"]) == (
        "My prompt is more important",
        "Crop and Resize",
        0.8,
    )
    assert 'ControlNet 0: "Module: openpose_full' in result.variables["infotexts"][0]
    # the detected map comes back as an extra image, not a generated one
    assert [file.filename for file in result.files] == ["txt2img_11.png", "txt2img_extra_1.png"]
    assert result.variables["image_count"] == 1 and result.variables["seeds"] == [11]


@pytest.mark.parametrize(
    ("parameters", "fragment"),
    [
        ({"controlnet_module": "opnepose"}, "Unknown ControlNet module (unit 1) 'opnepose'"),
        ({"controlnet_model": "control_v11p_sd15_cany"}, "Closest: control_v11p_sd15_canny [d14c016b]"),
    ],
)
def test_unknown_modules_and_models_are_caught_before_generating(plugin, controlnet, parameters, fragment):
    image = base64.b64encode(pose()).decode()
    result = plugin.invoke("txt2img", {**BASE, "controlnet_image_url": image, **parameters}, creds(controlnet))
    assert result.error_type == "UnknownName" and fragment in result.error_message
    assert controlnet.calls("POST") == []


def test_a_server_without_controlnet_says_how_to_get_it(plugin):
    with Emulator("a1111") as bare:  # a new address: no lists cached
        result = plugin.invoke("txt2img", {**BASE, "controlnet_model": "canny"}, creds(bare))
        assert result.error_type == "ExtensionMissing" and "install sd-webui-controlnet" in result.error_message
        assert bare.calls("POST") == []


def test_several_units_from_json_with_numbered_files(plugin, controlnet, file_server):
    files = [dify_file(file_server.add(f"c{i}.png", pose((i * 90, 0, 0))), f"c{i}.png") for i in range(2)]
    units = [
        {"module": "depth_midas", "model": "control_v11f1p_sd15_depth", "image": 1, "weight": 0.5},
        {"module": "canny", "model": "control_v11p_sd15_canny [d14c016b]", "image": 0, "hr_option": "Low res only"},
    ]
    parameters = {
        **BASE,
        "controlnet_images": files,
        "controlnet_units": json.dumps(units),
        "alwayson_scripts": json.dumps({"controlnet": {"args": [{"enabled": False}]}}),
    }
    result = plugin.invoke("txt2img", parameters, creds(controlnet))
    assert result.error is None, result.error
    sent = controlnet.last("/sdapi/v1/txt2img").body["alwayson_scripts"]
    assert list(sent) == ["controlnet"]  # the user's own entry, merged
    args = sent["controlnet"]["args"]
    assert [arg.get("module") for arg in args] == ["depth_midas", "canny", None]
    assert base64.b64decode(args[0]["image"]) == pose((90, 0, 0)) and base64.b64decode(args[1]["image"]) == pose()
    assert args[1]["hr_option"] == "Low res only" and args[2] == {"enabled": False}
    assert len([f for f in result.files if "extra" in f.filename]) == 2


def test_more_units_than_the_server_has_slots_are_refused(plugin, controlnet):
    image = base64.b64encode(pose()).decode()
    units = [{"module": "canny", "image": image}] * 4
    result = plugin.invoke("txt2img", {**BASE, "controlnet_units": json.dumps(units)}, creds(controlnet))
    assert result.error_type == "InvalidParameter"
    assert "4 ControlNet units but the server has 3 slot(s)" in result.error_message
    assert "control_net_unit_count" in result.error_message and controlnet.calls("POST") == []


def test_a_bad_unit_index_or_image_is_an_error(plugin, controlnet):
    result = plugin.invoke(
        "txt2img", {**BASE, "controlnet_units": '[{"module": "canny", "image": 2}]'}, creds(controlnet)
    )
    assert result.error_type == "InvalidParameter" and "controlnet_units[0].image is 2" in result.error_message
    path = '[{"module": "canny", "image": "/home/webui/secret.png"}]'
    result = plugin.invoke("txt2img", {**BASE, "controlnet_units": path}, creds(controlnet))
    assert result.error_type == "InputImageError" and controlnet.calls("POST") == []


def test_forge_gets_its_built_in_controlnets_unit_shape(plugin, make_webui):
    forge = make_webui("forge", False)
    image = base64.b64encode(pose()).decode()
    parameters = {**BASE, "controlnet_image_url": image, "controlnet_model": "Control_V11P_SD15_Canny"}
    units = json.dumps([{"module": "canny", "model": "control_v11p_sd15_openpose", "image": image, "mask": image}])
    result = plugin.invoke("txt2img", {**parameters, "controlnet_units": units}, creds(forge))
    assert result.error is None, result.error
    typed, listed = forge.last("/sdapi/v1/txt2img").body["alwayson_scripts"]["ControlNet"]["args"]
    # Forge lists its models with hashes and takes them so (forge/cn_model_list.json, cn_txt2img_one_unit.json)
    assert (typed["module"], typed["model"], typed["enabled"]) == ("None", "control_v11p_sd15_canny [d14c016b]", True)
    assert "mask" not in listed and base64.b64decode(listed["mask_image"]) == pose()
    assert len(result.files) == 3  # the picture and two detected maps (Forge's extra_images)


def test_agent_chosen_controlnet_json_cannot_read_server_files_or_unpickle(plugin, controlnet):
    for unit, fragment in (
        ({"module": "canny", "enabled": True, "image": "/etc/ssl/private/key.png"}, "file path"),
        ({"module": "ip-adapter_clip_sd15", "ipadapter_input": "gASVAAAA"}, "unpickled"),
    ):
        scripts = json.dumps({"ControlNet": {"args": [unit]}})
        result = plugin.invoke("txt2img", {**BASE, "alwayson_scripts": scripts}, creds(controlnet))
        assert result.error_type == "UnsafeInput" and fragment in result.error_message
    assert controlnet.calls("POST") == []


@pytest.mark.parametrize(
    ("parameter", "expected"),
    [("pick_controlnet_module", "openpose_full"), ("pick_controlnet_model", "control_v11p_sd15_canny [d14c016b]")],
)
def test_controlnet_pickers_list_the_servers_names(plugin, controlnet, parameter, expected):
    result = plugin.fetch_options("img2img", parameter, creds(controlnet))
    assert expected in [option["value"] for option in result.stream[0]["options"]]


# --- ADetailer -------------------------------------------------------------------------------


@pytest.fixture
def adetailer(webui):
    webui.extensions.add("adetailer")
    return webui


def test_adetailer_model_is_checked_and_its_args_are_in_place(plugin, adetailer):
    parameters = {
        **BASE,
        "adetailer_model": "Face_YOLOv8n",
        "adetailer_prompt": "smiling face",
        "adetailer_denoising_strength": "0.35",
        "adetailer_units": '[{"ad_model": "hand_yolov8n.pt", "ad_confidence": 0.5}]',
    }
    result = plugin.invoke("txt2img", parameters, creds(adetailer))
    assert result.error is None, result.error
    enable, skip, face, hands = units_sent(adetailer, "ADetailer")
    assert (enable, skip) == (True, False)
    assert (face["ad_model"], face["ad_prompt"], face["ad_denoising_strength"]) == (
        "face_yolov8n.pt",
        "smiling face",
        0.35,
    )
    assert (hands["ad_model"], hands["ad_confidence"]) == ("hand_yolov8n.pt", 0.5)
    infotext = result.variables["infotexts"][0]
    assert "ADetailer model: face_yolov8n.pt" in infotext and "ADetailer model 2nd: hand_yolov8n.pt" in infotext


@pytest.mark.parametrize(
    ("parameters", "error_type", "fragment"),
    [
        ({"adetailer_model": "face_yolov9.pt"}, "UnknownName", "Closest: face_yolov8s.pt, face_yolov8n.pt"),
        (
            {"adetailer_units": '[{"ad_model": "face_yolov8n.pt", "ad_mask_k_largest": 1}]'},
            "InvalidParameter",
            "adetailer_units[0].ad_mask_k_largest: is not a parameter of this tool",
        ),
    ],
)
def test_adetailer_mistakes_are_caught_before_generating(plugin, adetailer, parameters, error_type, fragment):
    result = plugin.invoke("txt2img", {**BASE, **parameters}, creds(adetailer))
    assert result.error_type == error_type and fragment in result.error_message
    assert adetailer.calls("POST") == []


def test_more_adetailer_units_than_tabs_are_refused(plugin):
    with Emulator("a1111") as server:  # a new address: its script list is read fresh
        server.extensions.add("adetailer")
        units = '[{"ad_model": "hand_yolov8n.pt"}, {"ad_model": "person_yolov8n-seg.pt"}]'
        parameters = {**BASE, "adetailer_model": "face_yolov8n.pt", "adetailer_units": units}
        result = plugin.invoke("txt2img", parameters, creds(server))
        assert (
            result.error_type == "InvalidParameter"
            and "3 ADetailer units but the server has 2 slot(s)" in result.error_message
        )
        assert "ad_max_models" in result.error_message and server.calls("POST") == []


def test_a_server_without_adetailer_says_how_to_get_it(plugin):
    with Emulator("a1111") as bare:
        result = plugin.invoke(
            "img2img", {"init_image_url": base64.b64encode(pose()).decode(), "adetailer_model": "x"}, creds(bare)
        )
        assert result.error_type == "ExtensionMissing" and "ADetailer is not installed" in result.error_message
        assert bare.calls("POST") == []


def test_adetailer_picker(plugin, adetailer):
    result = plugin.fetch_options("txt2img", "pick_adetailer_model", creds(adetailer))
    assert "hand_yolov8n.pt" in [option["value"] for option in result.stream[0]["options"]]
