"""Every bad-input path through the real command line: a clear message, exit 2, nothing written."""

from __future__ import annotations

import json

import clkhash.schema
import numpy as np
import pytest
from clkhash.validate_data import EntryError, validate_entries

import linkage.encoding.csvinput as csvinput
import linkage.encoding.encode as encode_module
from clients.cli import main
from linkage.extract import read_extract

from .helpers import IDENTIFIER_COLUMNS, VDAB_PAYLOAD, person, write_csv

COLUMNS = IDENTIFIER_COLUMNS + VDAB_PAYLOAD


def run(tmp_path, secret_file, rows=None, *extra, csv_path=None, schema="belgian-v1"):
    csv_path = csv_path or write_csv(tmp_path / "in.csv", rows or [person(i) for i in range(3)], COLUMNS)
    output = tmp_path / "out.parquet"
    argv = ["encode", "--schema", str(schema), "--secret-file", str(secret_file), "--quiet",
            str(csv_path), "-o", str(output), *extra]
    if "--source" not in extra:
        argv += ["--source", "vdab"]
    return main(argv), output


def assert_refused(capsys, code, output, *fragments):
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert not output.exists() and not output.with_name(output.name + ".partial").exists()
    for fragment in fragments:
        assert fragment in err, err
    return err


def test_a_good_file_encodes_with_a_summary(tmp_path, secret_file, capsys):
    code, output = run(tmp_path, secret_file, None, "--exact-column", "insz", "--id-column", "record_id")
    err = capsys.readouterr().err
    assert code == 0, err
    assert "encoded 3 of 3 rows" in err and "3 valid" in err and "missing values per feature" in err
    assert read_extract(output).record_ids == ["p0", "p1", "p2"]


def test_missing_column(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0)], [c for c in COLUMNS if c != "surname"])
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "no column 'surname'")


def test_missing_payload_column(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0)], [c for c in COLUMNS if c != "education_level"])
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "'education_level'", "vdab payload")


def test_an_impossible_date_is_kept_and_noted_by_line_and_column_but_not_the_value(tmp_path, secret_file, capsys):
    rows = [person(0), person(1), person(2, birth_date="1990-13-45")]
    code, output = run(tmp_path, secret_file, rows)
    err = capsys.readouterr().err
    assert code == 0, err
    assert "encoded 3 of 3 rows" in err and "birth_date: month above 12" in err and "first lines: 4" in err
    assert "1990-13-45" not in err
    assert read_extract(output).header.summary["noisy_by_column"] == {
        "birth_date": {"month above 12; kept for its year and day": 1}}


def test_a_row_with_the_wrong_number_of_fields_is_refused_by_line(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0), person(1)], COLUMNS)
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("p9,only,three\n")
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "line 4, column '(row)'", "has 3 fields", "--max-rejected")


def test_max_rejected_leaves_the_row_out_and_reports_it(tmp_path, secret_file, capsys):
    rows = [person(0), person(1, exit_reason="fired"), person(2)]
    code, output = run(tmp_path, secret_file, rows, "--max-rejected", "1")
    err = capsys.readouterr().err
    assert code == 0
    assert "rejected 1 rows" in err and "line 3, column 'exit_reason'" in err
    assert read_extract(output).header.record_count == 2


def test_a_column_of_month_first_dates_is_refused_as_a_format_fault(tmp_path, secret_file, capsys):
    """Many impossible dates in one column are a format, not typing errors."""
    rows = [person(i, birth_date=f"{1 + i % 12:02d}/{13 + i % 15:02d}/1980") for i in range(200)]
    code, output = run(tmp_path, secret_file, rows)
    err = assert_refused(capsys, code, output, "'birth_date' (200 of 200 rows)", "day-month-year order")
    assert "/1980" not in err


def test_bad_payload_value(tmp_path, secret_file, capsys):
    rows = [person(0, exit_reason="fired")]
    code, output = run(tmp_path, secret_file, rows)
    err = assert_refused(capsys, code, output, "line 2, column 'exit_reason'", "not one of work")
    assert "fired" not in err


def test_empty_secret_file(tmp_path, capsys):
    secret = tmp_path / "empty.secret"
    secret.write_bytes(b"\n  \n")
    code, output = run(tmp_path, secret)
    assert_refused(capsys, code, output, "is empty", "secrets.token_hex")


def test_world_readable_secret_warns_but_works(tmp_path, secret_file, capsys):
    secret_file.chmod(0o644)
    code, _ = run(tmp_path, secret_file)
    err = capsys.readouterr().err
    assert code == 0 and "readable by every user" in err and "chmod 600" in err


def test_missing_secret_file(tmp_path, capsys):
    code, output = run(tmp_path, tmp_path / "nowhere.secret")
    assert_refused(capsys, code, output, "cannot read secret file")


def test_schema_that_is_not_json(tmp_path, secret_file, capsys):
    schema = tmp_path / "schema.json"
    schema.write_text("{'version': 3}")
    code, output = run(tmp_path, secret_file, schema=schema)
    assert_refused(capsys, code, output, "not valid JSON")


def test_schema_that_is_not_a_linkage_schema(tmp_path, secret_file, capsys):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"version": 3, "clkConfig": {"l": 1024}, "features": []}))
    code, output = run(tmp_path, secret_file, schema=schema)
    assert_refused(capsys, code, output, "not a valid clkhash v3 schema", "kdf")


def _surname_schema(tmp_path, **clk_config):
    document = {
        "version": 3,
        "clkConfig": {"l": 1024, "kdf": {"type": "HKDF"}, **clk_config},
        "features": [{"identifier": "surname", "format": {"type": "string", "case": "lower"},
                      "hashing": {"comparison": {"type": "ngram", "n": 2}, "strategy": {"bitsPerToken": 10}}}],
    }
    path = tmp_path / f"schema{len(clk_config)}{sorted(clk_config)}.json"
    path.write_text(json.dumps(document))
    return path, document


def test_documented_xor_folds_is_applied(tmp_path, secret_file, capsys):
    folded, _ = _surname_schema(tmp_path, xorFolds=1)
    plain, _ = _surname_schema(tmp_path)
    rows = [person(i) for i in range(3)]
    code, output = run(tmp_path, secret_file, rows, schema=folded)
    assert code == 0, capsys.readouterr().err
    folded_clks = read_extract(output).clks
    code, output = run(tmp_path, secret_file, rows, schema=plain)
    assert code == 0
    assert (folded_clks != read_extract(output).clks).any()
    assert folded_clks.sum() < read_extract(output).clks.sum()  # folding merges bits


def test_conflicting_xor_folds_are_refused(tmp_path, secret_file, capsys):
    schema, _ = _surname_schema(tmp_path, xorFolds=1, xor_folds=0)
    code, output = run(tmp_path, secret_file, schema=schema)
    assert_refused(capsys, code, output, "keep one of them")


def test_upper_case_input_with_case_lower_is_normalised_first(tmp_path, secret_file, capsys):
    schema, document = _surname_schema(tmp_path)
    # clkhash on its own refuses this input instead of lower-casing it:
    fields = clkhash.schema.from_json_dict(document).fields
    with pytest.raises(EntryError):
        validate_entries(fields, [["PEETERS"]])
    rows = [person(0, surname="PEETERS"), person(1, surname="peeters")]
    code, output = run(tmp_path, secret_file, rows, schema=schema)
    assert code == 0, capsys.readouterr().err
    clks = read_extract(output).clks
    assert (clks[0] == clks[1]).all()


@pytest.mark.timeout(180)
def test_a_row_that_hangs_clkhash_multiprocessing_finishes(tmp_path, secret_file, capsys, monkeypatch):
    """clkhash with several workers hangs forever on one invalid row among >= 10,000; ours
    rejects a bad row and keeps a noisy one, in the workers as in one process."""
    monkeypatch.setattr(encode_module, "PARALLEL_FROM_ROWS", 8000)
    monkeypatch.setattr(csvinput, "BLOCK_BYTES", 100_000)
    rows = [person(i) for i in range(10_001)]
    rows[7_777]["exit_reason"] = "fired"
    rows[3_333]["birth_date"] = "not a date"
    path = write_csv(tmp_path / "big.csv", rows, COLUMNS)
    code, output = run(tmp_path, secret_file, None, "--workers", "2", csv_path=path)
    assert_refused(capsys, code, output, "line 7779, column 'exit_reason'")
    code, output = run(tmp_path, secret_file, None, "--workers", "2", "--max-rejected", "1", csv_path=path)
    assert code == 0
    header = read_extract(output).header
    assert header.record_count == 10_000
    assert header.summary["noisy_by_column"] == {"birth_date": {"not a date in a recognised form; counted missing": 1}}


def test_without_source_the_extract_holds_identifiers_only_and_links(tmp_path, secret_file, capsys):
    columns = [c for c in IDENTIFIER_COLUMNS]          # no payload column at all
    for name, first in (("left", 0), ("right", 1)):
        path = write_csv(tmp_path / f"{name}.csv", [person(i) for i in range(first, first + 4)], columns)
        code = main(["encode", "--schema", "belgian-v1", "--secret-file", str(secret_file), "--quiet",
                     "--exact-column", "insz", "--id-column", "record_id", str(path), "-o", str(tmp_path / f"{name}.parquet")])
        assert code == 0, capsys.readouterr().err
        extract = read_extract(tmp_path / f"{name}.parquet")
        assert extract.header.source == "" and extract.header.payload_columns == () and extract.payload == {}
    groups = tmp_path / "groups.csv"
    assert main(["match", "--quiet", str(tmp_path / "left.parquet"), str(tmp_path / "right.parquet"), "-o", str(groups)]) == 0
    rows = groups.read_text().splitlines()
    linked = {tuple(r.split(",")[1:]) for r in rows[1:]}
    assert ("left", "p1") in linked and ("right", "p1") in linked and ("right", "p4") not in linked
    import grpc

    from clients.broker_cmds import upload_extract
    from linkage.errors import LinkageError
    with grpc.insecure_channel("127.0.0.1:9") as channel, pytest.raises(LinkageError, match="identifiers only"):
        upload_extract(channel, tmp_path / "left.parquet")   # refused before anything is sent


def test_an_unknown_source_is_refused(tmp_path, secret_file, capsys):
    code, output = run(tmp_path, secret_file, None, "--source", "police")
    assert_refused(capsys, code, output, "unknown source 'police'")


def test_duplicate_record_references(tmp_path, secret_file, capsys):
    rows = [person(0), person(1, record_id="p0")]
    code, output = run(tmp_path, secret_file, rows, "--id-column", "record_id")
    assert_refused(capsys, code, output, "lines 2 and 3")


def test_an_identifier_cannot_be_the_record_reference(tmp_path, secret_file, capsys):
    code, output = run(tmp_path, secret_file, None, "--id-column", "insz", "--exact-column", "insz")
    assert_refused(capsys, code, output, "is an identifier")


def test_output_must_not_overwrite_the_input(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0)], COLUMNS)
    before = path.read_bytes()
    code = main(["encode", "--schema", "belgian-v1", "--secret-file", str(secret_file), "--source", "vdab",
                 str(path), "-o", str(path)])
    assert code == 2 and "names the input file" in capsys.readouterr().err
    assert path.read_bytes() == before


def test_not_utf8(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0), person(1)], COLUMNS)
    path.write_bytes(path.read_bytes().replace("Fatima".encode(), "F\xe2tima".encode("latin-1")))
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "line 3 is not UTF-8")


def test_a_nul_byte_in_a_field_is_a_clear_error_naming_line_and_column(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0), person(1)], COLUMNS)
    path.write_bytes(path.read_bytes().replace(b"Fatima", b"Fat\x00ima"))
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "line 3, column", "holds a NUL byte")


def test_a_file_with_a_byte_order_mark_encodes_as_without(tmp_path, secret_file, capsys):
    plain = write_csv(tmp_path / "plain.csv", [person(0), person(1)], COLUMNS)
    marked = tmp_path / "marked.csv"
    marked.write_bytes("\ufeff".encode() + plain.read_bytes())
    extracts = []
    for path in (plain, marked):
        code, output = run(tmp_path, secret_file, csv_path=path)
        assert code == 0, capsys.readouterr().err
        extracts.append(read_extract(output))
    assert extracts[1].record_ids == extracts[0].record_ids
    assert np.array_equal(extracts[1].clks, extracts[0].clks)


def test_row_with_the_wrong_number_of_fields(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0), person(1)], COLUMNS)
    path.write_text(path.read_text() + "p9,1,2\n")
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "line 4", "3 fields where the header has 11")


def test_semicolon_csv_and_blank_lines(tmp_path, secret_file, capsys):
    path = write_csv(tmp_path / "in.csv", [person(0), person(1)], COLUMNS, delimiter=";")
    path.write_text(path.read_text() + "\n\n")
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert code == 0, capsys.readouterr().err
    assert read_extract(output).header.record_count == 2


def test_header_only(tmp_path, secret_file, capsys):
    path = tmp_path / "in.csv"
    path.write_text(",".join(COLUMNS) + "\n")
    code, output = run(tmp_path, secret_file, csv_path=path)
    assert_refused(capsys, code, output, "no records")
