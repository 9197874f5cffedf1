"""Name matching: exact, then case, then without folder/extension/hash; else the closest names."""

import pytest

from webui.errors import UnknownName
from webui.server.names import Choice, closest, loose_key, resolve

CHECKPOINTS = [
    Choice(
        "sdxl/animagineXL_v31.safetensors [e3c47aedb0]",
        spellings=("sdxl_animagineXL_v31", "e3c47aedb0", "animagineXL_v31.safetensors", "animagineXL_v31"),
    ),
    Choice("v1-5-pruned-emaonly.safetensors [6ce0161689]", spellings=("v1-5-pruned-emaonly",)),
    Choice("sd15/dreamshaper_8.safetensors [879db523c3]", spellings=("sd15_dreamshaper_8",)),
    Choice("sdxl/dreamshaper_xl.safetensors [0f1b80cfe8]", spellings=("sdxl_dreamshaper_xl",)),
]


@pytest.mark.parametrize(
    "typed",
    [
        "sdxl/animagineXL_v31.safetensors [e3c47aedb0]",  # title
        "sdxl_animagineXL_v31",  # model_name
        "animagineXL_v31.safetensors",  # file name
        "AnimagineXL_V31",  # case
        "animagine-xl v31",  # punctuation
        "e3c47aedb0",  # hash
    ],
)
def test_every_usual_spelling_finds_the_checkpoint(typed):
    assert resolve("checkpoint", typed, CHECKPOINTS).value == "sdxl/animagineXL_v31.safetensors [e3c47aedb0]"


def test_unknown_name_lists_closest_and_available():
    with pytest.raises(UnknownName) as raised:
        resolve("checkpoint", "animagine_v3", CHECKPOINTS)
    message = str(raised.value)
    assert message.startswith("Unknown checkpoint 'animagine_v3' (the server would silently ignore it).")
    assert "Closest: sdxl/animagineXL_v31.safetensors [e3c47aedb0]" in message
    assert "Available: sdxl/animagineXL_v31.safetensors [e3c47aedb0], v1-5-pruned-emaonly" in message


def test_ambiguous_loose_match_asks_for_the_full_name():
    choices = [Choice("a/model.safetensors"), Choice("b/model.ckpt")]
    with pytest.raises(UnknownName, match="ambiguous; it matches: a/model.safetensors, b/model.ckpt"):
        resolve("checkpoint", "MODEL", choices)


def test_long_lists_are_cut_with_a_count():
    choices = [Choice(f"model_{i:02d}") for i in range(30)]
    with pytest.raises(UnknownName, match=r"… \(30 in all\)"):
        resolve("checkpoint", "zzz", choices)


def test_empty_list_says_so():
    with pytest.raises(UnknownName, match="the server lists no VAEs at all"):
        resolve("VAE", "x", [])


def test_loose_key_and_closest():
    assert loose_key("sub\\Dream Shaper_8.safetensors [879db523c3]") == "dreamshaper8"
    assert closest("Euler-A", [Choice("Euler a"), Choice("Euler"), Choice("DDIM")])[0] == "Euler a"
