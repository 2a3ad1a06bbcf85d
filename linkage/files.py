"""Crash-safe writing: a file or folder appears complete under its name, or not at all.

Every file the project writes for a user or keeps as state goes through here: the data goes
to a temporary file beside the target (created with its final mode, so a private key is
never readable by others, not even for a moment), is fsynced, and is renamed into place.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Iterable, TextIO


def fsync_dir(directory: str | Path) -> None:
    """Make a rename or unlink in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: int = 0o644) -> Iterator[BinaryIO]:
    """Write through a temporary file created with ``mode``; rename it into place on success."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        with os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "wb") as handle:
            os.fchmod(handle.fileno(), mode)
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    fsync_dir(target.parent)


@contextlib.contextmanager
def atomic_text_file(path: str | Path, mode: int = 0o644, newline: str | None = None) -> Iterator[TextIO]:
    """:func:`atomic_file` for UTF-8 text (``newline=""`` for the csv module)."""
    with atomic_file(path, mode) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline=newline)
        yield text
        text.flush()
        text.detach()


def write_atomic(path: str | Path, data: bytes | Iterable[bytes], mode: int = 0o644) -> None:
    """Write ``data`` (bytes, or an iterable of byte pieces) atomically with ``mode``."""
    with atomic_file(path, mode) as handle:
        for piece in [data] if isinstance(data, (bytes, bytearray, memoryview)) else data:
            handle.write(piece)


@contextlib.contextmanager
def atomic_folder(path: str | Path) -> Iterator[Path]:
    """Build a folder next to ``path``; on success it replaces ``path`` (and its old content).

    The swap is two renames: a crash between them leaves the previous folder under
    ``.NAME.previous`` and never a half-written folder under ``path``.
    """
    target = Path(path).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".partial", dir=target.parent))
    try:
        yield building
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    previous = target.with_name(f".{target.name}.previous")
    shutil.rmtree(previous, ignore_errors=True)
    if target.exists():
        os.rename(target, previous)
    os.rename(building, target)
    fsync_dir(target.parent)
    shutil.rmtree(previous, ignore_errors=True)
