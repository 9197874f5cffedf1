"""Sign a .difypkg with your own RSA key, the way the Dify plugin daemon verifies it.

    python scripts/signing.py generate PREFIX              # PREFIX.private.pem, PREFIX.public.pem
    python scripts/signing.py sign PACKAGE PRIVATE_KEY.pem # writes <name>.signed.difypkg

With the public key in the daemon's THIRD_PARTY_SIGNATURE_VERIFICATION_PUBLIC_KEYS (and
THIRD_PARTY_SIGNATURE_VERIFICATION_ENABLED=true), Dify installs the signed package while
FORCE_VERIFYING_SIGNATURE stays on. What is signed (docs/signing.md): the SHA-256 of every
zip entry's content in the archive's order, `.verification.dify.json` last, then the unix
time in decimal; RSASSA-PKCS1-v1_5 with SHA-256; the signature and the time go in the zip
comment as JSON. Keys are PKCS#1 PEM ("RSA PRIVATE KEY" / "RSA PUBLIC KEY"), as
`dify signature generate` writes them.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import zipfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

VERIFICATION_FILE = ".verification.dify.json"
# Who vouches for the plugin, as Dify shows it: your own key is a community signature.
VERIFICATION = json.dumps({"authorized_category": "community"}, separators=(",", ":")).encode()
KEY_BITS = 4096  # what `dify signature generate` makes


class SigningError(Exception):
    pass


def generate_key_pair(prefix: str | Path) -> tuple[Path, Path]:
    """Write PREFIX.private.pem and PREFIX.public.pem (PKCS#1 PEM); the private one is 0600."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
    private_path, public_path = Path(f"{prefix}.private.pem"), Path(f"{prefix}.public.pem")
    for path in (private_path, public_path):
        if path.exists():
            raise SigningError(f"{path} exists; choose another prefix (a key is never overwritten)")
    private_path.parent.mkdir(parents=True, exist_ok=True)
    private_path.touch(mode=0o600)
    private_path.write_bytes(private)
    public_path.write_bytes(public)
    return private_path, public_path


def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The daemon's format only: one PKCS#1 "RSA PRIVATE KEY" block, unencrypted."""
    data = path.read_bytes()
    if b"-----BEGIN RSA PRIVATE KEY-----" not in data:
        raise SigningError(
            f"{path} is not a PKCS#1 'RSA PRIVATE KEY' PEM file (make one with scripts/build.sh --generate-key)"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise SigningError(f"{path}: {error}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningError(f"{path} is not an RSA key")
    return key


def signed_name(package: Path) -> Path:
    return package.with_name(f"{package.stem}.signed{package.suffix}")


def sign_package(package: Path, private_key: Path, output: Path | None = None, now: int | None = None) -> Path:
    """Write a signed copy of ``package``: the same entries, the verification file last, the
    signature in the comment. An earlier signature or verification file is replaced."""
    key = load_private_key(private_key)
    output = output or signed_name(package)
    with zipfile.ZipFile(package) as source:
        entries = [info for info in source.infolist() if info.filename != VERIFICATION_FILE]
        if any(info.is_dir() for info in entries):
            raise SigningError(f"{package} has directory entries, which the daemon cannot verify")
        contents = [(info, source.read(info)) for info in entries]
    contents.append((zipfile.ZipInfo(VERIFICATION_FILE, date_time=(1980, 1, 1, 0, 0, 0)), VERIFICATION))
    signed_at = int(time.time()) if now is None else now
    data = b"".join(hashlib.sha256(content).digest() for _, content in contents) + str(signed_at).encode()
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info, content in contents:
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = info.external_attr or 0o644 << 16
            target.writestr(info, content)
        target.comment = json.dumps(
            {"signature": base64.b64encode(signature).decode(), "time": signed_at}, separators=(",", ":")
        ).encode()
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="create a key pair")
    generate.add_argument("prefix")
    sign = commands.add_parser("sign", help="sign a package")
    sign.add_argument("package", type=Path)
    sign.add_argument("private_key", type=Path)
    args = parser.parse_args()
    try:
        if args.command == "generate":
            private, public = generate_key_pair(os.path.expanduser(args.prefix))
            print(f"wrote {private} (keep it secret) and {public} (give it to Dify's plugin daemon)")
        else:
            print(f"signed {sign_package(args.package, args.private_key.expanduser())}")
    except (SigningError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
