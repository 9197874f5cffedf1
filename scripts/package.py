"""Build dist/<name>-<version>.difypkg the way `dify plugin package` does, refusing what Dify refuses.

    python scripts/package.py [--output-dir dist] [--check] [--sign PRIVATE_KEY.pem]
    python scripts/package.py --generate-key PREFIX

The package is a plain zip (Deflate, sorted paths, no directory entries, fixed times: the
same bytes on every build) of the files git tracks (without git: the ALLOWED list), less
those .difyignore matches (gitignore syntax; .gitignore only when .difyignore is missing)
and never a cache, venv, dist/ or `~` folder. A private key or secret-looking file, by
name or by a PEM private-key block inside, is refused, packaged or only lying in the
project. Before writing it, the manifest, the provider and tool declarations and the
assets are checked with the daemon's rules (docs/dify-protocol.md, "Packaging") and loaded with the
SDK's own models; any problem names the file and the field.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pathspec
import yaml

ROOT = Path(__file__).resolve().parent.parent
MAX_UNCOMPRESSED = 50 * 1024 * 1024
VERSION = re.compile(r"^\d{1,4}(\.\d{1,4}){2}(-\w{1,16})?$")
PLUGIN_NAME = re.compile(r"^[a-z0-9_-]{1,128}$")
AUTHOR = re.compile(r"^[a-z0-9_-]{1,64}$")
IDENTITY = re.compile(r"^[a-zA-Z0-9_-]+$")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
TAGS = {
    "search", "image", "videos", "weather", "finance", "design", "travel", "social", "news", "medical",
    "productivity", "education", "business", "entertainment", "utilities", "agent", "rag", "other", "trigger",
}  # fmt: skip
I18N_KEYS = {"en_US", "zh_Hans", "pt_BR", "ja_JP"}
PARAMETER_TYPES = {
    "string", "number", "boolean", "select", "secret-input", "file", "files", "model-selector", "app-selector",
    "checkbox", "any", "object", "array", "dynamic-select", "date", "date-range",
}  # fmt: skip
FORMS = {"schema", "form", "llm"}
CREDENTIAL_TYPES = {"secret-input", "text-input", "select", "boolean", "model-selector", "app-selector", "array[tools]"}
SCOPED_TYPES = {"app-selector", "model-selector", "any"}
PYTHON_RUNNER = "3.12"
SELECTS = {"select", "dynamic-select"}
# Dify's localized READMEs: readme/README_<lang>.md (the daemon skips other names silently).
README_NAME = re.compile(r"^README_([a-z]{2}_[A-Za-z]{2,})\.md$")
# The Dify version each dify_plugin release needs (the SDK README's "Meta.MinimumDifyVersion
# Reference"), newest first, and what some declared features need.
SDK_MINIMUM_DIFY = [
    ("0.9.0", "1.14.2"), ("0.8.1", "1.14.0"), ("0.7.0", "1.11.0"), ("0.6.0", "1.10.0"), ("0.5.0", "1.9.0"),
    ("0.4.4", "1.8.1"), ("0.4.2", "1.7.0"), ("0.4.1", "1.6.0"), ("0.4.0", "1.5.1"), ("0.2.0", "1.2.0"),
]  # fmt: skip
FEATURE_MINIMUM_DIFY = {"dynamic-select parameters": "1.5.1", "icon_dark": "1.6.0"}
# What may be packaged when git cannot list the tracked files (a copy of the sources).
ALLOWED = [
    ".difyignore", ".env.example", "GUIDE.md", "PRIVACY.md", "README.md", "main.py", "manifest.yaml",
    "requirements.txt", "_assets", "docs", "glue", "provider", "readme", "tools", "webui",
]  # fmt: skip
# Folders never packaged, whatever is tracked or allowed ("~": a key path a shell did not expand).
NEVER_PACKED = {
    ".git", ".venv", "venv", "dist", "~", ".mypy_cache", ".pytest_cache", ".ruff_cache", "__pycache__",
    "node_modules", ".idea", ".vscode",
}  # fmt: skip
SECRET_NAME = re.compile(
    r"(^id_(rsa|dsa|ecdsa|ed25519)|\.(key|p12|pfx|jks|keystore|kdbx|ppk)$|\.private\.pem$|^\.env(\..*)?$"
    r"|^\.(netrc|pypirc|npmrc)$|^credentials\.json$)",
    re.IGNORECASE,
)
SECRET_NAME_EXCEPTIONS = {".env.example"}
PEM_PRIVATE_KEY = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


class PackageError(Exception):
    pass


class Checker:
    """Collects every problem instead of stopping at the first."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[str] = []
        self.features: set[str] = set()  # declared features with a minimum Dify version

    def fail(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def load(self, relative: str) -> Any:
        path = self.root / relative
        if not path.is_file():
            self.fail(relative, "file not found")
            return None
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            self.fail(relative, f"invalid YAML: {error}")
            return None

    def i18n(self, where: str, value: Any, required: bool = True) -> None:
        if value is None and not required:
            return
        if not isinstance(value, dict) or not value.get("en_US"):
            self.fail(where, "needs an en_US text")
            return
        for key, text in value.items():
            if key not in I18N_KEYS:
                self.fail(where, f"language {key!r} is not one of {sorted(I18N_KEYS)} (Dify drops it)")
            elif not isinstance(text, str) or len(text) >= 1024:
                self.fail(f"{where}.{key}", "must be text shorter than 1024 characters")

    def asset(self, where: str, name: Any) -> None:
        if not name:
            self.fail(where, "no icon given")
        elif not (self.root / "_assets" / str(name)).is_file():
            self.fail(where, f"icon {name!r} is not in _assets/")

    def manifest(self) -> dict[str, Any]:
        data = self.load("manifest.yaml") or {}
        for key in (
            "version",
            "type",
            "author",
            "name",
            "label",
            "description",
            "icon",
            "resource",
            "plugins",
            "meta",
            "created_at",
        ):
            if key not in data:
                self.fail("manifest.yaml", f"missing required field {key!r}")
        if data.get("type") != "plugin":
            self.fail("manifest.yaml: type", "must be 'plugin'")
        if not VERSION.match(str(data.get("version", ""))):
            self.fail("manifest.yaml: version", f"{data.get('version')!r} does not match {VERSION.pattern}")
        if not PLUGIN_NAME.match(str(data.get("name", ""))):
            self.fail("manifest.yaml: name", f"{data.get('name')!r} does not match {PLUGIN_NAME.pattern}")
        if not AUTHOR.match(str(data.get("author", ""))):
            self.fail(
                "manifest.yaml: author", f"{data.get('author')!r} does not match {AUTHOR.pattern} (lower case only)"
            )
        self.i18n("manifest.yaml: label", data.get("label"))
        self.i18n("manifest.yaml: description", data.get("description"))
        self.asset("manifest.yaml: icon", data.get("icon"))
        if data.get("icon_dark"):
            self.asset("manifest.yaml: icon_dark", data["icon_dark"])
        memory = (data.get("resource") or {}).get("memory")
        if not isinstance(memory, int) or isinstance(memory, bool) or memory <= 0:
            self.fail("manifest.yaml: resource.memory", "must be a positive number of bytes")
        if not RFC3339.match(str(data.get("created_at", ""))):
            self.fail("manifest.yaml: created_at", f"{data.get('created_at')!r} is not an RFC 3339 time")
        for tag in data.get("tags") or []:
            if tag not in TAGS:
                self.fail("manifest.yaml: tags", f"{tag!r} is not one of {sorted(TAGS)}")
        if data.get("repo") and not re.match(r"^https?://", str(data["repo"])):
            self.fail("manifest.yaml: repo", "must be a URL")
        if data.get("privacy") and not (self.root / str(data["privacy"])).is_file():
            self.fail("manifest.yaml: privacy", f"{data['privacy']} not found")
        meta = data.get("meta") or {}
        if not VERSION.match(str(meta.get("version", ""))):
            self.fail("manifest.yaml: meta.version", f"{meta.get('version')!r} does not match {VERSION.pattern}")
        arch = meta.get("arch") or []
        if not arch or not set(arch) <= {"amd64", "arm64"}:
            self.fail("manifest.yaml: meta.arch", "must list amd64 and/or arm64")
        minimum = str(meta.get("minimum_dify_version") or "")
        if not re.fullmatch(r"\d+\.\d+\.\d+", minimum):
            self.fail("manifest.yaml: meta.minimum_dify_version", f"{minimum!r} is not a Dify version such as 1.14.2")
        if data.get("icon_dark"):
            self.features.add("icon_dark")
        runner = meta.get("runner") or {}
        if runner.get("language") != "python":
            self.fail("manifest.yaml: meta.runner.language", "must be 'python'")
        if str(runner.get("version")) != PYTHON_RUNNER:
            self.fail("manifest.yaml: meta.runner.version", f"must be {PYTHON_RUNNER!r} (dify-plugin ≥ 0.8 needs it)")
        entrypoint = str(runner.get("entrypoint", ""))
        if entrypoint != "main" or not (self.root / "main.py").is_file():
            self.fail("manifest.yaml: meta.runner.entrypoint", "must be 'main', with main.py at the top level")
        plugins = data.get("plugins") or {}
        other = [kind for kind in ("models", "agent_strategies", "datasources", "triggers") if plugins.get(kind)]
        if not plugins.get("tools") or other:
            self.fail("manifest.yaml: plugins", "a tool plugin declares tools (and optionally endpoints) only")
        if not (self.root / "README.md").is_file():
            self.fail("README.md", "missing (Dify shows it as the plugin's page)")
        return data

    def provider(self, relative: str) -> None:
        data = self.load(relative) or {}
        identity = data.get("identity") or {}
        if not IDENTITY.match(str(identity.get("name", ""))):
            self.fail(f"{relative}: identity.name", f"must match {IDENTITY.pattern}")
        self.i18n(f"{relative}: identity.label", identity.get("label"))
        self.i18n(f"{relative}: identity.description", identity.get("description"))
        self.asset(f"{relative}: identity.icon", identity.get("icon"))
        if identity.get("icon_dark"):
            self.asset(f"{relative}: identity.icon_dark", identity["icon_dark"])
            self.features.add("icon_dark")
        for tag in identity.get("tags") or []:
            if tag not in TAGS - {"agent", "trigger"}:
                self.fail(f"{relative}: identity.tags", f"{tag!r} is not a tool tag")
        for name, credential in (data.get("credentials_for_provider") or {}).items():
            where = f"{relative}: credentials_for_provider.{name}"
            if credential.get("type") not in CREDENTIAL_TYPES:
                self.fail(where, f"type {credential.get('type')!r} is not one of {sorted(CREDENTIAL_TYPES)}")
            self.i18n(f"{where}.label", credential.get("label"))
            for key in ("help", "placeholder"):
                self.i18n(f"{where}.{key}", credential.get(key), required=False)
        self.python_source(relative, data, "ToolProvider")
        for tool in data.get("tools") or []:
            self.tool(str(tool))

    def tool(self, relative: str) -> None:
        data = self.load(relative) or {}
        identity = data.get("identity") or {}
        if not IDENTITY.match(str(identity.get("name", ""))):
            self.fail(f"{relative}: identity.name", f"must match {IDENTITY.pattern}")
        self.i18n(f"{relative}: identity.label", identity.get("label"))
        description = data.get("description") or {}
        self.i18n(f"{relative}: description.human", description.get("human"))
        if not description.get("llm"):
            self.fail(f"{relative}: description.llm", "is required")
        for index, param in enumerate(data.get("parameters") or []):
            where = f"{relative}: parameters[{index}] ({param.get('name')})"
            kind = param.get("type")
            if kind not in PARAMETER_TYPES:
                self.fail(where, f"type {kind!r} is not one of {sorted(PARAMETER_TYPES)}")
            if param.get("form") not in FORMS:
                self.fail(where, f"form {param.get('form')!r} is not one of {sorted(FORMS)}")
            if "scope" in param and kind not in SCOPED_TYPES:
                self.fail(where, "scope is only allowed on app-selector, model-selector and any")
            if param.get("multiple") and kind not in ("select", "dynamic-select"):
                self.fail(where, "multiple is only valid on select and dynamic-select")
            if kind in ("file", "files") and param.get("required"):
                self.fail(where, "file parameters must not be required (agents cannot pass files)")
            self.i18n(f"{where}.label", param.get("label"))
            self.i18n(f"{where}.human_description", param.get("human_description"))
            if kind in SELECTS:
                self.options(where, param)
            if kind == "dynamic-select":
                self.features.add("dynamic-select parameters")
        self.python_source(relative, data, "Tool")

    def options(self, where: str, param: dict[str, Any]) -> None:
        """What the SDK and the api check on select options and defaults."""
        options = param.get("options") or []
        if param.get("type") == "select" and not options:
            self.fail(where, "a select needs options")
        values = []
        for index, option in enumerate(options):
            value = option.get("value") if isinstance(option, dict) else None
            if not isinstance(value, str) or not value:
                self.fail(f"{where}.options[{index}]", "needs a non-empty text value")
                continue
            values.append(value)
            self.i18n(f"{where}.options[{index}].label", option.get("label"))
        if len(values) != len(set(values)):
            self.fail(f"{where}.options", "values must be unique")
        default = param.get("default")
        if default is None:
            return
        if isinstance(default, list) != bool(param.get("multiple")):
            self.fail(f"{where}.default", "must be a list exactly when multiple is true")
        elif param.get("type") == "select":
            for item in default if isinstance(default, list) else [default]:
                if item not in values:
                    self.fail(f"{where}.default", f"{item!r} is not one of its options {values}")

    def readmes(self) -> None:
        """readme/README_<lang>.md beside the English README.md, named as the daemon reads them."""
        folder = self.root / "readme"
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            relative = path.relative_to(self.root).as_posix()
            if path.is_dir() or not path.name.upper().startswith("README"):
                continue
            match = README_NAME.match(path.name)
            if path.parent != folder or not match:
                self.fail(
                    relative, "Dify reads localized READMEs only as readme/README_<lang>.md, e.g. README_ja_JP.md"
                )
            elif match.group(1) not in I18N_KEYS - {"en_US"}:
                self.fail(relative, f"{match.group(1)} is not a language Dify shows ({sorted(I18N_KEYS - {'en_US'})})")

    def minimum_version(self, manifest: dict[str, Any]) -> None:
        """meta.minimum_dify_version is at least what the pinned SDK and the declared features need."""
        declared = str((manifest.get("meta") or {}).get("minimum_dify_version") or "")
        if not re.fullmatch(r"\d+\.\d+\.\d+", declared):
            return
        needs = {feature: FEATURE_MINIMUM_DIFY[feature] for feature in self.features}
        pinned = re.search(r"^dify[_-]plugin==([\d.]+)", (self.root / "requirements.txt").read_text(), re.MULTILINE)
        if not pinned:
            self.fail("requirements.txt", "pin dify_plugin==X.Y.Z: the minimum Dify version depends on it")
            return
        for sdk, dify in SDK_MINIMUM_DIFY:
            if version_tuple(pinned.group(1)) >= version_tuple(sdk):
                needs[f"dify_plugin {pinned.group(1)}"] = dify
                break
        for what, dify in sorted(needs.items()):
            if version_tuple(declared) < version_tuple(dify):
                self.fail(
                    "manifest.yaml: meta.minimum_dify_version", f"{declared} is lower than the {dify} {what} needs"
                )

    def python_source(self, relative: str, data: dict[str, Any], base: str) -> None:
        source = ((data.get("extra") or {}).get("python") or {}).get("source")
        path = self.root / str(source or "")
        if not source or not path.is_file():
            self.fail(f"{relative}: extra.python.source", f"{source!r} not found")
            return
        tree = ast.parse(path.read_text(encoding="utf-8"))
        classes = [
            node.name
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            and any(getattr(b, "id", getattr(b, "attr", "")) == base for b in node.bases)
        ]
        if len(classes) != 1:
            self.fail(str(source), f"must define exactly one {base} subclass (the SDK's loader rule), found {classes}")

    def with_sdk(self) -> None:
        """Load the declarations with the SDK's own models, as the plugin does when it starts.

        Runs in a child process: importing dify_plugin monkey-patches the interpreter (gevent).
        """
        code = (
            "import yaml\n"
            "from dify_plugin.core.entities.plugin.setup import PluginConfiguration\n"
            "from dify_plugin.entities.tool import ToolProviderConfiguration\n"
            "manifest = PluginConfiguration(**yaml.safe_load(open('manifest.yaml', encoding='utf-8')))\n"
            "for provider in manifest.plugins.tools:\n"
            "    ToolProviderConfiguration(**yaml.safe_load(open(provider, encoding='utf-8')))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", code], cwd=self.root, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no output"
            self.fail("SDK", f"the plugin would not start with these declarations: {last}")


def ignore_spec(root: Path) -> pathspec.PathSpec:
    for name in (".difyignore", ".gitignore"):
        path = root / name
        if path.is_file():
            return pathspec.GitIgnoreSpec.from_lines(path.read_text(encoding="utf-8").splitlines())
    return pathspec.GitIgnoreSpec.from_lines([])


def _git_files(root: Path, *options: str) -> list[str] | None:
    """``git ls-files`` of ``root`` when it is the top of a git work tree, else None."""
    git = shutil.which("git")
    if not git:
        return None
    try:
        top = subprocess.run(
            [git, "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True, check=False
        )
        if top.returncode != 0 or Path(top.stdout.strip()).resolve() != root.resolve():
            return None
        listed = subprocess.run(
            [git, "-C", str(root), "ls-files", "-z", *options], capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return sorted(name for name in listed.decode("utf-8").split("\0") if name)


def _walk(root: Path, top: Path) -> list[str]:
    if top.is_file():
        return [top.relative_to(root).as_posix()]
    return [path.relative_to(root).as_posix() for path in top.rglob("*") if path.is_file()]


def candidate_files(root: Path) -> tuple[list[str], list[str]]:
    """(files that may be packaged, other files lying in the project that a commit could add).

    With git: the tracked files, and the untracked ones git does not ignore. Without git
    (a copy of the sources): the allow-list, and every other file outside NEVER_PACKED.
    """
    tracked = _git_files(root)
    if tracked is not None:
        return tracked, _git_files(root, "--others", "--exclude-standard") or []
    allowed = sorted({name for entry in ALLOWED if (root / entry).exists() for name in _walk(root, root / entry)})
    others = sorted(set(_walk(root, root)) - set(allowed))
    return allowed, [name for name in others if not NEVER_PACKED & set(name.split("/")[:-1])]


def package_files(root: Path) -> list[str]:
    """The tracked (or allow-listed) files, without .difyignore's and never a cache, venv or build output."""
    spec = ignore_spec(root)
    files, _ = candidate_files(root)
    return [
        name
        for name in files
        if (root / name).is_file() and not NEVER_PACKED & set(name.split("/")) and not spec.match_file(name)
    ]


def secret_reason(path: Path, limit: int = MAX_UNCOMPRESSED) -> str | None:
    """Why ``path`` looks like a private key or secret (by its name, or a PEM private key in
    its first ``limit`` bytes), or None."""
    if path.name not in SECRET_NAME_EXCEPTIONS and SECRET_NAME.search(path.name):
        return "named like a private key or secret"
    try:
        with path.open("rb") as stream:
            head = stream.read(limit)
    except OSError:
        return None
    return "holds a PEM private key" if PEM_PRIVATE_KEY.search(head) else None


def secrets(root: Path, files: list[str]) -> list[str]:
    """A problem for every file to be packaged that looks secret, and for every secret-looking
    file lying in the project where a commit (and then a build) could pick it up."""
    problems = [
        f"{name}: {reason}; refusing to package it: delete it from the project (and replace that key or secret)"
        for name in files
        if (reason := secret_reason(root / name))
    ]
    spec, packaged = ignore_spec(root), set(files)
    for name in candidate_files(root)[1]:
        reason = None if name in packaged else secret_reason(root / name, limit=64 * 1024)
        if not reason or (spec.match_file(name) and Path(name).name.startswith(".env")):
            continue  # .env (remote debugging, README) is never packaged
        problems.append(f"{name}: {reason}, inside the project folder; move it out (e.g. to ~/dify-keys/)")
    return problems


def check(root: Path = ROOT) -> tuple[dict[str, Any], list[str]]:
    checker = Checker(root)
    manifest = checker.manifest()
    for provider in (manifest.get("plugins") or {}).get("tools") or []:
        checker.provider(str(provider))
    checker.readmes()
    checker.minimum_version(manifest)
    checker.with_sdk()
    files = package_files(root)
    size = sum((root / name).stat().st_size for name in files)
    if size > MAX_UNCOMPRESSED:
        checker.fail("package", f"{size / 2**20:.1f} MiB uncompressed, over Dify's 50 MiB limit")
    for needed in ("manifest.yaml", "main.py", "requirements.txt", "README.md"):
        if needed not in files:
            checker.fail(needed, "excluded by .difyignore but the package needs it")
    checker.problems.extend(secrets(root, files))
    if checker.problems:
        raise PackageError("\n".join(checker.problems))
    return manifest, files


def build(root: Path = ROOT, output_dir: Path | None = None) -> Path:
    manifest, files = check(root)
    output_dir = output_dir or root / "dist"
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{manifest['name']}-{manifest['version']}.difypkg"
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in files:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3  # the same bytes whichever system builds it
            archive.writestr(info, (root / name).read_bytes())
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, default=None, help="where to write the .difypkg (default: dist/)")
    parser.add_argument("--check", action="store_true", help="only run the checks")
    parser.add_argument(
        "--sign", type=Path, metavar="PRIVATE_KEY", help="also write a signed copy (scripts/signing.py)"
    )
    parser.add_argument("--generate-key", metavar="PREFIX", help="create PREFIX.private.pem and PREFIX.public.pem")
    args = parser.parse_args()
    # expanded here too: PowerShell passes `~/dify-keys/mine` as it is
    output_dir, key = (Path(expand(str(p))) if p else None for p in (args.output_dir, args.sign))
    if args.generate_key or key:
        sys.path.insert(0, str(ROOT))
        from scripts.signing import SigningError, generate_key_pair, sign_package
    try:
        if args.generate_key:
            prefix = Path(expand(args.generate_key)).resolve()
            if prefix.is_relative_to(ROOT):
                print(
                    f"error: {prefix}.private.pem would lie inside the project, where it could be committed or "
                    "packaged; choose a folder outside it, e.g. ~/dify-keys/mine",
                    file=sys.stderr,
                )
                return 1
            try:
                private, public = generate_key_pair(prefix)
            except (SigningError, OSError) as error:
                print(f"error: {error}", file=sys.stderr)
                return 1
            print(f"wrote {private} (keep it secret) and {public} (for Dify's plugin daemon; see README)")
            return 0
        if args.check:
            _, files = check(ROOT)
            print(f"ok: {len(files)} files would be packaged")
            return 0
        target = build(ROOT, output_dir)
    except PackageError as error:
        print(f"cannot package the plugin:\n{error}", file=sys.stderr)
        return 1
    print(f"built {_shown(target)} ({target.stat().st_size / 1024:.0f} KiB)")
    if key:
        try:
            signed = sign_package(target, key)
        except (SigningError, OSError) as error:
            print(f"cannot sign the package: {error}", file=sys.stderr)
            return 1
        print(f"signed {_shown(signed)} (install this one)")
    return 0


def expand(path: str) -> str:
    return os.path.expandvars(os.path.expanduser(path))


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    raise SystemExit(main())
