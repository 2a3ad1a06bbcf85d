"""Uploads an attacker or an unlucky provider would send, against a real broker over mutual TLS:
unfinished uploads, damaged headers, smuggled metadata, identifier-like references, a
decompression bomb, a full disk."""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clients.broker_cmds import BrokerCallError, upload_extract
from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from server import logs, sealed
from server.process import BrokerProcess
from tests.broker.helpers import make_extract
from tests.broker.test_e2e_upload import _entries, _manifest, _nothing_stored, _raw_upload

pytestmark = pytest.mark.timeout(120)


def _truncated_uploads(handle, channel, tmp_path, count: int, seed: int = 10, source: str = "vdab") -> set[str]:
    """``count`` uploads of ``source`` (by its organisation) that break off; their extract ids."""
    provider = channel(handle, source)
    ids = set()
    for i in range(count):
        content = make_extract(tmp_path / f"{source}{seed + i}.parquet", source, 300, seed=seed + i).read_bytes()
        with pytest.raises(grpc.RpcError):
            _raw_upload(provider, _manifest(content, source), [content[:4000]])
        ids.add(hashlib.sha256(content).hexdigest())
    return ids


def _held(incoming, organisation: str) -> set[str]:
    return {path.stem.rpartition("-")[2] for path in incoming.glob(f"{organisation}-*.part")}


def _age(folder, hours: float) -> None:
    past = time.time() - hours * 3600
    for path in folder.iterdir():
        os.utime(path, (past, past))


def test_unfinished_uploads_expire_so_a_provider_is_never_locked_out(start_broker, channel, tmp_path):
    handle = start_broker(upload_expiry_hours=1.0, retention_sweep_seconds=0.2)
    incoming = handle.store.root / "incoming"
    vdab = channel(handle, "vdab")
    fresh = make_extract(tmp_path / "new.parquet", "vdab", 100, seed=99)
    content = fresh.read_bytes()
    with pytest.raises(grpc.RpcError) as caught:  # a resume at a wrong offset leaves nothing behind
        _raw_upload(vdab, _manifest(content, "vdab"), [content[7000:]], offset=7000)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert list(incoming.iterdir()) == []
    _truncated_uploads(handle, channel, tmp_path, 3)
    _age(incoming, 0.5)
    recent = _truncated_uploads(handle, channel, tmp_path, 3, seed=20)
    held = _held(incoming, "vdab")
    assert len(held) == 4 and recent < held  # at most four per organisation: the longest idle went
    assert [e["count"] for e in _entries(handle, "uploads_replaced")] == [1, 1]
    others = _truncated_uploads(handle, channel, tmp_path, 2, seed=30, source="ksz")
    assert upload_extract(vdab, fresh).facts["record_count"] == 100  # never locked out
    assert _held(incoming, "vdab") == recent and _held(incoming, "ksz") == others
    _age(incoming, 2)
    deadline = time.monotonic() + 10
    while list(incoming.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert list(incoming.iterdir()) == []
    expired = _entries(handle, "uploads_expired")
    assert expired and expired[0]["count"] == 5 and expired[0]["organisations"] == ["ksz", "vdab"]


def test_uploads_receiving_data_are_never_replaced(broker, channel, tmp_path):
    """Four uploads of one organisation still streaming: a fifth waits for one of them."""
    incoming, vdab = broker.store.root / "incoming", channel(broker, "vdab")
    release = threading.Event()

    def stalled(content: bytes):
        yield content[:4000]
        release.wait(20)

    with ThreadPoolExecutor(4) as pool:
        running = []
        for i in range(4):
            content = make_extract(tmp_path / f"s{i}.parquet", "vdab", 300, seed=40 + i).read_bytes()
            running.append(pool.submit(_raw_upload, vdab, _manifest(content, "vdab"), stalled(content)))
        deadline = time.monotonic() + 10
        while len(list(incoming.iterdir())) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        fresh = make_extract(tmp_path / "fresh.parquet", "vdab", 100, seed=99)
        with pytest.raises(BrokerCallError) as caught:
            upload_extract(vdab, fresh, retries=0)
        assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "4 uploads receiving data" in caught.value.details
        release.set()
        for future in running:
            with pytest.raises(grpc.RpcError):
                future.result()
    assert upload_extract(vdab, fresh).facts["record_count"] == 100


def test_unfinished_uploads_expire_at_start_up(start_broker, channel, tmp_path):
    first = start_broker(upload_expiry_hours=1.0)
    _truncated_uploads(first, channel, tmp_path, 4)
    incoming = first.store.root / "incoming"
    _age(incoming, 0.5)
    first.stop(0.5)
    second = start_broker(upload_expiry_hours=1.0)
    assert len(list(incoming.iterdir())) == 4  # idle for half an hour: kept for a resume
    second.stop(0.5)
    _age(incoming, 3)
    start_broker(upload_expiry_hours=1.0)
    assert list(incoming.iterdir()) == []


def _with_metadata(table: pa.Table, **changes: bytes) -> bytes:
    metadata = {**table.schema.metadata, **{key.encode(): value for key, value in changes.items()}}
    sink = pa.BufferOutputStream()
    pq.write_table(table.replace_schema_metadata(metadata), sink)
    return sink.getvalue().to_pybytes()


def test_a_linkage_header_value_that_is_not_json_is_refused_cleanly(broker, channel, tmp_path):
    table = pq.read_table(make_extract(tmp_path / "v.parquet", "vdab", 50))
    content = _with_metadata(table, **{"linkage.summary": b"{not json"})
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(channel(broker, "vdab"), _manifest(content, "vdab"), [content])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "linkage header is damaged" in caught.value.details()
    rejected = _entries(broker, "upload")[-1]
    assert not rejected["accepted"] and "damaged" in rejected["reason"]
    _nothing_stored(broker)
    assert list((broker.store.root / "incoming").iterdir()) == []


def test_the_broker_stores_only_what_it_validated(broker, channel, tmp_path):
    table = pq.read_table(make_extract(tmp_path / "v.parquet", "vdab", 50))
    summary = json.dumps({"records": 50, "rows_read": 50, "note": "Jan Peeters", "missing": {"Peeters": 1}})
    level = table.schema.field("education_level").with_metadata({b"comment": b"Peeters Jan 1980"})
    table = table.cast(table.schema.set(table.schema.get_field_index("education_level"), level))
    content = _with_metadata(table, **{"linkage.summary": summary.encode(), "provider_note": b"Peeters, Jan"})
    path = tmp_path / "smuggled.parquet"
    path.write_bytes(content)
    upload_extract(channel(broker, "vdab"), path)
    extract_id = hashlib.sha256(content).hexdigest()
    stored = broker.store.extract_bytes(extract_id)
    assert b"Peeters" not in stored
    schema = pq.read_schema(pa.BufferReader(stored))
    assert all(key.startswith(b"linkage.") for key in schema.metadata)
    assert all(not field.metadata for field in schema)
    assert json.loads(schema.metadata[b"linkage.summary"]) == {"records": 50, "rows_read": 50}
    assert broker.store.extract_table(extract_id).column("clk").equals(table.column("clk"))


def national_number(serial: int) -> str:
    base = f"850730{serial:03d}"
    return f"{base[:2]}.{base[2:4]}.{base[4:6]}-{base[6:]}.{97 - int(base) % 97:02d}"


@pytest.mark.parametrize("kind", ["national number", "surname"])
def test_identifier_like_record_ids_are_refused(broker, channel, tmp_path, kind):
    table = pq.read_table(make_extract(tmp_path / "v.parquet", "vdab", 50))
    ids = table.column("record_id").to_pylist()
    ids[6] = national_number(33) if kind == "national number" else "Vandenbroucke"
    table = table.set_column(0, "record_id", pa.array(ids))
    content = _with_metadata(table)
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(channel(broker, "vdab"), _manifest(content, "vdab"), [content])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "look like a name" in caught.value.details() and "row 7" in caught.value.details()
    assert ids[6] not in caught.value.details()
    _nothing_stored(broker)


def _bomb(path, rows: int, row_group: int = 250_000) -> bytes:
    """A valid-looking header over ``rows`` identical records: written in row groups of identical
    values, which Parquet's dictionary and run-length encoding shrink to a few KiB each."""
    table = pq.read_table(make_extract(path, "vdab", 1))
    metadata = dict(table.schema.metadata)
    metadata[b"linkage.record_count"] = str(rows).encode()
    group = table.take(pa.array(np.zeros(row_group, dtype=np.int32))).replace_schema_metadata(metadata)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, group.schema, compression="zstd") as writer:
        for _ in range(rows // row_group):
            writer.write_table(group)
    return sink.getvalue().to_pybytes()


def _memory_kib(pid: int, field: str) -> int:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_a_decompression_bomb_is_refused_from_its_footer(pki, tmp_path):
    content = _bomb(tmp_path / "one.parquet", 3_000_000)
    assert len(content) < 200_000
    broker = BrokerProcess(pki, pki / "policy.toml", tmp_path / "data")
    try:
        from clients.broker_cmds import connect

        with connect(broker.address, pki, "vdab") as vdab:
            before = _memory_kib(broker.process.pid, "VmRSS")
            with pytest.raises(grpc.RpcError) as caught:
                _raw_upload(vdab, _manifest(content, "vdab"), [content])
            peak = _memory_kib(broker.process.pid, "VmHWM")
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "3000000 records" in caught.value.details() and "not read" in caught.value.details()
        assert peak - before < 100 * 1024, f"the broker grew by {(peak - before) // 1024} MiB"
    finally:
        broker.terminate()


def test_get_receipt_refusals_are_recorded(broker, channel, tmp_path):
    path = make_extract(tmp_path / "ksz.parquet", "ksz", 30)
    upload_extract(channel(broker, "ksz"), path)
    stub = broker_pb2_grpc.UploadServiceStub(channel(broker, "vdab"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for asked in (digest, "not-an-id"):
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetReceipt(broker_pb2.GetReceiptRequest(extract_id=asked), timeout=10)
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    refusals = [e for e in _entries(broker, "refusal") if e.get("method") == "GetReceipt"]
    assert [(e["requester"], e["extract_id"]) for e in refusals] == [("vdab", digest), ("vdab", None)]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.events.append({"event": record.getMessage(), **getattr(record, "fields", {})})


def test_a_full_disk_gives_its_reason_in_the_answer_and_the_log(broker, channel, tmp_path, monkeypatch):
    def full(self, data):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sealed.GrowingFile, "append", full)
    records = _Records()
    logs.LOGGER.addHandler(records)
    try:
        with pytest.raises(BrokerCallError) as caught:
            upload_extract(channel(broker, "vdab"), make_extract(tmp_path / "v.parquet", "vdab", 50))
    finally:
        logs.LOGGER.removeHandler(records)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "disk is full (ENOSPC" in caught.value.details
    failure = next(e for e in records.events if e["event"] == "call.os_error")
    assert failure["errno"] == "ENOSPC" and failure["error"] == os.strerror(errno.ENOSPC)


def test_a_stalled_upload_is_cancelled_recorded_and_resumable(start_broker, channel, tmp_path):
    handle = start_broker(upload_idle_seconds=0.5)
    vdab = channel(handle, "vdab")
    content = make_extract(tmp_path / "v.parquet", "vdab", 300, seed=5).read_bytes()
    stalled = threading.Event()

    def stall():
        yield content[:4000]
        stalled.wait(20)  # the client keeps the stream open and sends nothing

    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(vdab, _manifest(content, "vdab"), stall())
    stalled.set()
    assert caught.value.code() == grpc.StatusCode.CANCELLED and time.monotonic() - started < 10
    deadline = time.monotonic() + 10  # the broker records it once its thread sees the cancellation
    while not _entries(handle, "refusal") and time.monotonic() < deadline:
        time.sleep(0.05)
    refusal = _entries(handle, "refusal")[-1]
    assert refusal["requester"] == "vdab" and "upload_idle_seconds" in refusal["reason"]
    assert handle.store.partial_bytes("vdab", hashlib.sha256(content).hexdigest()) == 4000
    assert upload_extract(vdab, tmp_path / "v.parquet").facts["record_count"] == 300


def test_a_full_database_is_a_full_disk_too(broker, channel, tmp_path, monkeypatch):
    from server.storage import Store

    def full(self, record):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "commit_extract", full)
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(channel(broker, "vdab"), make_extract(tmp_path / "v.parquet", "vdab", 50), retries=0)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "disk is full" in caught.value.details
    _nothing_stored(broker)
    assert list((broker.store.root / "incoming").iterdir()) == []
