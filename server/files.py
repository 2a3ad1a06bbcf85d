"""Crash-safe file writes: a file appears complete under its name, or not at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable


def fsync_dir(directory: str | Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: str | Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
    """Write ``data`` to a temporary file with ``mode``, fsync it, then rename it into place.

    The temporary file is created with the final mode from the start, so a private key is
    never readable by others, not even for a moment.
    """
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            for piece in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
                handle.write(piece)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)
