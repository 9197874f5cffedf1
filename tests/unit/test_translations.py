"""The Japanese and Chinese READMEs (and the Japanese guide) are whole translations of the
English ones: same sections, tables and code, every tool and error type, and the same figures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from webui import errors

ROOT = Path(__file__).resolve().parents[2]
READMES = sorted((ROOT / "readme").glob("README_*.md"))
GUIDES = sorted((ROOT / "readme").glob("GUIDE_*.md"))
TOOLS = sorted(path.stem for path in (ROOT / "tools").glob("*.yaml"))
# the error types a user sees; the kinds (InputError, ServerError, ...) are bases for matching
KINDS = {errors.WebUIError, errors.InputError, errors.ServerError}
ERROR_TYPES = sorted(
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.WebUIError) and value not in KINDS
)
BACKTICKED = re.compile(r"`([^`\n]+)`")


def english_of(translation: Path) -> Path:
    """readme/README_ja_JP.md -> README.md"""
    return ROOT / f"{translation.name.split('_')[0]}.md"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def shape(text: str) -> dict[str, int]:
    lines = text.splitlines()
    return {
        "## sections": sum(line.startswith("## ") for line in lines),
        "### sections": sum(line.startswith("### ") for line in lines),
        "table rows": sum(line.startswith("|") for line in lines),
        "code fences": sum(line.lstrip().startswith("```") for line in lines),
    }


def missing_code(english: str, translation: str) -> set[str]:
    """Backticked names, commands and values of the English text that the translation lacks."""
    return {token for token in BACKTICKED.findall(english) if f"`{token}`" not in translation}


def test_there_are_japanese_and_chinese_readmes_and_a_japanese_guide():
    assert [path.name for path in READMES] == ["README_ja_JP.md", "README_zh_Hans.md"]
    assert [path.name for path in GUIDES] == ["GUIDE_ja_JP.md"]


@pytest.mark.parametrize("path", READMES + GUIDES, ids=lambda path: path.name)
def test_a_translation_has_the_english_shape(path):
    assert shape(read(path)) == shape(read(english_of(path)))


@pytest.mark.parametrize("path", [ROOT / "README.md", *READMES], ids=lambda path: path.name)
def test_every_readme_names_every_tool_and_error_type(path):
    text = read(path)
    assert [tool for tool in TOOLS if f"`{tool}`" not in text] == []
    assert [name for name in ERROR_TYPES if f"`{name}`" not in text] == []


@pytest.mark.parametrize("path", READMES + GUIDES, ids=lambda path: path.name)
def test_a_translation_keeps_the_english_code_and_figures(path):
    english = read(english_of(path))
    tokens = set(BACKTICKED.findall(english))
    missing = missing_code(english, read(path))
    # a few backticked English words may be translated; names, commands and values may not
    assert len(missing) <= len(tokens) // 20, sorted(missing)
    table_figures = {line for line in english.splitlines() if re.fullmatch(r"\| `\w+` \| [\d,]+ \| [\d,]+ \|", line)}
    assert table_figures <= set(read(path).splitlines())
