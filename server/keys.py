"""The broker's own secrets: the at-rest data key and the receipt-signing key.

- ``data.key``: 32 random bytes, base64, mode 0600; the AES-256-GCM key for everything the
  broker stores. The environment variable ``LINKAGE_DATA_KEY`` (base64) takes precedence,
  for deployments that inject secrets (a container secret, systemd ``LoadCredential``).
- ``receipt.key`` / ``receipt.pub``: Ed25519 (PEM), signs upload receipts; providers verify
  receipts with ``receipt.pub``. Made and read with :mod:`linkage.signing_keys`.

Keys for one purpose each (the release ledger's seal, person keys) are derived from the data
key with HKDF-SHA-256 and the purpose as ``info`` (:func:`derived_key`).
"""

from __future__ import annotations

import base64
import binascii
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.files import write_atomic
from linkage.signing_keys import KeyFileError

DATA_KEY_ENV = "LINKAGE_DATA_KEY"
DATA_KEY_BYTES = 32
LEDGER_SEAL = b"linkage release ledger v1"
PERSON_KEYS = b"linkage person keys v1"


def derived_key(data_key: bytes, purpose: bytes) -> bytes:
    """A 32-byte key for one ``purpose`` (one of the constants above), from the data key."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(data_key)


def generate_data_key(path: str | Path) -> Path:
    write_atomic(path, base64.b64encode(os.urandom(DATA_KEY_BYTES)) + b"\n", mode=0o600)
    return Path(path)


def _decode_data_key(text: str, where: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyFileError(f"the data key in {where} is not base64") from None
    if len(key) != DATA_KEY_BYTES:
        raise KeyFileError(
            f"the data key in {where} has {len(key)} bytes; it must be {DATA_KEY_BYTES} "
            "(make one with 'linkage pki init' or: head -c 32 /dev/urandom | base64)"
        )
    return key


def load_data_key(path: str | Path | None) -> bytes:
    """The data key from ``LINKAGE_DATA_KEY`` if set, else from the file ``path``."""
    if os.environ.get(DATA_KEY_ENV):
        return _decode_data_key(os.environ[DATA_KEY_ENV], f"${DATA_KEY_ENV}")
    if path is None:
        raise KeyFileError(f"no data key: set data_key_file in the configuration or ${DATA_KEY_ENV}")
    file = Path(path)
    try:
        mode = file.stat().st_mode & 0o077
        text = file.read_text()
    except OSError as exc:
        raise KeyFileError(f"cannot read the data key {file} ({exc.strerror})") from None
    if mode:
        raise KeyFileError(f"{file} is readable by group or others; run: chmod 600 {file}")
    return _decode_data_key(text, str(file))
