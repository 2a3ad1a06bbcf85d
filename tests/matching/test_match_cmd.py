"""``linkage match``: inputs (extracts, clkhash JSON), GROUPS.csv, summary, bad input."""

from __future__ import annotations

import base64
import dataclasses
import csv
import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from clients.cli import main
from linkage.extract import Extract, ExtractHeader, write_extract

from .helpers import population


def _clkhash_json(path: Path, clks: np.ndarray) -> Path:
    path.write_text(json.dumps({"clks": [base64.b64encode(row.tobytes()).decode() for row in clks]}))
    return path


def _extract(path: Path, encoded, fingerprint: str = "f" * 64) -> Path:
    header = ExtractHeader(
        source=encoded.source, fingerprint=fingerprint, schema_fingerprint="s" * 64,
        normalisation_version="1", clk_bits=encoded.clks.shape[1] * 8,
        record_count=len(encoded.record_ids), created="2026-11-23T00:00:00+00:00",
        payload_version="1", payload_columns=(),
    )
    write_extract(path, Extract(header, list(encoded.record_ids), encoded.clks, list(encoded.exact_tokens)))
    return path


@pytest.fixture
def pop():
    return population(21, 600, {"ksz": (1.0, 0.0, 0.8), "vdab": (0.5, 0.03, 0.8)})


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_extracts_link_into_a_groups_file(tmp_path, pop, capsys):
    inputs = [str(_extract(tmp_path / f"{s.source}.parquet", s)) for s in pop.sets]
    out = tmp_path / "groups.csv"
    assert main(["match", *inputs, "-o", str(out), "--quality-json", str(tmp_path / "q.json")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("threshold 0.")
    assert "ksz-vdab: 300 linked" in printed
    assert "ksz-vdab: estimated recall" in printed          # no origin in these payloads
    assert "by origin group" not in printed
    with open(out, newline="") as handle:
        assert next(csv.reader(handle)) == ["group_id", "source", "record_id"]
    rows = _rows(out)
    groups = Counter(r["group_id"] for r in rows)
    assert set(groups.values()) == {2}                       # linked groups only, no singletons
    assert sorted(int(g) for g in groups) == list(range(len(groups)))
    by_group: dict[str, dict[str, str]] = {}
    for r in rows:
        assert r["source"] not in by_group.setdefault(r["group_id"], {})
        by_group[r["group_id"]][r["source"]] = r["record_id"]
    person = {f"{s.source}-{i}": p for s, persons in zip(pop.sets, pop.persons) for i, p in enumerate(persons)}
    correct = sum(person[g["ksz"]] == person[g["vdab"]] for g in by_group.values())
    assert correct >= 297 and len(by_group) <= 302
    quality = json.loads((tmp_path / "q.json").read_text())
    assert quality["threshold"]["value"] == float(printed.split()[1])


def test_pairs_kept_apart_by_different_register_numbers_are_reported(tmp_path, pop, capsys):
    """A vdab record given a ksz record's CLK but another register number: not linked, and
    the summary says why."""
    ksz, vdab = pop.sets
    register = [b"\x01" + i.to_bytes(31, "big") for i in range(len(ksz.record_ids))]
    clks = vdab.clks.copy()
    clks[0] = ksz.clks[1]
    tokens = [None] * len(vdab.record_ids)
    tokens[0] = b"\x01" + b"\xfe" * 31
    inputs = [str(_extract(tmp_path / "ksz.parquet", dataclasses.replace(ksz, exact_tokens=register))),
              str(_extract(tmp_path / "vdab.parquet", dataclasses.replace(vdab, clks=clks, exact_tokens=tokens)))]
    assert main(["match", *inputs, "-o", str(tmp_path / "groups.csv")]) == 0
    assert "1 candidate pairs set aside: their national-register numbers differ" in capsys.readouterr().out
    assert not any(r["record_id"] == "vdab-0" for r in _rows(tmp_path / "groups.csv"))


def test_clkhash_json_input_and_singletons(tmp_path, pop, capsys):
    a = _clkhash_json(tmp_path / "alice.json", pop.sets[0].clks)
    b = _clkhash_json(tmp_path / "bob.json", pop.sets[1].clks)
    out = tmp_path / "groups.csv"
    assert main(["match", str(a), str(b), "-o", str(out), "--singletons", "--threshold", "0.8"]) == 0
    assert capsys.readouterr().out.startswith("threshold 0.800 (given")
    rows = _rows(out)
    assert Counter(r["source"] for r in rows) == {"alice": 600, "bob": 300}
    assert sum(c == 2 for c in Counter(r["group_id"] for r in rows).values()) >= 295


def _error(capsys) -> str:
    return capsys.readouterr().err


def test_mismatched_fingerprints_are_a_clear_error(tmp_path, pop, capsys):
    a = _extract(tmp_path / "ksz.parquet", pop.sets[0], fingerprint="a" * 64)
    b = _extract(tmp_path / "vdab.parquet", pop.sets[1], fingerprint="b" * 64)
    out = tmp_path / "groups.csv"
    assert main(["match", str(a), str(b), "-o", str(out)]) == 2
    assert "different linkage configurations" in _error(capsys)
    assert not out.exists()


def test_different_clk_lengths_are_a_clear_error(tmp_path, pop, capsys):
    a = _clkhash_json(tmp_path / "a.json", pop.sets[0].clks)
    b = _clkhash_json(tmp_path / "b.json", pop.sets[1].clks[:, :64])
    assert main(["match", str(a), str(b), "-o", str(tmp_path / "g.csv")]) == 2
    assert "CLKs differ in length" in _error(capsys)


def test_unreadable_and_missing_files_are_clear_errors(tmp_path, pop, capsys):
    good = _clkhash_json(tmp_path / "a.json", pop.sets[0].clks)
    garbage = tmp_path / "b.json"
    garbage.write_bytes(b"\x00\x01 not json")
    assert main(["match", str(good), str(garbage), "-o", str(tmp_path / "g.csv")]) == 2
    assert "not a clkhash CLK file" in _error(capsys)
    assert main(["match", str(good), str(tmp_path / "missing.json"), "-o", str(tmp_path / "g.csv")]) == 2
    assert "cannot read" in _error(capsys)


@pytest.mark.parametrize("value", ["0", "1.2", "-0.5", "high"])
def test_threshold_outside_the_unit_interval_is_refused(tmp_path, pop, value, capsys):
    a = _clkhash_json(tmp_path / "a.json", pop.sets[0].clks)
    with pytest.raises(SystemExit) as stop:
        main(["match", str(a), str(a), "-o", str(tmp_path / "g.csv"), "--threshold", value])
    assert stop.value.code == 2
    assert "--threshold" in _error(capsys)


def test_groups_file_reads_back_and_a_malformed_one_is_refused(tmp_path):
    from linkage.matching import MatchingError
    from linkage.matching.groups_csv import read_groups, write_groups

    out = tmp_path / "g.csv"
    rows = write_groups(out, ["a", "b"], [["x,1", "y"], ["z"]], [np.array([0, 1]), np.array([1])])
    assert rows == 2 and list(read_groups(out)) == [(0, "a", "y"), (0, "b", "z")]
    out.write_text("group,source,record\n")
    with pytest.raises(MatchingError, match="first line must be group_id,source,record_id"):
        list(read_groups(out))
    out.write_text("group_id,source,record_id\nx,a,1\n")
    with pytest.raises(MatchingError, match="line 2"):
        list(read_groups(out))


def test_a_local_dask_cluster_writes_the_same_groups(tmp_path, capsys, monkeypatch):
    from linkage.matching import candidates

    pop = population(22, 3000, {"ksz": (1.0, 0.03, 0.3), "vdab": (0.4, 0.05, 0.3), "education": (0.3, 0.04, 0.3)})
    inputs = [str(_extract(tmp_path / f"{s.source}.parquet", s)) for s in pop.sets]
    assert main(["match", *inputs, "-o", str(tmp_path / "alone.csv"), "--quiet"]) == 0
    monkeypatch.setattr(candidates, "PARTITION_COMPARISONS", 200_000)     # some ten partitions a pair
    assert main(["match", *inputs, "-o", str(tmp_path / "dask.csv"), "--quiet", "--dask", "local:2"]) == 0
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "alone.csv").read_bytes()
    assert len(_rows(tmp_path / "alone.csv")) > 1500


@pytest.mark.parametrize("where, message", [
    ("local:0", "give local:N with N worker processes from 1 to 64"),
    ("scheduler", "neither local:N nor a scheduler address"),
])
def test_a_bad_dask_cluster_is_a_clear_error(tmp_path, pop, capsys, where, message):
    inputs = [str(_extract(tmp_path / f"{s.source}.parquet", s)) for s in pop.sets]
    assert main(["match", *inputs, "-o", str(tmp_path / "g.csv"), "--dask", where]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_beyond_a_given_exhaustive_budget_lsh_settles_what_it_can(tmp_path, pop, capsys):
    inputs = [str(_extract(tmp_path / f"{s.source}.parquet", s)) for s in pop.sets]
    assert main(["match", *inputs, "-o", str(tmp_path / "all.csv")]) == 0
    assert "comparisons, all pairs" in capsys.readouterr().out
    assert main(["match", *inputs, "-o", str(tmp_path / "lsh.csv"), "--exhaustive-budget", "1e3"]) == 0
    assert "comparisons, lsh+all pairs" in capsys.readouterr().out
    assert (tmp_path / "lsh.csv").read_bytes() == (tmp_path / "all.csv").read_bytes()
    with pytest.raises(SystemExit) as stopped:
        main(["match", *inputs, "-o", str(tmp_path / "x.csv"), "--exhaustive-budget", "lots"])
    assert stopped.value.code == 2
    assert "'lots' is not a number of comparisons" in capsys.readouterr().err
