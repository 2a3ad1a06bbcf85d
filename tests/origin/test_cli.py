"""`linkage origin classify` and `linkage origin definitions`, end to end."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from clients.cli import main

HEADER = "person,nat_current,nat_first,nat_first_father,nat_first_mother"


def _write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_classify_adds_origin_columns_and_keeps_the_rest(tmp_path, capsys):
    source = _write(tmp_path / "in.csv", HEADER, "a,150,150,150,150", "b,BEL,MAR,354,", "c,139,139,139,139",
                    "d,150,150,,", "e,999,,,")
    out = tmp_path / "out.csv"
    assert main(["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01",
                 str(source), "-o", str(out)]) == 0
    rows = _rows(out)
    assert [r["person"] for r in rows] == ["a", "b", "c", "d", "e"]
    assert [(r["origin_category"], r["origin_country"], r["origin_group"], r["generation"]) for r in rows] == [
        ("belgian_belgian_origin", "150", "belgium", "none"),
        ("belgian_foreign_origin", "354", "maghreb", "first"),
        ("non_belgian", "139", "eu13", "first"),
        ("undeterminable", "", "unknown", "unknown"),
        ("unknown", "", "unknown", "unknown"),
    ]
    assert rows[1]["nat_current"] == "BEL"  # input columns are copied as they were
    assert "5 rows classified with sem v1" in capsys.readouterr().err


def test_classify_reads_iso_alpha3_alpha2_and_kosovo(tmp_path):
    source = _write(tmp_path / "in.csv", HEADER, "k,XKX,XKX,XKX,XKX", "m,MA,ma,MAR,354", "t,TR,TUR,262,tr")
    out = tmp_path / "out.csv"
    assert main(["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01",
                 str(source), "-o", str(out)]) == 0
    assert [(r["origin_country"], r["generation"]) for r in _rows(out)] == [
        ("153", "first"), ("354", "first"), ("262", "first")]


def test_grouping_option_and_date_awareness(tmp_path):
    source = _write(tmp_path / "in.csv", HEADER, "p,139,139,139,139")
    groups = {}
    for day in ("2004-04-30", "2004-05-01"):
        out = tmp_path / f"out-{day}.csv"
        assert main(["origin", "classify", "--definition", "sem", "--grouping", "belgian_eu_noneu",
                     "--reference-date", day, str(source), "-o", str(out)]) == 0
        groups[day] = _rows(out)[0]["origin_group"]
    assert groups == {"2004-04-30": "non_eu", "2004-05-01": "eu_other"}


def test_semicolon_delimited_input(tmp_path):
    source = _write(tmp_path / "in.csv", HEADER.replace(",", ";"), "x;150;150;354;354")
    out = tmp_path / "out.csv"
    assert main(["origin", "classify", "--definition", "statbel", "--reference-date", "2024-01-01",
                 "--delimiter", ";", str(source), "-o", str(out)]) == 0
    expected = "x;150;150;354;354;belgian_foreign_background;354;non_eu;second_two_parents"
    assert out.read_text().splitlines()[1] == expected


@pytest.mark.parametrize(("lines", "message"), [
    ((HEADER, "a,150,150,150,150", "b,150,XYZ,150,150"), "row 2, column nat_first"),
    ((HEADER, "a,150,150,150,150", "b,150,150,150,998"), "row 2, column nat_first_mother"),
    (("person,nat_current,nat_first", "a,150,150"), "lacks column(s) nat_first_father, nat_first_mother"),
    ((HEADER, "a,150,150,150"), "row 1 has 4 fields but the header has 5"),
    ((HEADER + ",origin_group", "a,150,150,150,150,x"), "already has column(s) origin_group"),
    (("",), "empty"),
])
def test_bad_input_is_a_clear_error_and_writes_nothing(tmp_path, capsys, lines, message):
    source = _write(tmp_path / "in.csv", *lines)
    out = tmp_path / "out.csv"
    out.write_text("previous result\n")
    assert main(["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01",
                 str(source), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert "XYZ" not in err and "998" not in err  # values never appear in messages
    assert out.read_text() == "previous result\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]  # no temporary file left


def test_unknown_definition_names_the_known_ones(tmp_path, capsys):
    source = _write(tmp_path / "in.csv", HEADER, "a,150,150,150,150")
    assert main(["origin", "classify", "--definition", "vesoc", "--reference-date", "2024-01-01",
                 str(source), "-o", str(tmp_path / "out.csv")]) == 2
    err = capsys.readouterr().err
    assert "unknown origin definition 'vesoc'" in err and "sem, statbel, serv_eu15" in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(("options", "message"), [
    (["--grouping", "continents"], "unknown grouping 'continents'; known groupings: belgium, eu15"),
    (["--delimiter", ";;"], "delimiter must be one character"),
    (["-o", "no/such/dir/out.csv"], "cannot write no/such/dir/out.csv"),
])
def test_bad_options(tmp_path, capsys, monkeypatch, options, message):
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "in.csv", HEADER, "a,150,150,150,150")
    args = ["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01", "in.csv", *options]
    if "-o" not in options:
        args += ["-o", "out.csv"]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_non_utf8_input(tmp_path, capsys):
    source = tmp_path / "in.csv"
    source.write_bytes((HEADER + "\nJos\xe9,150,150,150,150\n").encode("latin-1"))
    assert main(["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01",
                 str(source), "-o", str(tmp_path / "out.csv")]) == 2
    assert "not UTF-8" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_missing_input_file(tmp_path, capsys):
    assert main(["origin", "classify", "--definition", "sem", "--reference-date", "2024-01-01",
                 str(tmp_path / "absent.csv"), "-o", str(tmp_path / "out.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_bad_reference_date_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["origin", "classify", "--definition", "sem", "--reference-date", "1/1/2024",
              str(tmp_path / "in.csv"), "-o", str(tmp_path / "out.csv")])
    assert exit_.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_definitions_json_lists_definitions_and_country_sets(capsys):
    assert main(["origin", "definitions", "--json", "--reference-date", "2010-01-01"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert [d["name"] for d in listing["definitions"]] == ["sem", "statbel", "serv_eu15", "non_eu_first_nationality"]
    groupings = {g["name"]: g for g in listing["groupings"]}
    eu = {m["key"] for m in groupings["eu"]["groups"]["eu"]}
    assert "GB" in eu and "HR" not in eu and len({"BE", "PL", "RO"} & eu) == 3
    assert groupings["sem_regions"]["date_aware"] is False
    candidates = {m["key"] for m in groupings["sem_regions"]["groups"]["candidates"]}
    assert candidates == {"AL", "ME", "MK", "RS", "TR", "CSXX"}


def test_definitions_text_listing(capsys):
    assert main(["origin", "definitions"]) == 0
    out = capsys.readouterr().out
    assert "serv_eu15 (version 1" in out and "caveat: Grandparents are not available" in out
    assert "maghreb [6]: 351 Algeria, 353 Libya, 354 Morocco, 355 Mauritania, 357 Tunisia, 388 Western Sahara" in out


def test_installed_command_runs(tmp_path):
    source = _write(tmp_path / "in.csv", HEADER, "a,150,150,262,262")
    out = tmp_path / "out.csv"
    linkage = Path(sys.executable).with_name("linkage")
    done = subprocess.run([str(linkage), "origin", "classify", "--definition", "serv_eu15", "--reference-date",
                           "2024-01-01", str(source), "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert _rows(out)[0]["origin_category"] == "non_eu15_origin"
