"""Mutual TLS against a real broker on loopback: who gets in, and who is who."""

from __future__ import annotations

import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from clients.broker_cmds import BrokerCallError, broker_info
from server import pki as pki_module


def _entries(handle) -> list[dict]:
    return [json.loads(e) for e in handle.log.entries(0, handle.log.size())]


def _info(channel):
    from proto.linkage.v1 import broker_pb2, broker_pb2_grpc

    return broker_pb2_grpc.BrokerServiceStub(channel).GetBrokerInfo(broker_pb2.GetBrokerInfoRequest(), timeout=10)


def test_identity_comes_from_the_certificate(broker, channel):
    info = broker_info(channel(broker, "vdab"))
    assert info.organisation == "vdab"
    assert list(info.permissions) == ["upload:vdab"]
    assert info.receipt_public_key.startswith(b"-----BEGIN PUBLIC KEY-----")


def test_no_client_certificate_is_refused(broker, pki):
    credentials = grpc.ssl_channel_credentials(root_certificates=(pki / "ca.crt").read_bytes())
    with grpc.secure_channel(broker.address, credentials) as channel, pytest.raises(grpc.RpcError) as caught:
        _info(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_certificate_of_another_ca_is_refused(broker, pki):
    other = pki / "other-ca"
    credentials = grpc.ssl_channel_credentials(
        root_certificates=(pki / "ca.crt").read_bytes(),
        private_key=(other / "ksz.key").read_bytes(), certificate_chain=(other / "ksz.crt").read_bytes(),
    )
    with grpc.secure_channel(broker.address, credentials) as channel, pytest.raises(grpc.RpcError) as caught:
        _info(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_there_is_no_plaintext_port(broker):
    with grpc.insecure_channel(broker.address) as channel, pytest.raises(grpc.RpcError) as caught:
        _info(channel)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


def test_unknown_organisation_is_denied_and_recorded(broker, channel):
    with pytest.raises(BrokerCallError) as caught:
        broker_info(channel(broker, "stranger"))
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert "'stranger'" in caught.value.details and "not named in the broker policy" in caught.value.details
    refusal = _entries(broker)[-1]
    assert refusal["type"] == "refusal" and refusal["requester"] == "stranger"
    assert refusal["policy_hash"] == broker.policies.current.sha256


def test_revoked_certificate_is_refused_at_once(broker, channel, pki):
    ksz = channel(broker, "ksz")
    assert broker_info(ksz).organisation == "ksz"
    pki_module.revoke(pki, pki / "ksz.crt")
    with pytest.raises(BrokerCallError) as caught:
        broker_info(ksz)
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert "revoked" in caught.value.details
    assert _entries(broker)[-1]["type"] == "refusal"
    assert broker_info(channel(broker, "vdab")).organisation == "vdab"


def test_health_and_reflection_work_with_stock_clients(broker, channel):
    opened = channel(broker, "auditor")
    health = health_pb2_grpc.HealthStub(opened)
    assert health.Check(health_pb2.HealthCheckRequest(service="")).status == health_pb2.HealthCheckResponse.SERVING
    assert health.Check(health_pb2.HealthCheckRequest(service="linkage.v1.UploadService")).status == \
        health_pb2.HealthCheckResponse.SERVING
    stub = reflection_pb2_grpc.ServerReflectionStub(opened)
    responses = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
    names = {service.name for response in responses for service in response.list_services_response.service}
    assert {"linkage.v1.UploadService", "linkage.v1.RunService", "linkage.v1.AuditService",
            "linkage.v1.StatisticsService", "grpc.health.v1.Health"} <= names


def test_policy_changes_are_picked_up_and_recorded(broker, channel, pki):
    vdab = channel(broker, "vdab")
    policy = pki / "policy.toml"
    policy.write_text(policy.read_text().replace('vdab = ["vdab"]', 'vdab = ["vdab", "education"]')
                      .replace('education = ["education"]\n', ''))
    import time

    deadline = time.monotonic() + 10
    while "upload:education" not in broker_info(vdab).permissions:
        assert time.monotonic() < deadline, "the policy change was not picked up"
        time.sleep(0.1)
    entry = [e for e in _entries(broker) if e["type"] == "policy"][-1]
    assert entry["policy_hash"] == broker.policies.current.sha256 and "reloaded" in entry["reason"]
    policy.write_text("broken = [")
    deadline = time.monotonic() + 10
    while not any("rejected" in e.get("reason", "") for e in _entries(broker) if e["type"] == "policy"):
        assert time.monotonic() < deadline, "a broken policy was not reported"
        time.sleep(0.1)
    assert "upload:education" in broker_info(vdab).permissions
