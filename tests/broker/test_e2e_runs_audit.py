"""Linkage runs and the audit service against a real broker with real mutual TLS."""

from __future__ import annotations

import json
import time

import grpc
import pytest

from clients.broker_cmds import (
    AuditClient,
    BrokerCallError,
    get_run,
    list_runs,
    start_run,
    upload_extract,
    watch_run,
)
from clients.cli import main
from linkage.auditlog import load_public_key, verify_consistency, verify_inclusion
from linkage.auditlog.hashing import hash_leaf
from proto.linkage.v1 import broker_pb2
from tests.broker.helpers import make_extract, population_bits

SIZES = {"ksz": 400, "vdab": 150, "integration": 60, "education": 90}


@pytest.fixture
def uploaded(broker, channel, tmp_path):
    """All four sources uploaded; the others hold subsets of the KSZ population."""
    people = population_bits(400, seed=7)
    for index, (source, n) in enumerate(SIZES.items()):
        subset = people if source == "ksz" else people[index * 40:]
        path = make_extract(tmp_path / f"{source}.parquet", source, n, people=subset, seed=index)
        upload_extract(channel(broker, source), path)
    return broker


def _wait(handle, run_id: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while handle.store.run(run_id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_run_links_all_sources_and_reports_quality_only(uploaded, channel):
    operator = channel(uploaded, "operator")
    run = start_run(operator)
    assert run.state == broker_pb2.RUN_STATE_RUNNING and run.started_by == "operator"
    stages = []
    finished = watch_run(operator, run.run_id, lambda stage, fraction: stages.append((stage, fraction)))
    assert finished.state == broker_pb2.RUN_STATE_COMPLETED, finished.error
    assert any(stage.startswith("linking") for stage, _ in stages)
    assert [i.source for i in finished.inputs] == sorted(SIZES)
    quality = json.loads(finished.quality_json)
    assert quality["pairs"]["ksz~vdab"]["links"] == SIZES["vdab"]
    assert quality["pairs"]["education~ksz"]["links"] == SIZES["education"]
    assert quality["sources"]["integration"]["linked_rate"] == 1.0
    by_origin = quality["origin"]["linked_to_ksz_by_origin"]["vdab"]
    assert sum(f["ksz_records"] for f in by_origin.values() if f["ksz_records"]) <= SIZES["ksz"]
    assert finished.entity_count == SIZES["ksz"]
    estimate = quality["estimated_recall"]["ksz~vdab"]
    assert 0.9 <= estimate["recall"] <= 1 and estimate["by_origin_of"] == "ksz" and estimate["by_origin"]
    assert all("by_stratum" not in p.get("estimated_recall", {}) for p in quality["engine"]["pairs"])
    everything = finished.SerializeToString() + json.dumps(quality).encode()
    assert b"ksz-1" not in everything and b"vdab-1" not in everything
    clusters, payloads = uploaded.store.load_run_inputs(run.run_id)
    assert clusters.num_rows == sum(SIZES.values()) and set(payloads) == set(SIZES)
    assert [r.run_id for r in list_runs(operator)] == [run.run_id]
    assert get_run(channel(uploaded, "auditor"), "").run_id == run.run_id
    run_entries = [json.loads(e) for e in uploaded.log.entries(0, uploaded.log.size())]
    states = [e.get("state") for e in run_entries if e["type"] == "run"]
    assert states == ["started", "completed"]


def test_run_command_prints_the_quality_summary(uploaded, pki, capsys):
    code = main(["run", "--broker", uploaded.address, "--tls-dir", str(pki), "--org", "operator", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "completed" in out and "ksz~vdab" in out and "150 links" in out
    assert "recall estimated without truth" in out


def test_only_run_operators_start_runs_and_providers_cannot_read_them(uploaded, channel):
    for organisation in ("ksz", "auditor", "stranger"):
        with pytest.raises(BrokerCallError) as caught:
            start_run(channel(uploaded, organisation))
        assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(BrokerCallError) as caught:
        list_runs(channel(uploaded, "vdab"))
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert uploaded.store.runs() == []


def test_a_run_needs_two_sources(broker, channel, tmp_path):
    upload_extract(channel(broker, "ksz"), make_extract(tmp_path / "ksz.parquet", "ksz", 30))
    with pytest.raises(BrokerCallError) as caught:
        start_run(channel(broker, "operator"))
    assert caught.value.code == grpc.StatusCode.FAILED_PRECONDITION and "at least two sources" in caught.value.details


def test_bad_threshold_is_invalid(uploaded, channel):
    with pytest.raises(BrokerCallError) as caught:
        start_run(channel(uploaded, "operator"), threshold=1.5)
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT


def test_given_threshold_is_used_and_recorded(uploaded, channel):
    operator = channel(uploaded, "operator")
    finished = watch_run(operator, start_run(operator, threshold=0.9).run_id)
    assert finished.threshold == pytest.approx(0.9) and finished.threshold_origin == "given"
    assert json.loads(finished.parameters_json)["threshold"] == pytest.approx(0.9)


def test_a_run_on_a_local_dask_cluster_links_as_the_broker_alone(start_broker, channel, tmp_path, monkeypatch):
    from linkage.matching import candidates

    monkeypatch.setattr(candidates, "PARTITION_COMPARISONS", 5_000)      # several partitions a pair
    people = population_bits(400, seed=7)
    results = []
    for where in ("", "local:2"):
        handle = start_broker(dask=where, data_dir=tmp_path / f"data{len(results)}")
        for index, (source, n) in enumerate(SIZES.items()):
            subset = people if source == "ksz" else people[index * 40:]
            upload_extract(channel(handle, source),
                           make_extract(tmp_path / f"{source}.parquet", source, n, people=subset, seed=index))
        finished = watch_run(channel(handle, "operator"), start_run(channel(handle, "operator")).run_id)
        assert finished.state == broker_pb2.RUN_STATE_COMPLETED, finished.error
        clusters, _ = handle.store.load_run_inputs(finished.run_id)
        results.append((clusters.sort_by([("source", "ascending"), ("record_id", "ascending")]),
                        json.loads(finished.quality_json)["pairs"]))
    assert results[0][0].equals(results[1][0]) and results[0][1] == results[1][1]


def test_automatic_run_once_every_source_is_uploaded(start_broker, channel, tmp_path):
    handle = start_broker(auto_run=True)
    people = population_bits(100, seed=3)
    for index, source in enumerate(SIZES):
        assert handle.store.runs() == []
        upload_extract(channel(handle, source), make_extract(tmp_path / f"{source}.parquet", source, 50,
                                                             people=people, seed=index))
    runs = handle.store.runs()
    assert len(runs) == 1 and runs[0].started_by == "broker"
    _wait(handle, runs[0].run_id)
    assert handle.store.run(runs[0].run_id).state == "completed"


def test_auditor_reads_and_verifies_the_log(uploaded, channel, pki):
    audit = AuditClient(channel(uploaded, "auditor"))
    head = audit.signed_tree_head()
    head.verify(load_public_key(pki / "log.pub"))
    entries = audit.entries(0, head.tree_size)
    assert len(entries) == head.tree_size
    kinds = [json.loads(entry)["type"] for entry in entries]
    assert kinds.count("upload") == 4 and kinds[0] == "policy"
    index = kinds.index("upload")
    verify_inclusion(hash_leaf(entries[index]), index, head.tree_size,
                     audit.inclusion_proof(index, head.tree_size), head.root_hash)
    start_run(channel(uploaded, "operator"))
    later = audit.signed_tree_head()
    assert later.tree_size > head.tree_size
    verify_consistency(head.tree_size, later.tree_size, head.root_hash, later.root_hash,
                       audit.consistency_proof(head.tree_size, later.tree_size))
    with pytest.raises(BrokerCallError) as caught:
        audit.inclusion_proof(later.tree_size + 5, later.tree_size + 10)
    assert caught.value.code in (grpc.StatusCode.OUT_OF_RANGE, grpc.StatusCode.INVALID_ARGUMENT)
    _wait(uploaded, uploaded.store.runs()[0].run_id)


@pytest.mark.parametrize("organisation", ["ksz", "statistics", "stranger"])
def test_only_auditors_read_the_log(broker, channel, organisation):
    with pytest.raises(BrokerCallError) as caught:
        AuditClient(channel(broker, organisation)).signed_tree_head()
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
