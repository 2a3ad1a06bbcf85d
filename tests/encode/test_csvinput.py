"""The CSV is cut into blocks of whole records: every cut gives the rows, line numbers and
errors that reading the file in one go gives."""

from __future__ import annotations

import csv
import io
import random

import pytest

import linkage.encoding.csvinput as csvinput
from linkage.encoding.csvinput import InputError, open_blocks, rows_in

ALPHABET = ["a", "b", "é", "漢", " ", ",", ";", "|", "\t", '"', '""', "\n", "\r\n", "\r", "x\"y"]


def _field(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 6)))


def _file(rng: random.Random, rows: int, line_end: str, delimiter: str, quoting: int) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator=line_end, delimiter=delimiter, quoting=quoting)
    writer.writerow(["id", "name", "note"])
    for number in range(rows):
        if rng.random() < 0.05:
            out.write(line_end)                                    # an empty line
        elif rng.random() < 0.1:                                   # stray quotes in unquoted fields
            out.write(delimiter.join([f"r{number}", 'O"Brien', 'x""y']) + line_end)
        else:
            writer.writerow([f"r{number}", _field(rng), _field(rng)])
    return out.getvalue()


def _read(path, block_bytes: int, monkeypatch) -> tuple[list[str], list[tuple[int, list[str]]]]:
    monkeypatch.setattr(csvinput, "BLOCK_BYTES", block_bytes)
    with open_blocks(path) as (header, blocks):
        rows = [(row.line, row.cells) for block in blocks for row in rows_in(block)]
    return header, rows


def _expected(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    next(reader)
    rows = []
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return rows
        if any(cell.strip() for cell in cells):
            rows.append((line, cells))


@pytest.mark.parametrize(("line_end", "delimiter", "quoting"), [
    ("\n", ",", csv.QUOTE_MINIMAL), ("\r\n", ",", csv.QUOTE_MINIMAL), ("\r\n", ";", csv.QUOTE_ALL),
    ("\n", "\t", csv.QUOTE_MINIMAL), ("\n", "|", csv.QUOTE_ALL),
])
@pytest.mark.parametrize("seed", range(3))
def test_any_block_size_reads_what_the_csv_module_reads(tmp_path, monkeypatch, seed, line_end, delimiter, quoting):
    rng = random.Random(seed)
    text = _file(rng, 300, line_end, delimiter, quoting)
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode("utf-8"))
    expected = _expected(text, delimiter)
    assert any("\n" in cell for _, cells in expected for cell in cells)  # quoted line breaks are there
    for block_bytes in (1, 7, 64, 1000, 1 << 20):
        header, rows = _read(path, block_bytes, monkeypatch)
        assert header == ["id", "name", "note"]
        assert rows == expected, block_bytes


def test_blocks_are_numbered_from_one_and_cut_between_records(tmp_path, monkeypatch):
    path = tmp_path / "in.csv"
    path.write_text('id,name\nr1,"two\nlines"\nr2,b\nr3,c\n', encoding="utf-8")
    monkeypatch.setattr(csvinput, "BLOCK_BYTES", 12)
    with open_blocks(path) as (_, blocks):
        blocks = list(blocks)
    assert [block.data for block in blocks] == [b'r1,"two\nlines"\nr2,b\n', b"r3,c\n"]
    assert [block.line for block in blocks] == [2, 5]
    assert [[(row.number, row.line) for row in rows_in(block)] for block in blocks] == [[(1, 2), (2, 4)], [(1, 5)]]


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_a_malformed_record_in_a_later_block_is_reported_at_its_line(tmp_path, monkeypatch, block_bytes):
    path = tmp_path / "in.csv"
    path.write_text("id,name\n" + "".join(f"r{i},a\n" for i in range(20)) + 'r20,"a"b\nr21,a\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 22: malformed CSV"):
        _read(path, block_bytes, monkeypatch)


@pytest.mark.parametrize("block_bytes", [16, 1 << 20])
def test_undecodable_text_in_a_later_block_is_reported_at_its_line(tmp_path, monkeypatch, block_bytes):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,name\n" + b"".join(b"r%d,a\n" % i for i in range(20)) + b"r20,F\xe2tima\n")
    with pytest.raises(InputError, match="line 22 is not UTF-8"):
        _read(path, block_bytes, monkeypatch)


def test_an_unterminated_quote_is_an_error_not_a_hang(tmp_path, monkeypatch):
    monkeypatch.setattr(csvinput, "MAX_RECORD_BYTES", 200)
    path = tmp_path / "in.csv"
    path.write_text('id,name\nr1,"never closed\n' + "".join(f"r{i},a\n" for i in range(100)), encoding="utf-8")
    with pytest.raises(InputError, match="line 2: malformed CSV"):
        _read(path, 16, monkeypatch)


def test_carriage_returns_alone_are_refused_with_what_to_do(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"id,name\rr1,a\rr2,b\r")
    with pytest.raises(InputError, match="carriage return alone"), open_blocks(path):
        pass
