"""Ed25519 key files: the broker's signing keys (audit log, upload receipts).

A private key is PEM PKCS#8, unencrypted, mode 0600 (a file that group or others can read is
refused); a public key is PEM SubjectPublicKeyInfo, handed to whoever verifies signatures.
A key pair is never overwritten: verifiers hold the public key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from linkage.errors import LinkageError
from linkage.files import write_atomic


class KeyFileError(LinkageError):
    """A key file is missing, unreadable, of the wrong kind or too widely readable."""


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def generate_keypair(directory: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``DIRECTORY/NAME.key`` (0600) and ``DIRECTORY/NAME.pub``; never overwrite."""
    folder = Path(directory)
    private, public = folder / f"{name}.key", folder / f"{name}.pub"
    for path in (private, public):
        if path.exists():
            raise KeyFileError(
                f"{path} exists already; a signing key is never replaced silently (verifiers "
                "hold its public key): move it away first if you really mean to"
            )
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    write_atomic(private, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()), mode=0o600)
    write_atomic(public, public_pem(key.public_key()))
    return private, public


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the {what} {path} ({exc.strerror})") from None


def load_signing_key(path: str | Path, what: str = "signing key") -> Ed25519PrivateKey:
    """Load a private key; refuse a file that group or others can read."""
    data = _read(path, what)
    if Path(path).stat().st_mode & 0o077:
        raise KeyFileError(f"{path} is readable by group or others; run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"{path} is not an unencrypted PEM private key; make one with 'linkage pki init'"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; the {what} must be an Ed25519 key")
    return key


def load_public_key(path: str | Path, what: str = "public key") -> Ed25519PublicKey:
    data = _read(path, what)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(f"{path} is not a PEM public key; use the broker's .pub file") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; the {what} must be an Ed25519 key")
    return key
