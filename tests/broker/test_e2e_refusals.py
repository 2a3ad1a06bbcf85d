"""Every call a broker refuses is recorded, whatever the caller sent, and nothing personal
it typed reaches the permanent log: through a real broker over mutual TLS."""

from __future__ import annotations

import json

import grpc
import pytest

from proto.linkage.v1 import audit_pb2, audit_pb2_grpc, broker_pb2, broker_pb2_grpc, statistics_pb2, statistics_pb2_grpc

pytestmark = pytest.mark.timeout(120)

NATIONAL_NUMBER = "85073003328"
"""Valid check digits (97 - 850730033 mod 97 = 28): it validates as a national number."""


def _request(**changes) -> statistics_pb2.AggregateRequest:
    fields = {"authorisation": "IVC-24-001", "population": "vdab", "periods": [2022],
              "measures": ["persons"], "dimensions": ["origin_group:sem", "sex"],
              "reference_date": "2024-12-31"}
    fields.update(changes)
    return statistics_pb2.AggregateRequest(**fields)


def _ask(channel, request) -> grpc.RpcError:
    stub = statistics_pb2_grpc.StatisticsServiceStub(channel)
    with pytest.raises(grpc.RpcError) as caught:
        stub.Aggregate(request, timeout=30)
    return caught.value


def _requests(handle) -> list[dict]:
    entries = [json.loads(e) for e in handle.log.entries(0, handle.log.size())]
    return [e for e in entries if e["type"] == "request"]


def _everything_logged(handle) -> bytes:
    return b"".join(handle.log.entries(0, handle.log.size())) + handle.store.audit_log_path.read_bytes()


@pytest.mark.parametrize("organisation", ["statistics", "stranger"])
@pytest.mark.parametrize("field", ["authorisation", "population", "measures", "dimensions"])
@pytest.mark.parametrize("written", [NATIONAL_NUMBER, "85.07.30-033.28"])
def test_a_request_holding_a_national_number_is_refused_and_recorded_redacted(
        broker, channel, organisation, field, written):
    value = [written] if field in ("measures", "dimensions") else written
    error = _ask(channel(broker, organisation), _request(**{field: value}))
    assert error.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.PERMISSION_DENIED)
    refused = _requests(broker)
    assert [(e["requester"], e["decision"]) for e in refused] == [(organisation, "refused")]
    assert NATIONAL_NUMBER.encode() not in _everything_logged(broker)
    assert b"850730" not in _everything_logged(broker)


def test_free_text_a_requester_types_is_recorded_by_its_length_only(broker, channel):
    error = _ask(channel(broker, "statistics"), _request(measures=["persons", "Jan Peeters"],
                                                          population="Vandenbroucke"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    [entry] = _requests(broker)
    assert entry["decision"] == "refused"
    assert entry["request"]["measures"] == ["persons", "[unregistered text, 11 characters]"]
    assert entry["request"]["population"] == "[unregistered text, 13 characters]"
    logged = _everything_logged(broker)
    assert b"Peeters" not in logged and b"Vandenbroucke" not in logged


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "2024-02-30", "31/12/2024"])
def test_an_implausible_reference_date_is_refused_with_what_to_do(broker, channel, day):
    error = _ask(channel(broker, "statistics"), _request(reference_date=day))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "reference_date must" in error.details()
    assert [e["decision"] for e in _requests(broker)] == ["refused"]


def test_an_authorisation_that_grants_one_dimension_variant_can_be_used(broker, channel, pki):
    """A grant of ``origin_group:sem`` (not the whole kind) covers a request for exactly that;
    the request then gets as far as the data (no run yet), not a refusal by the policy."""
    policy = pki / "policy.toml"
    text = policy.read_text()
    granted = text.replace('dimensions = ["origin_category", "origin_group",',
                           'dimensions = ["origin_category", "origin_group:sem",')
    assert granted != text
    policy.write_text(granted)
    assert broker.reload_policy()
    statistics = channel(broker, "statistics")
    error = _ask(statistics, _request(dimensions=["origin_group:sem", "sex"]))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION and "no completed linkage run" in error.details()
    error = _ask(statistics, _request(dimensions=["origin_group:statbel", "sex"]))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED and "origin_group:statbel" in error.details()


def _manifest(source: str, sha: str = "ab" * 32, size: int = 1000):
    return broker_pb2.ExtractManifest(source=source, content_sha256=sha, size_bytes=size)


def _upload(channel, *messages):
    return broker_pb2_grpc.UploadServiceStub(channel).Upload(iter(messages), timeout=30)


def _start(manifest, offset: int = 0):
    return broker_pb2.UploadChunk(start=broker_pb2.UploadStart(manifest=manifest, offset=offset))


REFUSED_CALLS = {
    "a manifest without a SHA-256": ("vdab", lambda c: broker_pb2_grpc.UploadServiceStub(c).BeginUpload(
        broker_pb2.BeginUploadRequest(manifest=_manifest("vdab", sha="Jan Peeters")), timeout=10)),
    "an empty extract": ("vdab", lambda c: broker_pb2_grpc.UploadServiceStub(c).BeginUpload(
        broker_pb2.BeginUploadRequest(manifest=_manifest("vdab", size=0)), timeout=10)),
    "data before the start": ("vdab", lambda c: _upload(c, broker_pb2.UploadChunk(data=b"x"))),
    "a resume at a wrong offset": ("vdab", lambda c: _upload(c, _start(_manifest("vdab"), 500))),
    "a truncated upload": ("vdab", lambda c: _upload(c, _start(_manifest("vdab")),
                                                     broker_pb2.UploadChunk(data=b"x" * 10))),
    "a run that does not exist": ("auditor", lambda c: broker_pb2_grpc.RunServiceStub(c).GetRun(
        broker_pb2.GetRunRequest(run_id="Jan Peeters"), timeout=10)),
    "a threshold outside (0, 1]": ("operator", lambda c: broker_pb2_grpc.RunServiceStub(c).StartRun(
        broker_pb2.StartRunRequest(threshold=7.0), timeout=10)),
    "log entries beyond its end": ("auditor", lambda c: audit_pb2_grpc.AuditServiceStub(c).GetEntries(
        audit_pb2.GetEntriesRequest(start=10, end=5), timeout=10)),
}


@pytest.mark.parametrize("case", sorted(REFUSED_CALLS))
def test_every_refused_call_is_a_decision_in_the_audit_log(broker, channel, case):
    """Not only policy refusals: whatever a call is refused for, the log records who, what
    and why (never the caller's own text)."""
    organisation, call = REFUSED_CALLS[case]
    before = broker.log.size()
    with pytest.raises(grpc.RpcError) as caught:
        call(channel(broker, organisation))
    entries = [json.loads(e) for e in broker.log.entries(before, broker.log.size())]
    refusals = [e for e in entries if e["type"] == "refusal"]
    assert len(refusals) == 1, entries
    assert refusals[0]["requester"] == organisation and refusals[0]["code"] == caught.value.code().name
    assert refusals[0]["reason"] == caught.value.details()
    assert b"Peeters" not in _everything_logged(broker)


def test_a_fault_inside_the_broker_is_recorded_and_the_broker_keeps_serving(broker, channel, monkeypatch):
    from server import info_service

    def broken(policy, organisation):
        raise RuntimeError("Jan Peeters")  # internals, and whatever they hold, stay out of answer and log

    monkeypatch.setattr(info_service, "authorise_info", broken)
    stub = broker_pb2_grpc.BrokerServiceStub(channel(broker, "vdab"))
    with pytest.raises(grpc.RpcError) as caught:
        stub.GetBrokerInfo(broker_pb2.GetBrokerInfoRequest(), timeout=10)
    assert caught.value.code() == grpc.StatusCode.INTERNAL and "Peeters" not in caught.value.details()
    [entry] = [json.loads(e) for e in broker.log.entries(broker.log.size() - 1, broker.log.size())]
    assert entry["type"] == "refusal" and entry["code"] == "INTERNAL" and entry["requester"] == "vdab"
    assert b"Peeters" not in _everything_logged(broker)
    monkeypatch.undo()
    assert stub.GetBrokerInfo(broker_pb2.GetBrokerInfoRequest(), timeout=10).organisation == "vdab"
