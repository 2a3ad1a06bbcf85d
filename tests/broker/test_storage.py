"""Storage: metadata in SQLite, sealed bulk files, recovery after a crash, retention."""

from __future__ import annotations

import datetime as dt
import os
import stat

import pyarrow as pa
import pytest

from server.storage import ExtractRecord, RunRecord, StorageError, Store, utc_now
from tests.broker.helpers import make_extract

KEY = os.urandom(32)


def _record(extract_id: str, source: str = "vdab", received_at: str | None = None) -> ExtractRecord:
    return ExtractRecord(extract_id=extract_id, source=source, organisation=source, record_count=3,
                         size_bytes=10, clk_bits=1024, fingerprint="fp", created="c",
                         received_at=received_at or utc_now(), state="current",
                         receipt_statement=b"{}", receipt_signature=b"s")


def _store(store: Store, content: bytes, record: ExtractRecord) -> None:
    with store.sealing_extract(record.extract_id) as sink:
        sink.write(content)
    store.commit_extract(record)


def test_a_new_extract_supersedes_the_current_one(tmp_path):
    store = Store(tmp_path, KEY)
    _store(store, b"one", _record("a" * 64))
    _store(store, b"two", _record("b" * 64))
    assert store.current_extracts()["vdab"].extract_id == "b" * 64
    assert store.extract("a" * 64).state == "superseded"
    assert store.extract_bytes("a" * 64) == b"one"
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    assert b"two" not in (tmp_path / "extracts" / f"{'b' * 64}.sealed").read_bytes()


def test_a_wrong_data_key_is_refused(tmp_path):
    Store(tmp_path, KEY).close()
    with pytest.raises(StorageError, match="another key"):
        Store(tmp_path, os.urandom(32))


def test_recover_removes_orphans_and_interrupts_running_runs(tmp_path):
    store = Store(tmp_path, KEY)
    _store(store, b"kept", _record("a" * 64))
    (tmp_path / "extracts" / f"{'c' * 64}.sealed").write_bytes(b"orphan: sealed but never committed")
    (tmp_path / "extracts" / ".x.sealed.tmp").write_bytes(b"half written")
    (tmp_path / "extracts" / f"{'d' * 64}.staged").write_bytes(b"validated copy of an upload never committed")
    (tmp_path / "runs" / "r1.sealed").write_bytes(b"clusters of a run that never completed")
    store.create_run(RunRecord("r1", "running", utc_now(), "op", [], {}))
    with pytest.raises(StorageError, match="another run"):
        store.create_run(RunRecord("r2", "running", utc_now(), "op", [], {}))
    store.close()
    reopened = Store(tmp_path, KEY)
    removed, interrupted = reopened.recover()
    assert removed == 4
    assert [run.run_id for run in interrupted] == ["r1"]
    assert reopened.run("r1").state == "interrupted"
    assert sorted(p.name for p in (tmp_path / "extracts").iterdir()) == [f"{'a' * 64}.sealed"]
    assert reopened.extract_bytes("a" * 64) == b"kept"


def test_run_clusters_and_inputs_for_the_aggregate_step(tmp_path):
    store = Store(tmp_path / "d", KEY)
    for source in ("ksz", "vdab"):
        path = make_extract(tmp_path / f"{source}.parquet", source, 20)
        _store(store, path.read_bytes(), _record(source[0] * 64, source))
    inputs = [{"source": s, "extract_id": s[0] * 64, "record_count": 20} for s in ("ksz", "vdab")]
    store.create_run(RunRecord("r1", "running", utc_now(), "op", inputs, {}))
    clusters = pa.table({"source": ["ksz"] * 20 + ["vdab"] * 20,
                         "record_id": [f"ksz-{i}" for i in range(20)] + [f"vdab-{i}" for i in range(20)],
                         "entity_id": pa.array(list(range(20)) * 2, pa.int64())})
    store.complete_run("r1", clusters, 0.8, "given", {"threshold": 0.8}, {"entities": 20})
    loaded, payloads = store.load_run_inputs()
    assert loaded.equals(clusters)
    assert set(payloads) == {"ksz", "vdab"}
    assert "clk" not in payloads["ksz"].column_names and "exact_token" not in payloads["ksz"].column_names
    assert "nat_first_father" in payloads["ksz"].column_names
    assert store.run("r1").entity_count == 20


def test_retention_deletes_old_superseded_extracts_but_not_those_of_the_latest_run(tmp_path):
    store = Store(tmp_path, KEY)
    long_ago = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=40)).isoformat(timespec="seconds")
    _store(store, b"old", _record("a" * 64, received_at=long_ago))
    _store(store, b"used", _record("b" * 64, received_at=long_ago))  # supersedes a, 40 days ago
    _store(store, b"new", _record("c" * 64))  # supersedes b now
    _store(store, b"ksz", _record("d" * 64, source="ksz", received_at=long_ago))
    _store(store, b"ksz2", _record("e" * 64, source="ksz"))  # supersedes d now
    store.create_run(RunRecord("r", "running", utc_now(), "op", [{"source": "vdab", "extract_id": "b" * 64}], {}))
    store.complete_run("r", pa.table({"entity_id": pa.array([], pa.int64())}), 0.8, "given", {}, {})
    assert store.apply_retention(days=30) == ["a" * 64]
    assert not (tmp_path / "extracts" / f"{'a' * 64}.sealed").exists()
    assert store.extract("a" * 64).state == "deleted"
    with pytest.raises(StorageError, match="not stored"):
        store.extract_bytes("a" * 64)
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=31)
    assert store.apply_retention(days=30, now=later) == ["d" * 64]  # b is kept: the latest run used it
    assert store.extract_bytes("b" * 64) == b"used"


def test_an_organisations_unfinished_uploads_are_its_own_only(tmp_path):
    store = Store(tmp_path, KEY)
    for name in ("vdab-" + "a" * 64, "vdab-west-" + "b" * 64, "vdabx-" + "c" * 64):
        (tmp_path / "incoming" / f"{name}.part").write_bytes(b"")
    assert [extract_id for extract_id, _ in store.partials("vdab")] == ["a" * 64]
    assert [extract_id for extract_id, _ in store.partials("vdab-west")] == ["b" * 64]
