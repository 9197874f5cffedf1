"""Rules of the real server that no capture shows, from reading its source (docs/a1111-api.md)."""

from __future__ import annotations

import base64
import io
import json

import pytest
import requests
from PIL import Image

from tests.emulator import Emulator


def png(size=(64, 64)) -> str:
    out = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@pytest.fixture(scope="module")
def server():
    with Emulator("a1111") as emulator:
        yield emulator


def img2img(server: Emulator, **body):
    return requests.post(
        server.url + "/sdapi/v1/img2img", json={"width": 64, "height": 64, "steps": 2, **body}, timeout=30
    )


def test_one_init_image_is_repeated_for_the_batch(server):
    answer = img2img(server, init_images=[png()], batch_size=3)
    assert answer.status_code == 200 and len(answer.json()["images"]) == 3


def test_several_init_images_set_the_batch_size(server):
    answer = img2img(server, init_images=[png(), png()], batch_size=4)
    assert answer.status_code == 200 and len(answer.json()["images"]) == 2
    assert json.loads(answer.json()["info"])["batch_size"] == 2


def test_more_init_images_than_the_batch_is_a_500(server):
    answer = img2img(server, init_images=[png(), png()])
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "RuntimeError",
        "detail": "",
        "body": "",
        "errors": "bad number of images passed: 2; expecting 1 or less",
    }


def test_bad_mask_is_invalid_encoded_image(server):
    answer = img2img(server, init_images=[png()], mask="bm90IGFuIGltYWdl")
    assert answer.status_code == 500 and answer.json()["detail"] == "Invalid encoded image"


def test_results_have_the_requested_size_floored_to_8(server):
    answer = img2img(server, init_images=["data:image/png;base64," + png((50, 50))], width=100, height=70)
    image = Image.open(io.BytesIO(base64.b64decode(answer.json()["images"][0])))
    assert image.size == (96, 64)


@pytest.mark.parametrize("flavour", ["a1111-1.8", "sdnext"])
def test_old_and_sdnext_servers_refuse_unknown_samplers(flavour):
    with Emulator(flavour) as emulator:
        answer = requests.post(emulator.url + "/sdapi/v1/txt2img", json={"sampler_name": "Euler Karras"}, timeout=10)
    assert answer.status_code == 404 and answer.json()["detail"] == "Sampler not found"


def test_forge_hires_without_modules_fails_in_forges_500_shape():
    """The failure is read from Forge's source; the body's shape is recorded (forge/err_500_*.json)."""
    with Emulator("forge") as emulator:
        body = {"enable_hr": True, "denoising_strength": 0.5, "width": 64, "height": 64}
        answer = requests.post(emulator.url + "/sdapi/v1/txt2img", json=body, timeout=10)
    assert answer.status_code == 500
    assert answer.json() == {
        "error": "TypeError",
        "detail": "",
        "body": "",
        "message": "argument of type 'NoneType' is not iterable",
    }


def test_forge_422_uses_pydantic_2():
    with Emulator("forge") as emulator:
        answer = requests.post(emulator.url + "/sdapi/v1/txt2img", json={"steps": 2.5}, timeout=10)
    [item] = answer.json()["detail"]
    assert answer.status_code == 422 and item["type"] == "int_from_float" and item["input"] == 2.5


def test_extension_routes_skip_api_auth():
    with Emulator("a1111", auth={"u": "p"}) as emulator:
        assert requests.get(emulator.url + "/sdapi/v1/loras", timeout=5).status_code == 200
        assert requests.get(emulator.url + "/sdapi/v1/sd-models", timeout=5).status_code == 401
        assert requests.get(emulator.url + "/openapi.json", timeout=5).status_code == 200


LIST_ROUTES = [
    "/sdapi/v1/schedulers",
    "/sdapi/v1/sd-vae",
    "/sdapi/v1/sd-modules",
    "/sdapi/v1/latent-upscale-modes",
    "/sdapi/v1/version",
    "/openapi.json",
]


@pytest.mark.parametrize(
    ("flavour", "served"),
    [
        ("a1111", {"/sdapi/v1/schedulers", "/sdapi/v1/sd-vae", "/sdapi/v1/latent-upscale-modes", "/openapi.json"}),
        ("a1111-1.9", {"/sdapi/v1/sd-vae", "/sdapi/v1/latent-upscale-modes", "/openapi.json"}),
        ("a1111-1.8", {"/sdapi/v1/sd-vae", "/sdapi/v1/latent-upscale-modes", "/openapi.json"}),
        ("forge", {"/sdapi/v1/schedulers", "/sdapi/v1/sd-modules", "/sdapi/v1/latent-upscale-modes", "/openapi.json"}),
        ("reforge", {"/sdapi/v1/schedulers", "/sdapi/v1/sd-vae", "/sdapi/v1/latent-upscale-modes", "/openapi.json"}),
        ("sdnext", {"/sdapi/v1/sd-vae", "/sdapi/v1/version", "/openapi.json"}),  # schedulers: a 500
    ],
)
def test_each_flavour_serves_its_own_lists(flavour, served):
    with Emulator(flavour) as emulator:
        answered = {route for route in LIST_ROUTES if requests.get(emulator.url + route, timeout=5).status_code == 200}
        loras = requests.get(emulator.url + "/sdapi/v1/loras", timeout=5).json()
    assert answered == served
    assert loras[0]["metadata"]["ss_output_name"] == "add_detail"  # LoRAs come with their metadata
