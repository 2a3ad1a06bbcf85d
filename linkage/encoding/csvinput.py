"""Reading the provider's CSV: UTF-8 (with or without BOM), header first, columns by name.

The delimiter is the one among ``,`` ``;`` tab ``|`` that occurs most often in the header
line (Belgian spreadsheet exports use ``;``). Rows come with their line number in the file
(the header is line 1), so every message can point at the line to fix.
"""

from __future__ import annotations

import csv
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, NamedTuple

from linkage.errors import LinkageError

DELIMITERS = ",;\t|"


class InputError(LinkageError, ValueError):
    """The input file cannot be read as a CSV with a header."""


class Row(NamedTuple):
    """A data row (a named tuple: cheap to send to worker processes)."""

    number: int
    """Position among the data rows, from 1 (the default record reference)."""
    line: int
    """Line in the file where the row starts (the header is line 1)."""
    cells: list[str]


def count_lines(path: str | Path) -> int:
    """Physical lines in the file (for progress; quoted line breaks make it approximate)."""
    count = 0
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            count += block.count(b"\n")
    return count


def sniff_delimiter(header_line: str) -> str:
    counts = {delimiter: header_line.count(delimiter) for delimiter in DELIMITERS}
    best = max(counts, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


@contextmanager
def open_csv(path: str | Path, delimiter: str | None = None) -> Iterator[tuple[list[str], Iterator[Row]]]:
    """Yield the header (column names) and an iterator over the data rows."""
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"the delimiter must be one character, not {len(delimiter)}")
    try:
        handle = open(path, encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        try:
            first = handle.readline()
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        if not first.strip():
            raise InputError(f"{path}: the file is empty or starts with an empty line; the first line must be the header")
        handle.seek(0)
        reader = csv.reader(handle, delimiter=delimiter or sniff_delimiter(first), strict=True)
        header = [name.strip() for name in _next_record(reader, path)]
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise InputError(f"{path}: columns named more than once in the header: {', '.join(duplicates)}")
        if "" in header:
            raise InputError(f"{path}: column {header.index('') + 1} of the header has no name")
        yield header, _rows(reader, path)


def _next_record(reader, path) -> list[str]:
    line = reader.line_num + 1
    try:
        return next(reader)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except csv.Error as exc:
        raise InputError(f"{path}: line {line}: malformed CSV ({exc})") from None


def _not_utf8(path) -> InputError:
    """Text is decoded in blocks, so find the first undecodable line only now, on failure."""
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return InputError(f"{path}: line {number} is not UTF-8 text; save the file as UTF-8")
    return InputError(f"{path}: is not UTF-8 text (a character spans two lines); save the file as UTF-8")


def _rows(reader, path) -> Iterator[Row]:
    number = 0
    while True:
        line = reader.line_num + 1
        try:
            cells = _next_record(reader, path)
        except StopIteration:
            return
        if not any(cell.strip() for cell in cells):
            continue
        for column, cell in enumerate(cells, start=1):
            if "\x00" in cell:
                raise InputError(
                    f"{path}: line {line}, column {column} holds a NUL byte: the file is damaged or "
                    "binary (UTF-16?); export it again as UTF-8 text"
                )
        number += 1
        yield Row(number, line, cells)
