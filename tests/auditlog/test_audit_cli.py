"""``linkage audit verify | checkpoint | show`` through the real command-line entry point."""

import json

import pytest
from cryptography.hazmat.primitives import serialization

from clients.cli import main
from linkage.auditlog import fetch_log, run_entry
from linkage.auditlog.folder import ENTRIES, TREE_HEADS

from .samples import sample_entry


@pytest.fixture
def setup(tmp_path, key, make_log):
    public = tmp_path / "log.pub"
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    log = make_log(10)
    fetch_log(log, tmp_path / "logdir")
    return tmp_path, log, public


def run(capsys, *argv):
    status = main(["audit", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def test_verify_ok_and_failure(setup, capsys):
    tmp_path, _, public = setup
    status, out, _ = run(capsys, "verify", "--log", tmp_path / "logdir", "--public-key", public)
    assert status == 0 and out.startswith("OK: 10 entries, 1 signed tree heads")
    entries = (tmp_path / "logdir" / ENTRIES).read_bytes().replace(b'"vdab"', b'"VDAB"', 1)
    (tmp_path / "logdir" / ENTRIES).write_bytes(entries)
    status, out, err = run(capsys, "verify", "--log", tmp_path / "logdir", "--public-key", public)
    assert status == 1 and out == ""
    assert "FAILED" in err and "entry 0 (line 1 of entries.jsonl) differs" in err


def test_checkpoint_is_stored_then_required_to_hold(setup, capsys, tmp_path, make_log):
    tmp_path, log, public = setup
    checkpoint = tmp_path / "checkpoint.json"
    args = ("checkpoint", "--log", tmp_path / "logdir", "--public-key", public, "-o", checkpoint)
    status, out, _ = run(capsys, *args)
    assert status == 0 and "Stored the newest tree head" in out
    assert json.loads(checkpoint.read_text())["tree_size"] == 10

    log.append_many(sample_entry(i) for i in range(10, 15))
    fetch_log(log, tmp_path / "logdir")
    status, out, _ = run(capsys, "verify", "--log", tmp_path / "logdir", "--public-key", public,
                         "--checkpoint", checkpoint)
    assert status == 0 and "extends your checkpoint" in out
    status, _, _ = run(capsys, *args)
    assert status == 0 and json.loads(checkpoint.read_text())["tree_size"] == 15

    rewritten = make_log(15, name="rewritten.db")  # same key, entries re-created: other times
    fetch_log(rewritten, tmp_path / "other")
    before = checkpoint.read_bytes()
    status, _, err = run(capsys, "checkpoint", "--log", tmp_path / "other", "--public-key", public,
                         "-o", checkpoint)
    assert status == 1 and "fork" in err and "was left unchanged" in err
    assert checkpoint.read_bytes() == before


def test_fetch_with_a_checkpoint_links_it_by_a_consistency_proof(setup, capsys):
    tmp_path, log, public = setup
    checkpoint = tmp_path / "cp.json"
    run(capsys, "checkpoint", "--log", tmp_path / "logdir", "--public-key", public, "-o", checkpoint)
    log.append_many(sample_entry(i) for i in range(10, 13))
    from linkage.auditlog.checkpoint import read_checkpoint
    fetch_log(log, tmp_path / "fresh", checkpoint=read_checkpoint(checkpoint))
    assert len((tmp_path / "fresh" / TREE_HEADS).read_text().splitlines()) == 2
    status, out, _ = run(capsys, "verify", "--log", tmp_path / "fresh", "--public-key", public,
                         "--checkpoint", checkpoint)
    assert status == 0 and "1 consistency proofs" in out


def test_verify_without_a_checkpoint_explains_then_creates_the_first(setup, capsys, tmp_path):
    tmp_path, _, public = setup
    checkpoint = tmp_path / "last.json"
    args = ("verify", "--log", tmp_path / "logdir", "--public-key", public, "--checkpoint", checkpoint)
    status, out, err = run(capsys, *args)
    assert status == 2 and out == "" and not checkpoint.exists()
    assert f"there is no checkpoint {checkpoint} yet" in err
    assert "--create" in err and "linkage audit checkpoint" in err

    status, out, _ = run(capsys, *args, "--create")
    assert status == 0 and "as your first checkpoint" in out
    assert json.loads(checkpoint.read_text())["tree_size"] == 10
    status, out, _ = run(capsys, *args)
    assert status == 0 and "extends your checkpoint" in out


def test_user_errors_exit_2_with_a_message(setup, capsys):
    tmp_path, _, public = setup
    status, _, err = run(capsys, "verify", "--log", tmp_path / "logdir", "--public-key",
                         tmp_path / "missing.pub")
    assert status == 2 and "cannot read the log public key" in err
    (tmp_path / "bad.json").write_text("{}")
    status, _, err = run(capsys, "verify", "--log", tmp_path / "logdir", "--public-key", public,
                         "--checkpoint", tmp_path / "bad.json")
    assert status == 2 and "is not a checkpoint" in err and "Traceback" not in err


def test_show_filters(setup, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    tmp_path, _, _ = setup
    logdir = tmp_path / "logdir"

    def shown(*filters):
        status, out, _ = run(capsys, "show", "--log", logdir, "--json", *filters)
        assert status == 0
        return [row["index"] for row in json.loads(out)]

    assert shown() == list(range(10))
    assert shown("--type", "request") == [2, 7]
    assert shown("--authorisation", "ISC/24/001") == [7]
    assert shown("--requester", "vdab") == [0, 5]
    assert shown("--refusals") == [0, 3, 8]  # refused upload, two refusals
    assert shown("--since", "2000-01-01", "--until", "2999-12-31") == list(range(10))
    assert shown("--until", "2000-01-01") == []
    status, out, _ = run(capsys, "show", "--log", logdir, "--type", "refusal")
    assert status == 0 and "unknown-org" in out and "no client certificate" in out


def test_show_until_a_date_includes_that_whole_day(setup, capsys):
    tmp_path, log, _ = setup
    day = json.loads(log.entries(0, 1)[0])["ts"][:10]
    status, out, _ = run(capsys, "show", "--log", tmp_path / "logdir", "--json", "--until", day)
    assert status == 0 and len(json.loads(out)) == 10
    with pytest.raises(SystemExit):
        main(["audit", "show", "--log", str(tmp_path / "logdir"), "--since", "yesterday"])


def _runs_in(log):
    """A run started by an operator, then its completion (which names only the run)."""
    log.append(run_entry("run-a", {"threshold": None}, {}, state="started", started_by="operator"))
    log.append(run_entry("run-a", {"threshold": 0.81}, {"entities": 9}, state="completed", seconds=2.5))


def test_show_fills_who_for_every_state_of_a_run(setup, capsys):
    tmp_path, log, _ = setup
    _runs_in(log)
    fetch_log(log, tmp_path / "logdir")
    status, out, _ = run(capsys, "show", "--log", tmp_path / "logdir", "--format", "json", "--type", "run")
    runs = {row["index"]: row for row in json.loads(out)}
    assert status == 0 and runs[10]["who"] == runs[11]["who"] == "operator"
    assert runs[11]["entry"]["state"] == "completed"
    status, out, _ = run(capsys, "show", "--log", tmp_path / "logdir", "--json", "--requester", "operator")
    assert [row["index"] for row in json.loads(out)] == [10, 11]


def test_show_table_fits_80_columns(setup, capsys, monkeypatch):
    tmp_path, log, _ = setup
    _runs_in(log)
    fetch_log(log, tmp_path / "logdir")
    monkeypatch.setenv("COLUMNS", "80")
    status, out, _ = run(capsys, "show", "--log", tmp_path / "logdir")
    lines = out.splitlines()
    assert status == 0 and max(len(line) for line in lines) <= 80
    assert any(line.split()[:1] == ["11"] and "operator" in line and "completed" in line for line in lines)
    # wrapped at word boundaries only: the refusal's reason reads back word for word
    assert "aggregate: no client certificate for this service" in " ".join(out.split())


def test_show_csv_has_one_row_per_entry_and_full_hashes(setup, capsys):
    import csv
    import io

    tmp_path, log, _ = setup
    status, out, _ = run(capsys, "show", "--log", tmp_path / "logdir", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [int(row["index"]) for row in rows] == list(range(10))
    requests = [row for row in rows if row["type"] == "request"]
    expected = [json.loads(entry) for entry in log.entries(0, 10)]
    for row in requests:
        entry = expected[int(row["index"])]
        assert row["request_hash"] == entry["request_hash"] and len(row["request_hash"]) == 64
        assert row["authorisation"] == entry["authorisation"] and row["who"] == "statistics"
        assert row["suppressed_cells"] == ("7" if entry["table_hash"] else "")
    assert {row["decision"] for row in rows if row["type"] == "refusal"} == {"refused"}


def test_a_filter_that_matches_nothing_warns_with_what_the_log_holds(setup, capsys):
    tmp_path, _, _ = setup
    status, out, err = run(capsys, "show", "--log", tmp_path / "logdir", "--json", "--authorisation", "IVC-24-001")
    assert status == 0 and json.loads(out) == []
    assert "--authorisation IVC-24-001 matches nothing" in err
    assert "ISC/24/001" in err and "ISC/24/002" in err
    status, out, err = run(capsys, "show", "--log", tmp_path / "logdir", "--requester", "vdab", "--type", "request")
    assert status == 0 and out == "" and "none matches them all" in err
    status, _, err = run(capsys, "show", "--log", tmp_path / "logdir", "--type", "request")
    assert "warning" not in err
