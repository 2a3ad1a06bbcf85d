"""encode_csv: real clkhash encodings, tokens, payload, extract round trip."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow.parquet as pq
import pytest
from clkhash.clk import generate_clks

import linkage.encoding.csvinput as csvinput
import linkage.encoding.encode as encode_module
import linkage.encoding.schema as schema_module
from linkage.encoding import encode_csv, load_schema, schema_from_dict
from linkage.encoding.summary import Summary
from linkage.extract import read_extract, write_extract
from linkage.insz import exact_token, parse_insz, token_key
from linkage.normalise import NORMALISATION_VERSION

from .helpers import IDENTIFIER_COLUMNS, SECRET, VDAB_PAYLOAD, national_number, person, write_csv

COLUMNS = IDENTIFIER_COLUMNS + VDAB_PAYLOAD


def encode(path, secret=SECRET, **options):
    options.setdefault("source", "vdab")
    return encode_csv(path, load_schema("belgian-v1"), secret, **options)


def test_round_trip_through_the_extract_file(tmp_path):
    rows = [person(i) for i in range(12)]
    extract, summary = encode(write_csv(tmp_path / "in.csv", rows, COLUMNS),
                              id_column="record_id", exact_column="insz")
    write_extract(tmp_path / "out.parquet", extract)
    back = read_extract(tmp_path / "out.parquet")
    assert back.record_ids == [row["record_id"] for row in rows]
    assert (back.clks == extract.clks).all() and back.clks.shape == (12, 128)
    assert back.exact_tokens == extract.exact_tokens and all(back.exact_tokens)
    assert back.payload["registration_date"] == [dt.date(2023, 1, 5)] * 12
    assert back.payload["exit_reason"] == [None] * 12
    header = back.header
    assert header.source == "vdab" and header.record_count == 12 and header.normalisation_version == NORMALISATION_VERSION
    assert header.payload_columns == tuple(VDAB_PAYLOAD)
    assert header.summary["exact_token"]["valid_nn"] == 12
    assert header.summary["records"] == summary.records == 12


def test_clks_are_clkhash_encodings_of_the_normalised_values(tmp_path):
    rows = [person(0), person(1)]
    extract, _ = encode(write_csv(tmp_path / "in.csv", rows, COLUMNS))
    schema = load_schema("belgian-v1").clkhash_schema()
    expected = generate_clks(
        [["ian vandenbruk", "02", "01", "1960"], ["fatima elamrani", "03", "02", "1961"]],
        schema, SECRET, validate=True)
    assert [clk.tobytes() for clk in expected] == [bytes(row) for row in extract.clks]


def test_spelling_variants_at_two_providers_encode_identically(tmp_path):
    insz = national_number(dt.date(1990, 7, 5), 41)
    a = person(0, given_names="Jean-Pierre Marie", surname="Van den Broeck", birth_date="05/07/1990", insz=insz)
    b = person(0, given_names="JEAN PIERRE", surname="VANDENBROECK", birth_date="1990-07-05",
               insz=f"{insz[:2]}.{insz[2:4]}.{insz[4:6]}-{insz[6:9]}.{insz[9:]}")
    one, _ = encode(write_csv(tmp_path / "a.csv", [a], COLUMNS), exact_column="insz")
    two, _ = encode(write_csv(tmp_path / "b.csv", [b], COLUMNS), exact_column="insz")
    assert bytes(one.clks[0]) == bytes(two.clks[0])
    assert one.exact_tokens == two.exact_tokens
    assert one.exact_tokens[0] == exact_token(parse_insz(insz), token_key(SECRET))
    assert one.header.fingerprint == two.header.fingerprint


def test_swapped_given_name_and_surname_still_agree(tmp_path):
    straight = person(0, given_names="Leonor", surname="Mejia Ariza")
    swapped = person(0, given_names="Mejia Ariza", surname="Leonor")        # only "Mejia" is a first name
    words_swapped = person(0, given_names="Mejia", surname="Leonor Ariza")
    clks = [encode(write_csv(tmp_path / f"{i}.csv", [row], COLUMNS))[0].clks[0]
            for i, row in enumerate((straight, swapped, words_swapped))]
    assert bytes(clks[0]) == bytes(clks[2])            # the same name words in another order
    bits = [np.unpackbits(clk) for clk in clks]
    dice = 2 * np.sum(bits[0] & bits[1]) / (bits[0].sum() + bits[1].sum())
    assert dice > 0.85                                 # a dropped surname part costs little


def test_transliterated_names_encode_identically(tmp_path):
    a = person(0, given_names="Youssef", surname="Boukhari")
    b = person(0, given_names="Joessef", surname="BUKHARI")
    one, _ = encode(write_csv(tmp_path / "a.csv", [a], COLUMNS))
    two, _ = encode(write_csv(tmp_path / "b.csv", [b], COLUMNS))
    assert bytes(one.clks[0]) == bytes(two.clks[0])


def test_fingerprint_changes_with_the_secret_and_the_normalisation_version(tmp_path, monkeypatch):
    path = write_csv(tmp_path / "in.csv", [person(0)], COLUMNS)
    base = encode(path)[0].header
    other_secret = encode(path, secret=b"another project's secret, 32 bytes+")[0].header
    assert other_secret.fingerprint != base.fingerprint
    assert other_secret.schema_fingerprint == base.schema_fingerprint
    monkeypatch.setattr(schema_module, "NORMALISATION_VERSION", NORMALISATION_VERSION + "-other")
    assert encode(path)[0].header.fingerprint != base.fingerprint


def test_no_plaintext_identifier_is_written(tmp_path):
    rows = [person(i) for i in range(5)]
    extract, _ = encode(write_csv(tmp_path / "in.csv", rows, COLUMNS), exact_column="insz")
    write_extract(tmp_path / "out.parquet", extract)
    table = pq.read_table(tmp_path / "out.parquet")
    assert set(table.column_names) == {"record_id", "clk", "exact_token", *VDAB_PAYLOAD}
    cells = [str(value) for column in table.columns for value in column.to_pylist()]
    cells += [value.decode(errors="replace") for value in table.schema.metadata.values()]
    secrets_ = [row[key] for row in rows for key in ("insz", "given_names", "surname", "birth_date", "postcode")]
    secrets_ += ["vandenbroeck", "vandenbruk", "peeters", "piters", "fatima", "1960-01-02"]
    for cell in cells:
        for value in secrets_:
            assert value.lower() not in cell.lower()


def test_missing_values_and_token_coverage_are_counted(tmp_path):
    rows = [
        person(0),
        person(1, birth_date="00/00/1980", insz=""),
        person(2, given_names="", insz="12345678901"),
        person(3, given_names="", surname="", birth_date="", insz=""),
        person(4, insz=person(0)["insz"]),
    ]
    extract, summary = encode(write_csv(tmp_path / "in.csv", rows, COLUMNS), exact_column="insz")
    counts = summary.counts()
    assert counts["missing"] == {"given_names.first+surname": 1, "birth_date.day": 2,
                                 "birth_date.month": 2, "birth_date.year": 1}
    assert counts["exact_token"] == {"column": "insz", "valid_nn": 2, "valid_bis": 0, "invalid": 1,
                                     "missing": 2, "duplicate": 2}
    assert counts["without_identifiers"] == 1
    assert summary.invalid_token_lines == [4]
    assert extract.exact_tokens[1] is None and extract.exact_tokens[2] is None
    assert extract.clks[3].sum() == 0  # nothing to encode: an empty filter, not a made-up one
    assert extract.header.summary == counts


def test_parallel_workers_give_the_same_extract(tmp_path, monkeypatch):
    monkeypatch.setattr(encode_module, "PARALLEL_FROM_ROWS", 0)
    monkeypatch.setattr(csvinput, "BLOCK_BYTES", 4000)
    path = write_csv(tmp_path / "in.csv", [person(i) for i in range(400)], COLUMNS)
    serial, _ = encode(path, workers=1, id_column="record_id", exact_column="insz")
    parallel, summary = encode(path, workers=2, id_column="record_id", exact_column="insz")
    assert parallel.record_ids == serial.record_ids
    assert (parallel.clks == serial.clks).all()
    assert parallel.exact_tokens == serial.exact_tokens
    assert parallel.payload == serial.payload
    assert summary.records == 400
    numbered = [encode(path, workers=workers)[0].record_ids for workers in (1, 2)]  # row numbers as references
    assert numbered[0] == numbered[1] == [str(number) for number in range(1, 401)]


def _one_feature_schema(format_: dict, **hashing) -> dict:
    return {
        "version": 3,
        "clkConfig": {"l": 512, "kdf": {"type": "HKDF"}},
        "features": [{"identifier": "surname", "format": format_,
                      "hashing": {"comparison": {"type": "ngram", "n": 2},
                                  "strategy": {"bitsPerToken": 15}, **hashing}}],
    }


def test_upper_case_schemas_get_upper_case_values(tmp_path):
    schema = schema_from_dict(_one_feature_schema({"type": "string", "case": "upper"}))
    path = write_csv(tmp_path / "in.csv", [person(0, surname="van den Broeck")], COLUMNS)
    extract, _ = encode_csv(path, schema, SECRET, source="vdab")
    expected = generate_clks([["VANDENBRUK"]], schema.clkhash_schema(), SECRET)[0]
    assert bytes(extract.clks[0]) == expected.tobytes()


def test_the_schema_missing_value_sentinel_counts_as_missing(tmp_path):
    schema = schema_from_dict(_one_feature_schema(
        {"type": "string"}, missingValue={"sentinel": "N/A", "replaceWith": ""}))
    path = write_csv(tmp_path / "in.csv", [person(0, surname="N/A"), person(1)], COLUMNS)
    extract, summary = encode_csv(path, schema, SECRET, source="vdab")
    assert summary.missing["surname"] == 1
    assert extract.clks[0].sum() == 0 and extract.clks[1].sum() > 0


def test_a_bad_row_is_left_out_only_when_allowed(tmp_path):
    rows = [person(0), person(1, record_id=""), person(2)]
    path = write_csv(tmp_path / "in.csv", rows, COLUMNS)
    with pytest.raises(encode_module.RejectedRows) as caught:
        encode(path, id_column="record_id")
    assert "line 3, column 'record_id'" in str(caught.value)
    extract, summary = encode(path, id_column="record_id", max_rejected=1)
    assert extract.record_ids == ["p0", "p2"]
    assert summary.rejected_rows == 1 and summary.problems[0].line == 3
    assert extract.header.summary["rejected_by_column"] == {"record_id": {"empty record reference": 1}}


@pytest.mark.parametrize("raw, note", [
    ("31/02/1990", "no such day in that month"),
    ("1990-13-05", "month above 12"),
    ("05/1990", "day or month unknown"),
    ("yesterday", "not a date in a recognised form"),
    ("01/01/2090", "birth date in the future"),
])
def test_a_noisy_date_is_kept_and_counted_not_rejected(tmp_path, raw, note):
    rows = [person(0), person(1, birth_date=raw), person(2)]
    extract, summary = encode(write_csv(tmp_path / "in.csv", rows, COLUMNS))
    assert extract.record_ids == ["1", "2", "3"] and summary.rejected_rows == 0
    assert [(p.line, p.column) for p in summary.noisy] == [(3, "birth_date")]
    (reason, count), = extract.header.summary["noisy_by_column"]["birth_date"].items()
    assert reason.startswith(note) and count == 1
    assert raw not in summary.render()


def test_an_impossible_date_still_links_on_the_parts_it_holds(tmp_path):
    """31 February keeps its year and month: closer to 28 February than a missing date."""
    typed = [person(0, birth_date="31/02/1990"), person(1, birth_date="")]
    true = [person(0, birth_date="28/02/1990"), person(1, birth_date="28/02/1990")]
    noisy, _ = encode(write_csv(tmp_path / "a.csv", typed, COLUMNS))
    clean, _ = encode(write_csv(tmp_path / "b.csv", true, COLUMNS))

    def dice(a, b):
        a, b = np.unpackbits(a), np.unpackbits(b)
        return 2 * (a & b).sum() / (a.sum() + b.sum())

    assert dice(noisy.clks[0], clean.clks[0]) > dice(noisy.clks[1], clean.clks[1])


def test_integer_zero_and_false_stay_distinct_payload_values(tmp_path):
    """Regression: interning payload values by equality turned False into 0 (0 == False)."""
    education = ["school_year", "level", "track", "delay_years", "early_leaver"]
    rows = [
        person(i, school_year="2022", level="secondary", track="TSO",
               delay_years=str(i % 2), early_leaver=["0", "1", ""][i % 3])
        for i in range(6)
    ]
    extract, _ = encode(write_csv(tmp_path / "edu.csv", rows, IDENTIFIER_COLUMNS + education),
                        source="education", id_column="record_id")
    write_extract(tmp_path / "edu.parquet", extract)
    back = read_extract(tmp_path / "edu.parquet").payload
    assert back["delay_years"] == [0, 1, 0, 1, 0, 1]
    assert back["early_leaver"] == [False, True, None, False, True, None]
    assert all(type(value) is bool for value in back["early_leaver"] if value is not None)


def test_a_replaced_number_links_records_that_still_hold_it(tmp_path):
    from dataclasses import replace

    from linkage.matching import encoded_set, link

    birth = dt.date(1985, 3, 14)
    old, new = national_number(birth, 31, bis_offset=20), national_number(birth, 31)
    register = [person(i, replaced="") for i in range(1, 40)]
    register.append(person(0, insz=new, replaced=old, given_names="Fatima Zahra"))
    register.append(person(40, replaced="12345678901"))
    columns = COLUMNS + ["replaced"]
    extract, summary = encode(write_csv(tmp_path / "register.csv", register, columns),
                              id_column="record_id", exact_column="insz", replaced_column="replaced")
    assert summary.counts()["replaced_token"] == {"column": "replaced", "valid_nn": 0, "valid_bis": 1,
                                                   "invalid": 1, "missing": 39}
    write_extract(tmp_path / "register.parquet", extract)
    back = read_extract(tmp_path / "register.parquet")
    assert back.replaced_tokens == extract.replaced_tokens
    assert back.replaced_tokens[39] == exact_token(parse_insz(old), token_key(SECRET))
    assert back.replaced_tokens[:39] == [None] * 39 and back.replaced_tokens[40] is None

    # the other source still knows person 0 by the old BIS number, and by another spelling
    other = [person(i, record_id=f"q{i}", insz="") for i in range(41, 60)]
    other.append(person(0, record_id="q0", insz=old, given_names="Fatma"))
    theirs, _ = encode(write_csv(tmp_path / "other.csv", other, COLUMNS), id_column="record_id",
                       exact_column="insz")
    assert theirs.replaced_tokens is None
    sets = [replace(encoded_set(back), source="register"), replace(encoded_set(theirs), source="other")]
    result = link(sets, threshold=0.99)
    assert result.quality["replaced_numbers_read"] == 1
    assert result.quality["pairs"][0]["exact"] == 1
    assert result.group_ids[0][39] == result.group_ids[1][19]
    without = link([replace(sets[0], replaced_tokens=None), sets[1]], threshold=0.99)
    assert without.group_ids[0][39] != without.group_ids[1][19]


def test_the_default_number_of_workers_follows_the_cores_and_the_platform(monkeypatch):
    import multiprocessing

    from linkage.encoding import pool

    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _: set(range(16)), raising=False)
    assert pool.default_workers() == pool.MAX_DEFAULT_WORKERS
    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _: {0}, raising=False)
    assert pool.default_workers() == 1
    monkeypatch.setattr(pool.os, "sched_getaffinity", lambda _: {0, 1}, raising=False)
    assert pool.default_workers() == 2
    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert pool.default_workers() == 1  # no fork (Windows): encode in one process


@pytest.mark.parametrize("fill, warned", [(0.45, False), (0.84, False), (0.9, True)])
def test_the_summary_warns_of_encodings_too_full_to_link(fill, warned):
    summary = Summary(features=("given_names",), exact_column=None, clk_bits=1024, records=10,
                      bits_set=int(fill * 10 * 1024))
    assert ("of the CLK bits are set" in summary.render()) is warned
