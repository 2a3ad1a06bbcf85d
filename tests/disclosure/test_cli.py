import csv
import json

import pytest

from clients.cli import main


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


TABLE = """origin,sex,persons,employed
BE,F,40,20
BE,M,38,30
MA,F,3,1
MA,M,12,6
TR,F,9,4
TR,M,11,7
"""


def test_protect_writes_every_cell_with_status(tmp_path, capsys):
    table = _write(tmp_path / "t.csv", TABLE)
    out = tmp_path / "out.csv"
    rc = main(["protect", "--threshold", "5", "--dimensions", "origin,sex", "--count", "persons",
               str(table), "-o", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 4 * 3
    assert list(rows[0]) == ["origin", "sex", "persons", "status"]
    ma_f = next(r for r in rows if r["origin"] == "MA" and r["sex"] == "F")
    assert ma_f["status"] == "suppressed" and ma_f["persons"] == ""
    assert {r["status"] for r in rows} == {"published", "suppressed"}
    total = next(r for r in rows if r["origin"] == "Total" and r["sex"] == "Total")
    assert total["persons"] == "113" and total["status"] == "published"
    assert "audit passed" in capsys.readouterr().err


def test_protect_rate_table_with_hierarchy_to_json(tmp_path):
    table = _write(tmp_path / "t.csv", TABLE)
    hierarchy = _write(tmp_path / "h.csv", "child,parent\nBE,EU\nMA,nonEU\nTR,nonEU\n")
    out = tmp_path / "out.json"
    rc = main(["protect", "--dimensions", "origin,sex", "--count", "persons", "--numerator",
               "employed", "--hierarchy", f"origin={hierarchy}", str(table), "-o", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    keys = {(c["origin"], c["sex"]) for c in data["cells"]}
    assert ("nonEU", "Total") in keys and len(keys) == 6 * 3
    assert data["audit"] == {"passed": True, "method": data["audit"]["method"],
                             "rules_version": "disclosure-rules/1"}
    assert {c["status"] for c in data["cells"]} == {"published", "suppressed"}
    assert not any("reason" in c for c in data["cells"])
    for cell in data["cells"]:
        if cell["status"] == "published" and cell["persons"]:
            assert cell["employed"] >= 5 and cell["persons"] - cell["employed"] >= 5


@pytest.mark.parametrize("text, extra, message", [
    ("origin,persons\nBE,4\n", [], "column 'sex' is missing"),
    ("origin,sex,persons\nBE,F,4\nBE,F,5\n", [], "row 3: duplicate of row 2"),
    ("origin,sex,persons\nBE,F,-4\n", [], "row 2: column 'persons' must be a whole number"),
    ("origin,sex,persons\nBE,F,4.5\n", [], "row 2: column 'persons' must be a whole number"),
    ("origin,sex,persons,employed\nBE,F,4,5\n", ["--numerator", "employed"],
     "row 2: 'employed' is larger than 'persons'"),
    ("origin,sex,persons\nTotal,F,4\n", [], "row 2: column 'origin' is 'Total'"),
    ("origin,sex,persons\nBE,F,40\n", ["--threshold", "3", "--minimum", "5"], "minimum of 5"),
])
def test_bad_input_is_a_clear_error(tmp_path, capsys, text, extra, message):
    table = _write(tmp_path / "t.csv", text)
    out = tmp_path / "out.csv"
    rc = main(["protect", "--dimensions", "origin,sex", "--count", "persons", *extra,
               str(table), "-o", str(out)])
    assert rc == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_ledger_on_the_command_line_keeps_releases_consistent(tmp_path):
    table = _write(tmp_path / "t.csv", TABLE)
    ledger = tmp_path / "ledger.db"
    outs = []
    for i in range(2):
        out = tmp_path / f"out{i}.csv"
        assert main(["protect", "--dimensions", "sex,origin", "--count", "persons",
                     "--ledger", str(ledger), "--snapshot", "run-1", str(table),
                     "-o", str(out)]) == 0
        outs.append(list(csv.DictReader(out.open(encoding="utf-8"))))
    assert outs[0] == outs[1]
    assert main(["protect", "--dimensions", "sex", "--count", "persons", "--ledger",
                 str(ledger), str(table), "-o", str(tmp_path / "x.csv")]) == 2
