"""The linkage secret: read from a file (never the command line) and checked.

The providers of one project share the secret; the broker never has it. Surrounding
whitespace (the newline an editor or ``echo`` adds, a Windows CR) is not part of the
secret, so every provider derives the same keys from the same file content.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from linkage.errors import LinkageError

RECOMMENDED_BYTES = 32
MAKE_ONE = "python3 -c 'import secrets; print(secrets.token_hex(32))' > linkage.secret; chmod 600 linkage.secret"
_KEY_CHECK_INFO = b"linkage/key-check/v1"


class SecretError(LinkageError, ValueError):
    """The secret file cannot be used."""


def read_secret(path: str | Path, warn: Callable[[str], None] = lambda message: None) -> bytes:
    """The secret's bytes; refuses an empty file, warns when others may read it or it is short."""
    path = Path(path)
    try:
        info = path.stat()
        data = path.read_bytes()
    except OSError as exc:
        raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretError(f"secret file {path} is not a regular file")
    secret = data.strip()
    if not secret:
        raise SecretError(f"secret file {path} is empty; make a random secret with: {MAKE_ONE}")
    if info.st_mode & stat.S_IROTH and os.name == "posix":
        warn(f"secret file {path} is readable by every user of this machine; run: chmod 600 {path}")
    if len(secret) < RECOMMENDED_BYTES:
        warn(f"the secret is only {len(secret)} bytes; use at least {RECOMMENDED_BYTES} random bytes ({MAKE_ONE})")
    return secret


def key_check(secret: bytes) -> str:
    """A check value of the secret (HKDF with its own info string): equal secrets give equal
    values, and it reveals nothing else about a random secret. It goes into the extract
    fingerprint so that extracts made with different secrets are never linked."""
    return HKDF(algorithm=hashes.SHA256(), length=16, salt=None, info=_KEY_CHECK_INFO).derive(secret).hex()
