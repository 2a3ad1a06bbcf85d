"""Reading the provider's CSV: UTF-8 (with or without BOM), header first, columns by name.

The delimiter is the one among ``,`` ``;`` tab ``|`` that occurs most often in the header
line (Belgian spreadsheet exports use ``;``). The data rows are read as blocks of whole
records (:class:`Block`: raw bytes, cut only between records, also where a quoted field
holds a line break), which the process that encodes them parses (:func:`rows_in`): the
reading process only cuts, so that parsing runs in parallel with the rest. Rows come with
their line number in the file (the header is line 1), so every message can point at the
line to fix.
"""

from __future__ import annotations

import csv
import io
import re
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Iterator, NamedTuple

from linkage.errors import LinkageError

DELIMITERS = ",;\t|"
BOM = b"\xef\xbb\xbf"
BLOCK_BYTES = 1 << 19
"""Bytes read at a time; a block holds the whole records among them (a few thousand)."""
MAX_RECORD_BYTES = 1 << 24
"""A record longer than this is not one: the rest is handed to the parser, which says why."""


class InputError(LinkageError, ValueError):
    """The input file cannot be read as a CSV with a header."""


class Row(NamedTuple):
    """A data row."""

    number: int
    """Position among the data rows of its block, from 1."""
    line: int
    """Line in the file where the row starts (the header is line 1)."""
    cells: list[str]


class Block(NamedTuple):
    """Whole records of the file, as read (a named tuple: cheap to send to a worker)."""

    data: bytes
    line: int
    """Line in the file where the block starts."""
    path: str
    delimiter: str


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
def open_blocks(path: str | Path, delimiter: str | None = None) -> Iterator[tuple[list[str], Iterator[Block]]]:
    """Yield the header (column names) and an iterator over the blocks of data rows."""
    if delimiter is not None and len(delimiter) != 1:
        raise InputError(f"the delimiter must be one character, not {len(delimiter)}")
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from None
    with handle:
        if handle.read(len(BOM)) != BOM:
            handle.seek(0)
        start = handle.tell()
        first = _decoded(handle.readline(MAX_RECORD_BYTES), path, 1)
        if not first.strip():
            raise InputError(f"{path}: the file is empty or starts with an empty line; the first line must be the header")
        if "\r" in first.rstrip("\r\n"):
            raise InputError(f"{path}: lines end in a carriage return alone (old Mac line ends); "
                             "save the file with Windows or Unix line ends")
        delimiter = delimiter or sniff_delimiter(first)
        handle.seek(start)
        header, header_lines = _header(handle, str(path), delimiter)
        duplicates = sorted({name for name in header if header.count(name) > 1})
        if duplicates:
            raise InputError(f"{path}: columns named more than once in the header: {', '.join(duplicates)}")
        if "" in header:
            raise InputError(f"{path}: column {header.index('') + 1} of the header has no name")
        yield header, _blocks(handle, str(path), delimiter, header_lines + 1)


def rows_in(block: Block) -> Iterator[Row]:
    """The non-empty data rows of a block, numbered from 1, with their line in the file."""
    try:
        text = block.data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _not_utf8(block.path, block.line + _line_breaks(block.data[:exc.start])) from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=block.delimiter, strict=True)
    number = 0
    while True:
        line = block.line + reader.line_num
        try:
            cells = _next_record(reader, block.path, line)
        except StopIteration:
            return
        joined = "".join(cells)
        if not joined.strip():
            continue
        if "\x00" in joined:
            column = next(index for index, cell in enumerate(cells, start=1) if "\x00" in cell)
            raise InputError(
                f"{block.path}: line {line}, column {column} holds a NUL byte: the file is damaged or "
                "binary (UTF-16?); export it again as UTF-8 text"
            )
        number += 1
        yield Row(number, line, cells)


def _header(handle: BinaryIO, path: str, delimiter: str) -> tuple[list[str], int]:
    """The header record (a quoted name may span lines) and the lines it takes; the
    handle is left where the data rows start."""
    lines = 0
    start = handle.tell()
    used = 0

    def text_lines() -> Iterator[str]:
        nonlocal lines, used
        for raw in iter(handle.readline, b""):
            lines += 1
            used += len(raw)
            yield _decoded(raw, path, lines)

    reader = csv.reader(text_lines(), delimiter=delimiter, strict=True)
    header = [name.strip() for name in _next_record(reader, path, 1)]
    handle.seek(start + used)
    return header, lines


def _blocks(handle: BinaryIO, path: str, delimiter: str, line: int) -> Iterator[Block]:
    """Blocks of whole records from the handle's position on, the first at ``line``."""
    records = _records(delimiter)
    pending = b""
    while True:
        data = handle.read(BLOCK_BYTES)
        pending += data
        if not data or len(pending) > MAX_RECORD_BYTES:
            cut = len(pending)
        elif b'"' not in pending:
            cut = pending.rfind(b"\n") + 1
        else:
            whole = records.match(pending)  # matches at least the empty string
            cut = whole.end() if whole else 0
        if cut:
            block, pending = pending[:cut], pending[cut:]
            yield Block(block, line, path, delimiter)
            line += _line_breaks(block)
        if not data:
            return


def _line_breaks(data: bytes) -> int:
    """Line breaks as the reader counts them: CR LF, LF, and a CR alone (which only a quoted
    field can hold: elsewhere it is refused)."""
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


@lru_cache(maxsize=len(DELIMITERS))
def _records(delimiter: str) -> re.Pattern[bytes]:
    """Whole records as Python's strict CSV reader reads them: a field is quoted (quotes
    doubled inside, line breaks allowed) when it starts with a quote, else runs to the next
    delimiter or line end; a record ends in a line break. Cutting where the longest run of
    them ends never cuts a quoted field; a record that does not fit stays for the parser
    (which reports what is wrong with it). A line without quotes is a record by itself; the
    quantifiers are possessive (inside quotes ``""`` is always a quote, as for the reader), so
    nothing is tried twice: about 1 µs a record where every field is quoted."""
    separator = re.escape(delimiter.encode())
    field = rb'(?:"(?:[^"]++|"")*+"|[^"' + separator + rb"\r\n][^" + separator + rb"\r\n]*+|)"
    record = rb"(?>" + field + rb"(?:" + separator + field + rb")*+\r?\n)"
    return re.compile(rb'(?:[^"\n]*+\n|' + record + rb")*")


def _decoded(raw: bytes, path: str | Path, line: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _not_utf8(path, line) from None


def _next_record(reader: Iterator[list[str]], path: str | Path, line: int) -> list[str]:
    try:
        return next(reader)
    except csv.Error as exc:
        raise InputError(f"{path}: line {line}: malformed CSV ({exc})") from None


def _not_utf8(path: str | Path, line: int) -> InputError:
    return InputError(f"{path}: line {line} is not UTF-8 text; save the file as UTF-8")
