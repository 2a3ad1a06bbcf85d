"""The encoded-extract file: round trips and every way a file can be wrong."""

import base64
import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.extract import (
    Extract,
    ExtractError,
    ExtractHeader,
    load_encoded,
    read_extract,
    read_header,
    write_extract,
)


def make_extract(n: int = 3, source: str = "vdab", seed: int = 1) -> Extract:
    rng = np.random.default_rng(seed)
    payload = {
        "registration_date": [dt.date(2022, 1, 1 + i % 28) for i in range(n)],
        "exit_date": [None] * n,
        "exit_reason": ["work" if i % 2 else None for i in range(n)],
        "education_level": ["low"] * n,
    }
    header = ExtractHeader(
        source=source, fingerprint="f" * 64, schema_fingerprint="s" * 64,
        normalisation_version="1", clk_bits=1024, record_count=n,
        created="2026-11-23T00:00:00+00:00", payload_version="1",
        payload_columns=tuple(payload), summary={"rejected": 0},
    )
    return Extract(
        header=header,
        record_ids=[f"r{i}" for i in range(n)],
        clks=rng.integers(0, 256, size=(n, 128), dtype=np.uint8),
        exact_tokens=[bytes([i]) * 32 if i % 3 else None for i in range(n)],
        payload=payload,
    )


def test_round_trip_keeps_every_field(tmp_path):
    original = make_extract(5)
    path = tmp_path / "x.parquet"
    write_extract(path, original)
    back = read_extract(path)
    assert back.header == original.header
    assert back.record_ids == original.record_ids
    assert np.array_equal(back.clks, original.clks)
    assert back.exact_tokens == original.exact_tokens
    assert back.payload == original.payload
    assert read_header(path) == original.header
    assert not list(tmp_path.glob("*.partial"))


@settings(max_examples=25, deadline=None)
@given(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=10_000))
def test_round_trip_any_size(tmp_path_factory, n, seed):
    path = tmp_path_factory.mktemp("rt") / "x.parquet"
    original = make_extract(n, seed=seed)
    write_extract(path, original)
    assert np.array_equal(read_extract(path).clks, original.clks)


def test_truncated_file_is_refused(tmp_path):
    path = tmp_path / "x.parquet"
    write_extract(path, make_extract(50))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ExtractError, match="not a readable Parquet file"):
        read_extract(path)


def test_parquet_without_linkage_header_is_refused(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1, 2]}), path)
    with pytest.raises(ExtractError, match="not a file made by 'linkage encode'"):
        read_extract(path)


def test_record_count_mismatch_is_refused(tmp_path):
    extract = make_extract(4)
    table = pq.read_table(write_then(tmp_path, extract))
    lying = dict(table.schema.metadata)
    lying[b"linkage.record_count"] = b"5"
    path = tmp_path / "lying.parquet"
    pq.write_table(table.replace_schema_metadata(lying), path)
    with pytest.raises(ExtractError, match="header says 5 records, file holds 4"):
        read_extract(path)


def test_undeclared_column_is_refused(tmp_path):
    table = pq.read_table(write_then(tmp_path, make_extract(2)))
    extra = table.append_column("surname", pa.array(["Peeters", "Janssens"]))
    path = tmp_path / "extra.parquet"
    pq.write_table(extra, path)
    with pytest.raises(ExtractError, match="undeclared columns"):
        read_extract(path)
    with pytest.raises(ExtractError, match="undeclared columns"):       # also when not read
        read_extract(path, payload=("education_level",))


def test_only_the_payload_asked_for_is_read(tmp_path):
    original = make_extract(4)
    path = write_then(tmp_path, original)
    back = read_extract(path, payload=("education_level", "not_a_column"))
    assert back.payload == {"education_level": original.payload["education_level"]}
    assert back.record_ids == original.record_ids and back.exact_tokens == original.exact_tokens
    assert load_encoded(path, payload=()).payload == {}


def test_wrong_clk_shape_is_refused_when_writing(tmp_path):
    extract = make_extract(3)
    extract.clks = extract.clks[:, :64]
    with pytest.raises(ExtractError, match="CLK array has shape"):
        write_extract(tmp_path / "x.parquet", extract)
    assert not (tmp_path / "x.parquet").exists()


def test_clkhash_json_is_read(tmp_path):
    clks = [bytes([i]) * 128 for i in range(3)]
    path = tmp_path / "clks.json"
    path.write_text(json.dumps({"clks": [base64.b64encode(c).decode() for c in clks]}))
    extract = load_encoded(path)
    assert extract.header.clk_bits == 1024
    assert extract.record_ids == ["0", "1", "2"]
    assert extract.clks[2].tobytes() == clks[2]
    assert extract.exact_tokens == [None, None, None]


def test_clkhash_json_with_bad_base64_is_refused(tmp_path):
    path = tmp_path / "clks.json"
    path.write_text(json.dumps({"clks": ["not base64!"]}))
    with pytest.raises(ExtractError, match="not a clkhash CLK file"):
        load_encoded(path)


def write_then(tmp_path, extract):
    path = tmp_path / "base.parquet"
    write_extract(path, extract)
    return path
