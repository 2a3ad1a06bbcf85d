"""Validation of an uploaded extract, before anything is stored."""

from __future__ import annotations

import io

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from server.validation import INVALID, PRECONDITION, Expectation, ExtractRejected, validate_extract
from tests.broker.helpers import make_extract

EXPECT = Expectation("vdab", 1024)


def _validate(content: bytes, expected: Expectation = EXPECT):
    """The header and the stored copy's bytes."""
    sink = io.BytesIO()
    header = validate_extract(pa.BufferReader(content), len(content), expected, sink)
    return header, sink.getvalue()


def _bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


@pytest.fixture
def table(tmp_path):
    return pq.read_table(make_extract(tmp_path / "v.parquet", "vdab", 50))


def test_a_valid_extract_passes(table):
    header, content = _validate(_bytes(table))
    stored = pq.read_table(pa.BufferReader(content))
    assert header.source == "vdab" and stored.num_rows == 50
    assert stored.column("clk").equals(table.column("clk"))


def _replace(table: pa.Table, name: str, values) -> pa.Table:
    index = table.column_names.index(name)
    return table.set_column(index, name, values)


def _expect(content: bytes, kind: str, fragment: str) -> None:
    with pytest.raises(ExtractRejected) as caught:
        _validate(content)
    assert caught.value.kind == kind
    assert fragment in str(caught.value)


def test_not_parquet():
    _expect(b"PAR1 but not really", INVALID, "not a readable Parquet extract")


def test_wrong_source_in_header(table):
    with pytest.raises(ExtractRejected, match="names source 'vdab', but it was uploaded as 'ksz'"):
        _validate(_bytes(table), Expectation("ksz", 1024))


def test_wrong_clk_length(tmp_path):
    content = make_extract(tmp_path / "s.parquet", "vdab", 10, clk_bits=512).read_bytes()
    _expect(content, INVALID, "512 bits; this broker links 1024-bit CLKs")


def test_duplicate_record_ids(table):
    ids = table.column("record_id").to_pylist()
    ids[7] = ids[3]
    _expect(_bytes(_replace(table, "record_id", pa.array(ids))), INVALID, "1 duplicate")


def test_category_outside_its_declaration_names_the_row_not_the_value(table):
    values = table.column("exit_reason").to_pylist()
    values[4] = "secret-value"
    with pytest.raises(ExtractRejected) as caught:
        _validate(_bytes(_replace(table, "exit_reason", pa.array(values))))
    assert "exit_reason" in str(caught.value) and "row 5" in str(caught.value)
    assert "secret-value" not in str(caught.value)


def test_missing_payload_values_are_accepted(table):
    reasons = [None] * table.num_rows
    levels = table.column("education_level").to_pylist()
    levels[0] = None
    table = _replace(_replace(table, "exit_reason", pa.array(reasons, pa.string())), "education_level", pa.array(levels))
    assert _validate(_bytes(table))[0].record_count == 50


def test_undeclared_column(table):
    _expect(_bytes(table.append_column("surname", pa.array(["x"] * table.num_rows))), INVALID, "undeclared: surname")


def test_record_count_mismatch(table):
    _expect(_bytes(table.slice(0, 40)), INVALID, "header says 50 records, the file holds 40")


def test_missing_clk_values(table):
    clks = table.column("clk").to_pylist()
    clks[0] = None
    _expect(_bytes(_replace(table, "clk", pa.array(clks, pa.binary(128)))), INVALID, "'clk' is empty in 1")


def test_wrongly_typed_payload(table):
    level = pa.array([1] * table.num_rows, pa.int32())
    _expect(_bytes(_replace(table, "education_level", level)), INVALID, "'education_level' has type int32")


def test_payload_version_mismatch(tmp_path, table):
    metadata = dict(table.schema.metadata)
    metadata[b"linkage.payload_version"] = b'"0"'
    _expect(_bytes(table.replace_schema_metadata(metadata)), PRECONDITION, "payload version")


def test_long_values_that_compress_to_nothing_are_refused_unread(table):
    """Few records, each reference a megabyte of one letter: a few KiB on disk."""
    ids = [f"r{i}-" + "a" * 1_000_000 for i in range(table.num_rows)]
    sink = pa.BufferOutputStream()
    pq.write_table(_replace(table, "record_id", pa.array(ids)), sink, compression="zstd")
    content = sink.getvalue().to_pybytes()
    assert len(content) < 100_000
    _expect(content, INVALID, "not read")


def test_replaced_number_tokens_are_kept_and_must_be_tokens(table):
    tokens = [None] * table.num_rows
    tokens[3] = b"\x02" * 32
    header, content = _validate(_bytes(table.append_column("replaced_token", pa.array(tokens, pa.binary(32)))))
    assert pq.read_table(pa.BufferReader(content)).column("replaced_token").to_pylist() == tokens
    wrong = table.append_column("replaced_token", pa.array(["x"] * table.num_rows))
    _expect(_bytes(wrong), INVALID, "'replaced_token' has type string")
