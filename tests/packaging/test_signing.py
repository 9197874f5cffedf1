"""A package signed with scripts/build.sh --sign verifies the way the Dify plugin daemon
verifies it; a changed byte, another key or another time does not.

The verifier below is written from the daemon's algorithm (docs/signing.md) with nothing
but the standard library: it shares no code with scripts/signing.py, which uses
`cryptography` to sign.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.daemon import ROOT

# DER prefix of DigestInfo { sha256, NULL } (RFC 8017, EMSA-PKCS1-v1_5 note 1)
SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def _der(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, next position) of the DER element at ``at``."""
    tag, length, at = data[at], data[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        length, at = int.from_bytes(data[at : at + count], "big"), at + count
    return tag, data[at : at + length], at + length


def load_pkcs1_public_key(pem: bytes) -> tuple[int, int]:
    """(n, e) from one PEM block of type RSA PUBLIC KEY, as the daemon's LoadPublicKey demands."""
    match = re.fullmatch(rb"-----BEGIN RSA PUBLIC KEY-----\n([A-Za-z0-9+/=\n]+)-----END RSA PUBLIC KEY-----\n?", pem)
    assert match, "not a lone PKCS#1 'RSA PUBLIC KEY' PEM block"
    tag, body, _ = _der(base64.b64decode(match.group(1)), 0)
    assert tag == 0x30
    tag, modulus, at = _der(body, 0)
    tag_e, exponent, _ = _der(body, at)
    assert tag == tag_e == 0x02
    return int.from_bytes(modulus, "big"), int.from_bytes(exponent, "big")


def verify(package: Path, public_key: Path) -> bool:
    """The daemon's VerifyPluginWithPublicKeys: SHA-256 of every entry's content in archive
    order, then the decimal time from the comment; RSASSA-PKCS1-v1_5 with SHA-256."""
    n, e = load_pkcs1_public_key(public_key.read_bytes())
    with zipfile.ZipFile(package) as archive:
        comment = json.loads(archive.comment)
        data = b"".join(hashlib.sha256(archive.read(info)).digest() for info in archive.infolist())
    data += str(comment["time"]).encode()
    signature = base64.b64decode(comment["signature"])
    size = (n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    encoded = pow(int.from_bytes(signature, "big"), e, n).to_bytes(size, "big")
    digest_info = SHA256_DIGEST_INFO + hashlib.sha256(data).digest()
    expected = b"\x00\x01" + b"\xff" * (size - len(digest_info) - 3) + b"\x00" + digest_info
    return encoded == expected


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/package.py", *args], cwd=ROOT, capture_output=True, text=True, check=False
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> dict[str, Path]:
    """Two key pairs made with --generate-key: name -> prefix."""
    folder = tmp_path_factory.mktemp("keys")
    for name in ("mine", "other"):
        result = run("--generate-key", str(folder / name))
        assert result.returncode == 0, result.stderr
    return {name: folder / name for name in ("mine", "other")}


@pytest.fixture(scope="module")
def signed(keys, tmp_path_factory) -> tuple[Path, Path]:
    """(unsigned, signed) packages built with --sign."""
    out = tmp_path_factory.mktemp("dist")
    result = run("--output-dir", str(out), "--sign", f"{keys['mine']}.private.pem")
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))
    unsigned = out / f"{manifest['name']}-{manifest['version']}.difypkg"
    signed = out / f"{manifest['name']}-{manifest['version']}.signed.difypkg"
    assert f"signed {signed} (install this one)" in result.stdout
    return unsigned, signed


def test_generated_keys_are_in_the_daemons_formats(keys):
    private = Path(f"{keys['mine']}.private.pem")
    public = Path(f"{keys['mine']}.public.pem")
    assert private.read_text().startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert stat.S_IMODE(private.stat().st_mode) & 0o077 == 0, "the private key is readable by others"
    n, e = load_pkcs1_public_key(public.read_bytes())
    assert n.bit_length() == 4096 and e == 65537
    again = run("--generate-key", str(keys["mine"]))
    assert again.returncode == 1 and "exists" in again.stderr  # never overwrites a key


def test_a_signed_package_verifies_with_its_key_only(signed, keys):
    package = signed[1]
    assert verify(package, Path(f"{keys['mine']}.public.pem"))
    assert not verify(package, Path(f"{keys['other']}.public.pem"))


def test_signing_keeps_every_entry_and_adds_the_verification_last(signed):
    unsigned, package = signed
    with zipfile.ZipFile(unsigned) as before, zipfile.ZipFile(package) as after:
        names = after.namelist()
        assert names[:-1] == before.namelist() and names[-1] == ".verification.dify.json"
        assert all(after.read(name) == before.read(name) for name in names[:-1])
        assert json.loads(after.read(names[-1])) == {"authorized_category": "community"}
        assert not any(info.is_dir() for info in after.infolist())
        comment = json.loads(after.comment)
        assert set(comment) == {"signature", "time"} and isinstance(comment["time"], int)
    assert not zipfile.ZipFile(unsigned).comment  # the unsigned package stays as it was


def rewrite(source: Path, target: Path, change_entry: str | None = None, comment: bytes | None = None) -> Path:
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == change_entry:
                data = data[:-1] + bytes([data[-1] ^ 1])
            new.writestr(info, data)
        new.comment = old.comment if comment is None else comment
    return target


@pytest.mark.parametrize("entry", ["webui/client.py", "manifest.yaml", ".verification.dify.json"])
def test_one_changed_byte_breaks_the_signature(signed, keys, tmp_path, entry):
    tampered = rewrite(signed[1], tmp_path / "tampered.difypkg", change_entry=entry)
    assert not verify(tampered, Path(f"{keys['mine']}.public.pem"))


def test_another_time_breaks_the_signature(signed, keys, tmp_path):
    comment = json.loads(zipfile.ZipFile(signed[1]).comment)
    later = json.dumps({**comment, "time": comment["time"] + 1}).encode()
    assert not verify(rewrite(signed[1], tmp_path / "later.difypkg", comment=later), Path(f"{keys['mine']}.public.pem"))


def test_signing_again_replaces_the_old_signature(signed, keys, tmp_path):
    copy = tmp_path / "again.difypkg"
    copy.write_bytes(signed[1].read_bytes())
    code = "import sys; from pathlib import Path; from scripts.signing import sign_package as s; s(Path(sys.argv[1]), Path(sys.argv[2]))"
    subprocess.run([sys.executable, "-c", code, str(copy), f"{keys['other']}.private.pem"], cwd=ROOT, check=True)
    resigned = tmp_path / "again.signed.difypkg"
    assert verify(resigned, Path(f"{keys['other']}.public.pem"))
    assert zipfile.ZipFile(resigned).namelist().count(".verification.dify.json") == 1


def test_a_key_in_another_format_is_refused_clearly(tmp_path):
    pkcs8 = tmp_path / "pkcs8.pem"
    code = (
        "from cryptography.hazmat.primitives import serialization as s;"
        "from cryptography.hazmat.primitives.asymmetric import rsa;"
        "k = rsa.generate_private_key(public_exponent=65537, key_size=2048);"
        f"open({str(pkcs8)!r}, 'wb').write(k.private_bytes(s.Encoding.PEM, s.PrivateFormat.PKCS8, s.NoEncryption()))"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    result = run("--output-dir", str(tmp_path), "--sign", str(pkcs8))
    assert result.returncode == 1
    assert "is not a PKCS#1 'RSA PRIVATE KEY' PEM file" in result.stderr
