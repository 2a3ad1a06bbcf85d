"""The log's Ed25519 key pair: generating, loading, and the log id.

``log.key`` is the private key (PEM, PKCS#8, unencrypted, mode 0600); ``log.pub`` the public
key (PEM, SubjectPublicKeyInfo) that auditors receive. The log id is SHA-256 of the public
key's DER SubjectPublicKeyInfo, as in RFC 6962 §3.2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from linkage.auditlog.errors import KeyFileError
from linkage.files import atomic_file

PRIVATE_KEY_NAME = "log.key"
PUBLIC_KEY_NAME = "log.pub"


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def log_id(key: Ed25519PublicKey) -> bytes:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def generate_log_keypair(directory: str | Path) -> tuple[Path, Path]:
    """Write ``DIRECTORY/log.key`` (0600) and ``DIRECTORY/log.pub``; never overwrite."""
    folder = Path(directory)
    private, public = folder / PRIVATE_KEY_NAME, folder / PUBLIC_KEY_NAME
    for path in (private, public):
        if path.exists():
            raise KeyFileError(
                f"{path} exists already; a log key is never replaced silently (auditors "
                "hold its public key): move it away first if you really mean to"
            )
    folder.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    with atomic_file(private, mode=0o600) as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    with atomic_file(public) as handle:
        handle.write(public_key_pem(key.public_key()))
    return private, public


def _read(path: str | Path, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read the {what} {path} ({exc.strerror})") from None


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """Load the log's private key; refuse a file that group or others can read."""
    data = _read(path, "log signing key")
    if Path(path).stat().st_mode & 0o077:
        raise KeyFileError(f"{path} is readable by group or others; run: chmod 600 {path}")
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"{path} is not an unencrypted PEM private key; make one with 'linkage pki init'"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; the log needs an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    data = _read(path, "log public key")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        raise KeyFileError(
            f"{path} is not a PEM public key; use the broker's log.pub"
        ) from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}; the log uses Ed25519 keys")
    return key
