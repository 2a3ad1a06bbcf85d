"""Writing the output directory atomically: everything is written into a hidden sibling
directory first and moved into place only when complete, so OUTDIR never holds a partial
set of files (an interrupted run leaves OUTDIR as it was)."""

from __future__ import annotations

import contextlib
import csv
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from linkage.errors import LinkageError


class OutputDirError(LinkageError):
    """The output directory cannot be used."""


def check_outdir(outdir: Path, force: bool) -> None:
    """Refuse to overwrite a non-empty directory (unless ``force``) or a file."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputDirError(f"{outdir} exists and is not a directory; choose another output directory")
    if outdir.is_dir() and any(outdir.iterdir()) and not force:
        raise OutputDirError(
            f"{outdir} is not empty; choose an empty or new directory, or pass --force to replace it"
        )
    parent = outdir.resolve().parent
    if not parent.is_dir():
        raise OutputDirError(f"the parent directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK):
        raise OutputDirError(f"cannot write in {parent}; choose a directory you can write to")


@contextlib.contextmanager
def atomic_directory(outdir: Path) -> Iterator[Path]:
    """Yield a temporary directory next to ``outdir``; on success it replaces ``outdir``."""
    outdir = outdir.resolve()
    staging = outdir.parent / f".{outdir.name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
    staging.mkdir()   # unlike mkdtemp, honours the umask: the result is an ordinary directory
    try:
        yield staging
        if outdir.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".old", dir=outdir.parent))
            os.rename(outdir, retired / "previous")
            os.rename(staging, outdir)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.rename(staging, outdir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_csv(path: Path, header: Sequence[str], columns: Sequence[Sequence[Any] | np.ndarray]) -> None:
    """Write columns (equal-length sequences of str) as a UTF-8 CSV with a header row."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(zip(*columns))
