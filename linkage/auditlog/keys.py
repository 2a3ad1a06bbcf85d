"""The log's Ed25519 key pair: generating, loading, and the log id.

``log.key`` is the private key (PEM, PKCS#8, unencrypted, mode 0600); ``log.pub`` the public
key (PEM, SubjectPublicKeyInfo) that auditors receive. The log id is SHA-256 of the public
key's DER SubjectPublicKeyInfo, as in RFC 6962 §3.2.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from linkage import signing_keys

PRIVATE_KEY_NAME = "log.key"
PUBLIC_KEY_NAME = "log.pub"


def log_id(key: Ed25519PublicKey) -> bytes:
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def generate_log_keypair(directory: str | Path) -> tuple[Path, Path]:
    """Write ``DIRECTORY/log.key`` (0600) and ``DIRECTORY/log.pub``; never overwrite."""
    return signing_keys.generate_keypair(directory, "log")


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """Load the log's private key; refuse a file that group or others can read."""
    return signing_keys.load_signing_key(path, "log signing key")


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    return signing_keys.load_public_key(path, "log public key")
