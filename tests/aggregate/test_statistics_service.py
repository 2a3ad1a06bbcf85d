"""End to end: upload, link, then `linkage aggregate` against a real server with mutual TLS."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest

from clients.aggregate_cmd import StillAuditing, ask_broker, call_aggregate
from clients.broker_cmds import connect, start_run, upload_extract
from clients.cli import main
from linkage.aggregate.compute import compute
from linkage.aggregate.request import parse_request
from linkage.extract import Extract, ExtractHeader, write_extract
from linkage.sources import PAYLOAD_VERSION, source_spec
from proto.linkage.v1 import statistics_pb2_grpc
from server.guard import Guard
from server.statistics import StatisticsService, retry_seconds
from server.tls import RevocationList, server_credentials
from tests.broker.helpers import CLK_BITS, FINGERPRINT, population_bits

from .helpers import ksz_person, linked

D = dt.date
PEOPLE = 60
REQUEST = """
authorisation = "IVC-24-001"
population = "vdab"
period = 2022
measures = ["persons", "outflow_to_work_12m"]
dimensions = ["origin_group:sem", "sex"]
reference_date = 2024-12-31
"""


def ksz_rows() -> list[dict]:
    rows = []
    for i in range(PEOPLE):
        nationality, father = [("150", "150"), ("354", "354"), ("150", "262")][i // 20]
        rows.append(ksz_person(i, "MF"[i % 2], 1985, nationality=nationality, father=father,
                               mother=father, first=nationality, sep_2022="111" if i % 2 else "211"))
    return rows


def vdab_rows() -> list[dict]:
    return [{"entity_id": i, "registration_date": D(2022, 3, 1),
             "exit_date": D(2022, 8, 1) if i % 3 == 0 else None,
             "exit_reason": "work" if i % 3 == 0 else None, "education_level": "medium"}
            for i in range(0, PEOPLE, 2)] + [
            {"entity_id": i, "registration_date": D(2022, 6, 1),
             "exit_date": D(2022, 9, 1) if i % 3 == 0 else None,
             "exit_reason": "work" if i % 3 == 0 else None} for i in range(1, PEOPLE, 4)]


def write_source(path, source: str, rows: list[dict], people: np.ndarray) -> None:
    """An extract whose record i carries the CLK of person rows[i]['entity_id'] (slightly noisy)."""
    rng = np.random.default_rng(len(rows))
    bits = people[[r["entity_id"] for r in rows]] ^ (rng.random((len(rows), CLK_BITS)) < 0.02)
    spec = source_spec(source)
    payload = {a.name: [r.get(a.name) for r in rows] for a in spec.payload}
    header = ExtractHeader(source=source, fingerprint=FINGERPRINT, schema_fingerprint="sha256:test",
                           normalisation_version="test", clk_bits=CLK_BITS, record_count=len(rows),
                           created="2024-06-01T00:00:00+00:00", payload_version=PAYLOAD_VERSION,
                           payload_columns=tuple(payload))
    clks = np.ascontiguousarray(np.packbits(bits, axis=1))
    write_extract(path, Extract(header, [f"{source}-{n}" for n in range(len(rows))], clks,
                                [None] * len(rows), payload))


def serve_statistics(broker, pki, tmp_path, minimum_cell_size=5, audit_time_limit=300.0, answer_wait=1.5):
    """The statistics service on its own loopback port (the broker's TLS, policy and log)."""
    guard = Guard(broker.policies, RevocationList(pki / "crl.pem", pki / "ca.crt"), broker.recorder)
    clock = {"today": dt.date.today()}
    service = StatisticsService(guard, broker.store, broker.recorder, tmp_path / "data",
                                minimum_cell_size, today=lambda: clock["today"],
                                audit_time_limit=audit_time_limit, answer_wait=answer_wait)
    clock["service"] = service
    server = grpc.server(ThreadPoolExecutor(max_workers=2))
    statistics_pb2_grpc.add_StatisticsServiceServicer_to_server(service, server)
    port = server.add_secure_port("127.0.0.1:0", server_credentials(pki))
    server.start()
    return server, f"127.0.0.1:{port}", clock


@pytest.fixture
def statistics_server(broker, channel, pki, tmp_path):
    """A linked broker and its statistics service."""
    people = population_bits(PEOPLE, seed=11)
    for source, rows in (("ksz", ksz_rows()), ("vdab", vdab_rows())):
        write_source(tmp_path / f"{source}.parquet", source, rows, people)
        upload_extract(channel(broker, source), tmp_path / f"{source}.parquet")
    run = start_run(channel(broker, "operator"))
    deadline = time.monotonic() + 60
    while broker.store.run(run.run_id).state == "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert broker.store.run(run.run_id).state == "completed"
    server, address, clock = serve_statistics(broker, pki, tmp_path)
    yield address, clock, broker
    server.stop(0.5)


def test_without_a_linkage_run_there_is_nothing_to_count(broker, pki, tmp_path, capsys):
    server, address, _ = serve_statistics(broker, pki, tmp_path)
    try:
        assert aggregate(address, pki, tmp_path) == 2
    finally:
        server.stop(0.5)
    assert "FAILED_PRECONDITION: no completed linkage run yet" in capsys.readouterr().err


def aggregate(address, pki, tmp_path, request_text=REQUEST, *extra):
    request = tmp_path / "request.toml"
    request.write_text(request_text)
    return main(["aggregate", "--broker", address, "--tls-dir", str(pki), "--org", "statistics",
                 "--request", str(request), *extra])


def test_a_granted_request_returns_the_protected_table_and_its_audit_receipt(
        statistics_server, pki, tmp_path, capsys):
    address, _, broker = statistics_server
    out = tmp_path / "table.csv"
    chart = tmp_path / "chart.png"
    assert aggregate(address, pki, tmp_path, REQUEST, "--format", "csv", "-o", str(out),
                     "--plot", str(chart)) == 0
    assert "audit log entry" in capsys.readouterr().err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert {r["measure"] for r in rows} == {"persons", "outflow_to_work_12m"}
    # Published figures equal the exact counts over the true links (the linkage is perfect here).
    truth = compute(parse_request(REQUEST), linked(ksz=ksz_rows(), vdab=vdab_rows()))
    published = [r for r in rows if r["status"] == "published"]
    assert published
    for row in published:
        key = (row["origin_group"], row["sex"])
        table = truth[row["measure"]]
        if "Total" not in key:
            assert int(row["persons"] or row["cohort"]) == table.counts[key]
            if table.numerators is not None:
                assert int(row["numerator"]) == table.numerators[key]
    total = next(r for r in rows if r["measure"] == "persons" and r["sex"] == "Total"
                 and r["origin_group"] == "Total")
    assert int(total["persons"]) == len(vdab_rows()) and total["sex_label"] == "Total"
    assert (tmp_path / "table.csv.metadata.json").exists()
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    entries = [json.loads(e) for e in broker.log.entries(0, broker.log.size())]
    granted = [e for e in entries if e["type"] == "request" and e["decision"] == "granted"]
    assert len(granted) == 1 and granted[0]["authorisation"] == "IVC-24-001"
    assert "ksz-1" not in json.dumps(entries)


def test_a_measure_outside_the_authorisation_is_permission_denied(statistics_server, pki, tmp_path, capsys):
    address, _, broker = statistics_server
    text = REQUEST.replace('"outflow_to_work_12m"', '"outflow_to_work_6m"')
    assert aggregate(address, pki, tmp_path, text) == 2
    err = capsys.readouterr().err
    assert "PERMISSION_DENIED" in err and "does not cover measure(s) outflow_to_work_6m" in err
    entries = [json.loads(e) for e in broker.log.entries(0, broker.log.size())]
    assert [e["decision"] for e in entries if e["type"] == "request"] == ["refused"]


def test_an_expired_authorisation_is_refused(statistics_server, pki, tmp_path, capsys):
    address, clock, _ = statistics_server
    clock["today"] = dt.date.today().replace(year=dt.date.today().year + 5)
    assert aggregate(address, pki, tmp_path) == 2
    assert "expired on" in capsys.readouterr().err


def test_a_bad_request_file_is_refused_before_contacting_the_broker(pki, tmp_path, capsys):
    text = REQUEST.replace('"sex"', '"religion"')
    assert aggregate("127.0.0.1:9", pki, tmp_path, text) == 2
    assert "unknown dimension 'religion'" in capsys.readouterr().err


def test_the_system_minimum_cell_size_overrides_a_lower_authorisation(statistics_server, pki, tmp_path):
    """The policy's authorisation allows k=5; a broker configured with minimum 20 applies 20."""
    _, _, broker = statistics_server
    server, address, _ = serve_statistics(broker, pki, tmp_path / "strict", minimum_cell_size=20)
    out = tmp_path / "strict.csv"
    try:
        assert aggregate(address, pki, tmp_path, REQUEST, "--format", "csv", "-o", str(out)) == 0
    finally:
        server.stop(0.5)
    rows = [r for r in csv.DictReader(io.StringIO(out.read_text())) if r["measure"] == "persons"]
    assert any(r["status"] == "suppressed" for r in rows)
    published = [int(r["persons"]) for r in rows if r["status"] == "published"]
    assert published and all(count == 0 or count >= 20 for count in published)


def test_tables_over_a_cycle_are_audited_jointly_logged_by_reason_and_repeated_identically(
        statistics_server, pki, tmp_path, capsys):
    """Three two-way tables over a cycle of dimensions (A x B, B x C, C x A): each is audited
    with the earlier ones over the same persons; the log counts hidden cells by reason only;
    the first request asked again gets the same answer and the sealed ledger does not grow."""
    address, _, broker = statistics_server
    pairs = [("origin_group:sem", "sex"), ("sex", "education_level"), ("education_level", "origin_group:sem")]
    outputs = []
    for n, (a, b) in enumerate([*pairs, pairs[0]]):
        text = REQUEST.replace('measures = ["persons", "outflow_to_work_12m"]', 'measures = ["persons"]')
        text = text.replace('dimensions = ["origin_group:sem", "sex"]', f'dimensions = ["{a}", "{b}"]')
        out = tmp_path / f"answer-{n}.csv"
        assert aggregate(address, pki, tmp_path, text, "--format", "csv", "-o", str(out)) == 0
        outputs.append(out.read_text())
    assert outputs[3] == outputs[0]
    entries = [json.loads(e) for e in broker.log.entries(0, broker.log.size())]
    granted = [e for e in entries if e["type"] == "request" and e["decision"] == "granted"]
    assert len(granted) == 4
    for entry in granted:
        assert set(entry["suppressed"]) <= {"primary", "secondary", "earlier", "joint"}
    ledger = tmp_path / "data" / "person_ledger.sqlite"
    assert ledger.exists() and b"belgium" not in ledger.read_bytes()


def test_an_audit_past_its_time_limit_is_a_retryable_error_that_releases_nothing(
        statistics_server, pki, tmp_path, capsys):
    """A table whose joint audit takes longer than the broker allows gets UNAVAILABLE with what
    to do, never a hang; nothing is recorded, so a broker with time to spare answers it."""
    _, _, broker = statistics_server
    hurried, address, _ = serve_statistics(broker, pki, tmp_path / "hurried", audit_time_limit=1e-9)
    try:
        assert aggregate(address, pki, tmp_path) == 2
    finally:
        hurried.stop(0.5)
    err = capsys.readouterr().err
    assert "UNAVAILABLE" in err and "nothing was released or recorded" in err and "Traceback" not in err
    entries = [json.loads(e) for e in broker.log.entries(0, broker.log.size())]
    assert [e["decision"] for e in entries if e["type"] == "request"] == ["refused"]
    patient, address, _ = serve_statistics(broker, pki, tmp_path / "hurried")
    try:
        assert aggregate(address, pki, tmp_path) == 0
    finally:
        patient.stop(0.5)


def test_a_call_that_outwaits_its_audit_is_told_to_ask_again_and_then_gets_the_table(
        statistics_server, pki, tmp_path, capsys):
    """A broker that lets a call wait (almost) nothing for the joint audit: the call ends with a
    retryable UNAVAILABLE and the retry-after trailer while the audit goes on (here behind
    another audit's turn); asking again joins it (no new audit, no new log entry); once it has
    passed, the same request gets the table, audited and recorded once. ``linkage aggregate``
    asks again by itself."""
    _, _, broker = statistics_server
    eager, address, hooks = serve_statistics(broker, pki, tmp_path / "eager", answer_wait=1e-6)
    service = hooks["service"]
    request = parse_request(REQUEST)
    try:
        with connect(address, pki, "statistics") as channel:
            with service.ledger.turn():         # another audit holds the turn
                for _ in range(3):
                    with pytest.raises(StillAuditing) as waiting:
                        call_aggregate(channel, request, timeout=30)
                    assert waiting.value.code == grpc.StatusCode.UNAVAILABLE
                    assert waiting.value.retry_after == 0.0     # one audit under way: ask at once
                    assert "being audited" in waiting.value.details and "Ask again" in waiting.value.details
                assert service.audits.under_way() == 1
            first = ask_broker(channel, request, timeout=60)
        assert aggregate(address, pki, tmp_path, REQUEST, "--format", "json") == 0
    finally:
        eager.stop(0.5)
    shown = json.loads(capsys.readouterr().out)
    assert [c for c in first.cells if c.status == "published"] and len(shown["tables"]) == 2
    assert service.ledger.release_count == 2            # two measures, recorded once
    decisions = [e["decision"] for e in map(json.loads, broker.log.entries(0, broker.log.size()))
                 if e["type"] == "request"]
    assert decisions == ["refused", "granted", "granted"]


def test_the_longer_the_queue_of_audits_the_later_a_requester_is_told_to_ask_again():
    assert [retry_seconds(n) for n in (0, 1, 3, 4, 8, 40, 1000)] == [0, 0, 0, 1, 2, 10, 15]
