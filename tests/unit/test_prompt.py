"""LoRA / hypernetwork tags in prompts, and the `loras` list."""

import pytest

from webui.errors import InvalidParameter
from webui.requests.prompt import find_tags, lora_tags, parse_lora_list, rename_tags


def test_tags_are_found_with_their_kind():
    prompt = "a cat <lora:add_detail:0.8>, <LYCO:style v2:1:0.5> <hypernet:anime:1> <embedding:x>"
    assert [(t.kind, t.name) for t in find_tags(prompt)] == [
        ("lora", "add_detail"),
        ("lora", "style v2"),
        ("hypernet", "anime"),
    ]


def test_renaming_keeps_weights_and_options():
    prompt = "x <lora:Add_Detail:0.8:te=1> y <lora:Add_Detail>"
    assert (
        rename_tags(prompt, {("lora", "Add_Detail"): "add_detail"})
        == "x <lora:add_detail:0.8:te=1> y <lora:add_detail>"
    )


@pytest.mark.parametrize(
    ("text", "entries"),
    [
        ("add_detail:0.8, animeEyes:0.5", [("add_detail", 0.8), ("animeEyes", 0.5)]),
        ("add_detail\nanimeEyes:-0.3", [("add_detail", 1.0), ("animeEyes", -0.3)]),
        ("<lora:add_detail:0.6>", [("add_detail", 0.6)]),
        ("style: v2:0.7", [("style: v2", 0.7)]),
    ],
)
def test_lora_lists(text, entries):
    assert parse_lora_list(text) == entries


def test_lora_list_without_a_name():
    with pytest.raises(InvalidParameter, match="has no LoRA name"):
        parse_lora_list(":0.5")


def test_tags_from_entries():
    assert lora_tags([("a", 0.8), ("b", 1.0)]) == "<lora:a:0.8> <lora:b:1>"
