"""Uploads against a real broker on loopback with real mutual TLS, good and bad."""

from __future__ import annotations

import hashlib
import json
import time

import grpc
import pytest

from clients.broker_cmds import BrokerCallError, upload_extract
from clients.cli import main
from proto.linkage.v1 import broker_pb2, broker_pb2_grpc
from tests.broker.helpers import make_extract


def _manifest(content: bytes, source: str, size: int | None = None) -> broker_pb2.ExtractManifest:
    return broker_pb2.ExtractManifest(source=source, content_sha256=hashlib.sha256(content).hexdigest(),
                                      size_bytes=len(content) if size is None else size)


def _raw_upload(channel, manifest, pieces, offset: int = 0):
    def messages():
        yield broker_pb2.UploadChunk(start=broker_pb2.UploadStart(manifest=manifest, offset=offset))
        for piece in pieces:
            yield broker_pb2.UploadChunk(data=piece)

    return broker_pb2_grpc.UploadServiceStub(channel).Upload(messages(), timeout=30)


def _entries(handle, kind: str) -> list[dict]:
    return [e for e in map(json.loads, handle.log.entries(0, handle.log.size())) if e["type"] == kind]


def _nothing_stored(handle) -> None:
    assert handle.store.current_extracts() == {}
    assert list((handle.store.root / "extracts").iterdir()) == []


def test_upload_receipt_idempotence_and_supersession(broker, channel, pki, tmp_path, capsys):
    path = make_extract(tmp_path / "vdab.parquet", "vdab", 300)
    vdab = channel(broker, "vdab")
    first = upload_extract(vdab, path, receipt_key=pki / "receipt.pub")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert first.facts["extract_id"] == digest and first.facts["record_count"] == 300
    assert first.facts["organisation"] == "vdab" and not first.receipt.duplicate
    again = upload_extract(vdab, path)
    assert again.receipt.duplicate and again.receipt.statement == first.receipt.statement
    assert len(_entries(broker, "upload")) == 1
    upload_entry = _entries(broker, "upload")[0]
    assert upload_entry["accepted"] and upload_entry["extract_hash"] == digest
    leaf = first.facts["audit_leaf_index"]
    assert json.loads(broker.log.entries(leaf, leaf + 1)[0])["extract_hash"] == digest
    newer = make_extract(tmp_path / "vdab2.parquet", "vdab", 310, seed=2)
    upload_extract(vdab, newer)
    current = broker.store.current_extracts()["vdab"]
    assert current.record_count == 310 and broker.store.extract(digest).state == "superseded"


def test_cli_upload_writes_a_receipt_that_verifies(broker, pki, tmp_path, capsys):
    path = make_extract(tmp_path / "ksz.parquet", "ksz", 120)
    code = main(["upload", "--broker", broker.address, "--tls-dir", str(pki), "--org", "ksz", "--quiet", str(path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "120 records stored" in out
    receipt = tmp_path / "ksz.parquet.receipt.json"
    assert main(["receipt", "verify", str(receipt), "--key", str(pki / "receipt.pub")]) == 0
    document = json.loads(receipt.read_text())
    document["statement"] = document["statement"].replace('"record_count":120', '"record_count":121')
    receipt.write_text(json.dumps(document))
    assert main(["receipt", "verify", str(receipt), "--key", str(pki / "receipt.pub")]) == 2
    assert "does not verify" in capsys.readouterr().err


@pytest.mark.parametrize("organisation, source", [("vdab", "ksz"), ("statistics", "ksz"), ("auditor", "vdab"),
                                                  ("stranger", "vdab")])
def test_uploading_a_source_one_may_not_is_denied_and_recorded(broker, channel, tmp_path, organisation, source):
    path = make_extract(tmp_path / "x.parquet", source, 20)
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(channel(broker, organisation), path)
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    refusal = _entries(broker, "refusal")[-1]
    assert refusal["requester"] == organisation and refusal["service"] in ("upload", "info")
    _nothing_stored(broker)


def test_truncated_upload_is_refused_then_resumed(broker, channel, tmp_path):
    path = make_extract(tmp_path / "vdab.parquet", "vdab", 400)
    content = path.read_bytes()
    vdab = channel(broker, "vdab")
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(vdab, _manifest(content, "vdab"), [content[:5000]])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "after 5000 of" in caught.value.details() and "resume" in caught.value.details()
    _nothing_stored(broker)
    stub = broker_pb2_grpc.UploadServiceStub(vdab)
    assert stub.BeginUpload(broker_pb2.BeginUploadRequest(manifest=_manifest(content, "vdab"))).offset == 5000
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(vdab, _manifest(content, "vdab"), [content[7000:]], offset=7000)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "holds 5000 bytes" in caught.value.details()
    result = upload_extract(vdab, path)
    assert result.resumed_from == 5000 and result.facts["record_count"] == 400


def test_broken_connection_is_resumed_automatically(broker, channel, tmp_path):
    path = make_extract(tmp_path / "vdab.parquet", "vdab", 2000)
    content = path.read_bytes()
    vdab = channel(broker, "vdab")

    begin = broker_pb2_grpc.UploadServiceStub(channel(broker, "vdab")).BeginUpload
    request = broker_pb2.BeginUploadRequest(manifest=_manifest(content, "vdab"))

    def breaking():
        yield content[:65536]
        yield content[65536:131072]
        while begin(request).offset < 131072:  # until the broker holds what was sent
            time.sleep(0.02)
        raise ConnectionError("cable pulled")

    with pytest.raises(grpc.RpcError):
        _raw_upload(vdab, _manifest(content, "vdab"), breaking())
    _nothing_stored(broker)
    result = upload_extract(vdab, path)
    assert result.resumed_from == 131072
    assert broker.store.current_extracts()["vdab"].extract_id == hashlib.sha256(content).hexdigest()


def test_corrupted_content_is_refused_and_nothing_stored(broker, channel, tmp_path):
    content = bytearray(make_extract(tmp_path / "vdab.parquet", "vdab", 100).read_bytes())
    manifest = _manifest(bytes(content), "vdab")
    content[len(content) // 2] ^= 0xFF
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(channel(broker, "vdab"), manifest, [bytes(content)])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not match its SHA-256" in caught.value.details()
    assert not _entries(broker, "upload")[-1]["accepted"]
    _nothing_stored(broker)
    assert list((broker.store.root / "incoming").iterdir()) == []


def test_wrong_fingerprint_is_a_failed_precondition(broker, channel, tmp_path):
    upload_extract(channel(broker, "ksz"), make_extract(tmp_path / "ksz.parquet", "ksz", 50))
    other = make_extract(tmp_path / "vdab.parquet", "vdab", 50, fingerprint="sha256:" + "cd" * 32)
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(channel(broker, "vdab"), other)
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    assert "linkage configuration" in caught.value.details
    assert "vdab" not in broker.store.current_extracts()


def test_configured_fingerprint_is_enforced_from_the_first_upload(start_broker, channel, tmp_path):
    handle = start_broker(linkage_fingerprint="sha256:" + "ef" * 32)
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(channel(handle, "ksz"), make_extract(tmp_path / "ksz.parquet", "ksz", 50))
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION
    _nothing_stored(handle)


def test_wrong_clk_length_is_invalid(broker, channel, tmp_path):
    path = make_extract(tmp_path / "vdab.parquet", "vdab", 50, clk_bits=2048)
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(channel(broker, "vdab"), path)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT and "2048 bits" in caught.value.details
    _nothing_stored(broker)


def test_oversized_extract_and_message_are_refused(start_broker, channel, tmp_path):
    handle = start_broker(max_extract_bytes=20_000, max_chunk_bytes=16 * 1024)
    path = make_extract(tmp_path / "vdab.parquet", "vdab", 500)
    content = path.read_bytes()
    assert len(content) > 20_000
    vdab = channel(handle, "vdab")
    with pytest.raises(BrokerCallError) as caught:
        upload_extract(vdab, path)
    assert caught.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED and "max_extract_bytes" in caught.value.details
    small = make_extract(tmp_path / "small.parquet", "vdab", 20).read_bytes()
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(vdab, _manifest(small + bytes(200_000), "vdab", size=19_000), [bytes(200_000)])
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    _nothing_stored(handle)


def test_more_bytes_than_announced_are_refused(broker, channel, tmp_path):
    content = make_extract(tmp_path / "vdab.parquet", "vdab", 50).read_bytes()
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(channel(broker, "vdab"), _manifest(content, "vdab", size=len(content) - 10), [content])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "more bytes" in caught.value.details()
    _nothing_stored(broker)


def test_not_an_extract_is_invalid(broker, channel):
    content = b"name,birth_date\nJan,1980-01-01\n"
    with pytest.raises(grpc.RpcError) as caught:
        _raw_upload(channel(broker, "vdab"), _manifest(content, "vdab"), [content])
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "not a readable Parquet extract" in caught.value.details()
    _nothing_stored(broker)


def test_first_message_must_start_the_upload(broker, channel):
    stub = broker_pb2_grpc.UploadServiceStub(channel(broker, "vdab"))
    with pytest.raises(grpc.RpcError) as caught:
        stub.Upload(iter([broker_pb2.UploadChunk(data=b"x")]), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
