"""scripts/package.py builds what the daemon accepts and refuses, by name, what it would refuse."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from scripts import package
from scripts.package import PackageError, build, check, package_files
from scripts.signing import generate_key_pair
from tests.daemon import ROOT

PLUGIN_FILES = ["manifest.yaml", "main.py", "requirements.txt", "README.md", "PRIVACY.md", ".difyignore"]


def test_package_holds_the_plugin_and_nothing_else(tmp_path):
    result = subprocess.run(
        [sys.executable, "scripts/package.py", "--output-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text())
    target = tmp_path / f"{manifest['name']}-{manifest['version']}.difypkg"
    assert f"built {target}" in result.stdout
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert all(info.compress_type == zipfile.ZIP_DEFLATED for info in archive.infolist())
    assert names == sorted(names) and not any(name.endswith("/") for name in names)
    for needed in [*PLUGIN_FILES, "provider/sdwebui.yaml", "tools/txt2img.yaml", "webui/client.py", "_assets/icon.svg"]:
        assert needed in names
    for prefix in ("tests/", "scripts/", "spec/", "bench/", ".venv/", ".git/", "dist/"):
        assert not any(name.startswith(prefix) for name in names), prefix
    assert not any("__pycache__" in name for name in names)
    assert sum(archive.getinfo(name).file_size for name in names) < 50 * 1024 * 1024


@pytest.fixture
def plugin_copy(tmp_path) -> Path:
    """A copy of the files that get packaged, to break one at a time."""
    for name in package_files(ROOT):
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    return tmp_path


def edit_yaml(path: Path, change) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: m.update(name="SDWebUI"), "manifest.yaml: name: 'SDWebUI' does not match"),
        (
            lambda m: m.update(author="Me"),
            "manifest.yaml: author: 'Me' does not match ^[a-z0-9_-]{1,64}$ (lower case only)",
        ),
        (lambda m: m.update(version="1.0"), "manifest.yaml: version: '1.0' does not match"),
        (lambda m: m.update(tags=["images"]), "manifest.yaml: tags: 'images' is not one of"),
        (lambda m: m.update(icon="missing.png"), "manifest.yaml: icon: icon 'missing.png' is not in _assets/"),
        (lambda m: m.update(created_at="yesterday"), "manifest.yaml: created_at: 'yesterday' is not an RFC 3339 time"),
        (lambda m: m.pop("resource"), "manifest.yaml: missing required field 'resource'"),
        (lambda m: m["meta"]["runner"].update(version="3.11"), "manifest.yaml: meta.runner.version: must be '3.12'"),
        (
            lambda m: m["meta"]["runner"].update(entrypoint="app"),
            "manifest.yaml: meta.runner.entrypoint: must be 'main'",
        ),
        (lambda m: m["meta"].update(arch=["x86"]), "manifest.yaml: meta.arch"),
        (lambda m: m["label"].update(fr_FR="x"), "language 'fr_FR' is not one of"),
    ],
)
def test_bad_manifest_fields_are_named(plugin_copy, change, message):
    edit_yaml(plugin_copy / "manifest.yaml", change)
    with pytest.raises(PackageError) as raised:
        check(plugin_copy)
    assert message in str(raised.value)


def test_bad_tool_declarations_are_named(plugin_copy):
    def break_tool(tool):
        tool["parameters"][0]["type"] = "text"
        tool["parameters"][1]["form"] = "ui"
        tool["description"].pop("llm")

    edit_yaml(plugin_copy / "tools/txt2img.yaml", break_tool)
    with pytest.raises(PackageError) as raised:
        check(plugin_copy)
    message = str(raised.value)
    assert "tools/txt2img.yaml: parameters[0] (prompt): type 'text' is not one of" in message
    assert "tools/txt2img.yaml: parameters[1] (negative_prompt): form 'ui' is not one of" in message
    assert "tools/txt2img.yaml: description.llm: is required" in message
    assert "SDK: the plugin would not start" in message


def test_two_tool_classes_in_one_file_are_refused(plugin_copy):
    source = plugin_copy / "tools/txt2img.py"
    source.write_text(source.read_text() + "\n\nclass Another(Tool):\n    pass\n")
    with pytest.raises(PackageError, match="must define exactly one Tool subclass"):
        check(plugin_copy)


def test_difyignore_cannot_drop_what_the_plugin_needs(plugin_copy):
    (plugin_copy / ".difyignore").write_text("requirements.txt\n")
    with pytest.raises(PackageError, match="requirements.txt: excluded by .difyignore"):
        check(plugin_copy)


def test_oversized_package_is_refused(plugin_copy):
    (plugin_copy / "_assets" / "huge.bin").write_bytes(b"\0" * (51 * 1024 * 1024))
    with pytest.raises(PackageError, match=r"package: 51\.\d MiB uncompressed, over Dify's 50 MiB limit"):
        check(plugin_copy)


def test_build_command_fails_with_a_clear_message(plugin_copy):
    shutil.copytree(ROOT / "scripts", plugin_copy / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    edit_yaml(plugin_copy / "manifest.yaml", lambda m: m.update(name="Bad Name"))
    result = subprocess.run(
        [sys.executable, "scripts/package.py"], cwd=plugin_copy, capture_output=True, text=True, check=False
    )
    assert result.returncode == 1
    assert "cannot package the plugin:\nmanifest.yaml: name: 'Bad Name' does not match" in result.stderr
    assert not (plugin_copy / "dist").exists()


def param(tool: dict, name: str) -> dict:
    return next(p for p in tool["parameters"] if p["name"] == name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda t: param(t, "resize_mode").update(default="stretch"),
            "(resize_mode).default: 'stretch' is not one of its options",
        ),
        (lambda t: param(t, "resize_mode")["options"][1].update(value=""), "options[1]: needs a non-empty text value"),
        (
            lambda t: param(t, "resize_mode")["options"][1].update(value="just_resize"),
            "(resize_mode).options: values must be unique",
        ),
        (lambda t: param(t, "resize_mode")["options"][0].pop("label"), "options[0].label: needs an en_US text"),
        (lambda t: param(t, "resize_mode").update(options=[]), "(resize_mode): a select needs options"),
        (
            lambda t: param(t, "pick_styles").update(default="Cinematic"),
            "(pick_styles).default: must be a list exactly when multiple is true",
        ),
    ],
)
def test_bad_select_options_and_defaults_are_named(plugin_copy, change, message):
    edit_yaml(plugin_copy / "tools/img2img.yaml", change)
    with pytest.raises(PackageError) as raised:
        check(plugin_copy)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("README_ja.md", "readme/README_ja.md: Dify reads localized READMEs only as readme/README_<lang>.md"),
        ("README-ja_JP.md", "readme/README-ja_JP.md: Dify reads localized READMEs only"),
        ("ja/README_ja_JP.md", "readme/ja/README_ja_JP.md: Dify reads localized READMEs only"),
        ("README_fr_FR.md", "fr_FR is not a language Dify shows"),
    ],
)
def test_misnamed_localized_readmes_are_named(plugin_copy, name, message):
    path = plugin_copy / "readme" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# x\n", encoding="utf-8")
    with pytest.raises(PackageError) as raised:
        check(plugin_copy)
    assert message in str(raised.value)


def test_the_minimum_dify_version_covers_the_sdk_and_the_features(plugin_copy):
    edit_yaml(plugin_copy / "manifest.yaml", lambda m: m["meta"].update(minimum_dify_version="1.6.0"))
    edit_yaml(plugin_copy / "provider/sdwebui.yaml", lambda p: p["identity"].update(icon_dark="dark.svg"))
    with pytest.raises(PackageError) as raised:
        check(plugin_copy)
    message = str(raised.value)
    pinned = next(line for line in (ROOT / "requirements.txt").read_text().splitlines() if "dify_plugin" in line)
    assert f"1.6.0 is lower than the 1.14.2 dify_plugin {pinned.split('==')[1]} needs" in message
    assert "provider/sdwebui.yaml: identity.icon_dark: icon 'dark.svg' is not in _assets/" in message
    edit_yaml(plugin_copy / "manifest.yaml", lambda m: m["meta"].update(minimum_dify_version="1.14"))
    with pytest.raises(PackageError, match="'1.14' is not a Dify version such as 1.14.2"):
        check(plugin_copy)


def test_localized_readmes_are_packaged():
    names = package_files(ROOT)
    assert {"readme/README_ja_JP.md", "readme/README_zh_Hans.md"} <= set(names)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)


def problems(root: Path) -> str:
    with pytest.raises(PackageError) as raised:
        check(root)
    return str(raised.value)


def test_without_git_the_allow_list_packs_what_git_tracks(monkeypatch):
    tracked = package_files(ROOT)
    monkeypatch.setattr(package, "_git_files", lambda root, *options: None)
    assert package_files(ROOT) == tracked, "scripts/package.py ALLOWED no longer matches the tracked files"


@pytest.mark.parametrize("where", ["", "tools/"])
def test_a_key_generated_inside_the_project_is_refused(plugin_copy, where):
    generate_key_pair(plugin_copy / f"{where}mykey")
    message = problems(plugin_copy)
    assert f"{where}mykey.private.pem: named like a private key or secret" in message
    assert f"{where}mykey.public.pem" not in message  # a public key is no secret


def test_with_git_an_untracked_key_and_a_tracked_secret_are_refused(plugin_copy):
    git(plugin_copy, "init", "-q")
    (plugin_copy / "docs" / "notes.md").write_text("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n")
    git(plugin_copy, "add", "-A")
    generate_key_pair(plugin_copy / "mykey")
    message = problems(plugin_copy)
    assert "docs/notes.md: holds a PEM private key; refusing to package it" in message
    assert "mykey.private.pem: named like a private key or secret, inside the project folder; move it out" in message


@pytest.mark.parametrize("name", ["id_rsa", "id_ed25519.pub", "server.key", ".env", ".env.production", "cert.p12"])
def test_secret_looking_names_are_refused(plugin_copy, name):
    (plugin_copy / ".difyignore").write_text("tests/\n")  # .difyignore leaves out .env; without it, refused
    (plugin_copy / "tools" / name).write_text("x\n")
    assert f"tools/{name}: named like a private key or secret; refusing to package it" in problems(plugin_copy)


def test_caches_venvs_build_output_and_a_tilde_folder_are_never_packed(plugin_copy):
    for name in (
        ".mypy_cache/3.12/x.json",
        ".venv/lib/x.py",
        "dist/old.difypkg",
        "~/notes.txt",
        "webui/__pycache__/x.pyc",
    ):
        (plugin_copy / name).parent.mkdir(parents=True, exist_ok=True)
        (plugin_copy / name).write_text("x\n")
    (plugin_copy / ".difyignore").write_text("tests/\n")  # nothing ignores them but the rule
    for tracked in (False, True):
        if tracked:
            git(plugin_copy, "init", "-q")
            git(plugin_copy, "add", "-A", "-f")
        files = package_files(plugin_copy)
        assert "manifest.yaml" in files
        assert not [name for name in files if name.split("/")[0] in (".mypy_cache", ".venv", "dist", "~")]
        assert not [name for name in files if "__pycache__" in name]


def test_the_package_is_byte_identical_across_builds(tmp_path):
    first = build(ROOT, tmp_path / "first")
    os.utime(ROOT / "main.py")  # a newer modification time changes nothing
    second = build(ROOT, tmp_path / "second")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_a_key_prefix_inside_the_project_is_refused():
    result = subprocess.run(
        [sys.executable, "scripts/package.py", "--generate-key", "mykey"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1 and "would lie inside the project" in result.stderr
    assert not (ROOT / "mykey.private.pem").exists()
