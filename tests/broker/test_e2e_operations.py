"""What an operator meets around a running broker: refused handshakes in the log, the
revocation list failing closed on every service, one broker per data directory, and
replacing a revoked certificate. Real brokers over mutual TLS on loopback."""

from __future__ import annotations

import datetime as dt
import json

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from clients.broker_cmds import BrokerCallError, broker_info, connect
from server import pki as pki_module
from server.config import ConfigError
from server.process import BrokerProcess
from server.storage import StorageError

pytestmark = pytest.mark.timeout(120)
NOW = dt.datetime.now(dt.timezone.utc)


def _write_crl(pki, last_update: dt.datetime, next_update: dt.datetime, revoked=()) -> bytes:
    """A CRL signed by the development CA with the given validity."""
    ca = pki_module.load_authority(pki)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca.certificate.subject)
               .last_update(last_update).next_update(next_update))
    for certificate in revoked:
        serial = x509.load_pem_x509_certificate((pki / f"{certificate}.crt").read_bytes()).serial_number
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(last_update).build())
    pem = builder.sign(ca.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
    (pki / "crl.pem").write_bytes(pem)
    return pem


def _health(opened) -> int:
    return health_pb2_grpc.HealthStub(opened).Check(health_pb2.HealthCheckRequest(), timeout=10).status


def _reflect(opened) -> list[str]:
    stub = reflection_pb2_grpc.ServerReflectionStub(opened)
    answers = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]),
                                        timeout=10)
    return [service.name for answer in answers for service in answer.list_services_response.service]


def _refusals(handle) -> list[dict]:
    entries = [json.loads(e) for e in handle.log.entries(0, handle.log.size())]
    return [e for e in entries if e["type"] == "refusal"]


def test_a_refused_handshake_is_a_structured_log_event_with_the_peer(pki, tmp_path):
    broker = BrokerProcess(pki, pki / "policy.toml", tmp_path / "data")
    try:
        credentials = grpc.ssl_channel_credentials(root_certificates=(pki / "ca.crt").read_bytes())
        with grpc.secure_channel(broker.address, credentials) as bare, pytest.raises(grpc.RpcError):
            _health(bare)
        refused = broker.wait_for("tls.handshake_refused")
        assert refused["level"] == "warning" and refused["peer"].startswith("ipv4:127.0.0.1:")
        assert "certificate" in refused["reason"].lower()
        with connect(broker.address, pki, "auditor") as auditor:
            assert _health(auditor) == health_pb2.HealthCheckResponse.SERVING
    finally:
        broker.terminate()
    lines = broker.log_path.read_text().splitlines()
    assert all(line.startswith("{") for line in lines), [line for line in lines if not line.startswith("{")]


def test_health_and_reflection_refuse_a_revoked_certificate(broker, channel, pki):
    auditor = channel(broker, "auditor")
    assert _health(auditor) == health_pb2.HealthCheckResponse.SERVING and _reflect(auditor)
    pki_module.revoke(pki, pki / "auditor.crt")
    for call in (_health, _reflect):
        with pytest.raises(grpc.RpcError) as caught:
            call(auditor)
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED and "revoked" in caught.value.details()
    assert [e["service"] for e in _refusals(broker)] == ["health", "reflection"]


@pytest.mark.parametrize("fault", ["missing", "expired", "garbage"])
def test_the_broker_does_not_start_without_a_current_revocation_list(start_broker, pki, fault):
    if fault == "missing":
        (pki / "crl.pem").unlink()
    elif fault == "expired":
        _write_crl(pki, NOW - dt.timedelta(days=40), NOW - dt.timedelta(days=10))
    else:
        (pki / "crl.pem").write_text("-----BEGIN X509 CRL-----\nnot a list\n-----END X509 CRL-----\n")
    with pytest.raises(ConfigError) as caught:
        start_broker()
    assert "revocation list" in str(caught.value) and "does not start" in str(caught.value)


@pytest.mark.parametrize("fault", ["removed", "expired", "rolled back"])
def test_a_revocation_list_that_goes_bad_refuses_every_call_until_fixed(start_broker, channel, pki, fault):
    """Fail closed: without a current list a revoked certificate would look valid."""
    older = _write_crl(pki, NOW - dt.timedelta(hours=2), NOW + dt.timedelta(days=20))
    broker = start_broker()
    auditor = channel(broker, "auditor")
    assert broker_info(auditor).organisation == "auditor"
    _write_crl(pki, NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=20), revoked=["ksz"])
    assert broker_info(auditor).organisation == "auditor"
    if fault == "removed":
        (pki / "crl.pem").unlink()
    elif fault == "expired":
        _write_crl(pki, NOW - dt.timedelta(minutes=30), NOW - dt.timedelta(minutes=1), revoked=["ksz"])
    else:
        (pki / "crl.pem").write_bytes(older)  # the list before ksz was revoked
    ksz = channel(broker, "ksz")
    for opened, call in ((auditor, broker_info), (ksz, broker_info), (auditor, _health)):
        with pytest.raises((BrokerCallError, grpc.RpcError)) as caught:
            call(opened)
        error = caught.value
        code = error.code if isinstance(error, BrokerCallError) else error.code()
        details = error.details if isinstance(error, BrokerCallError) else error.details()
        assert code == grpc.StatusCode.UNAUTHENTICATED and "refuses all calls until it is fixed" in details
    assert len(_refusals(broker)) == 3
    _write_crl(pki, dt.datetime.now(dt.timezone.utc), NOW + dt.timedelta(days=20), revoked=["ksz"])  # fixed
    assert broker_info(auditor).organisation == "auditor"
    with pytest.raises(BrokerCallError) as caught:
        broker_info(ksz)
    assert "revoked" in caught.value.details


def test_a_second_broker_on_the_same_data_directory_is_refused(broker, start_broker, channel, tmp_path):
    incoming = broker.store.root / "incoming"
    (incoming / "vdab-unfinished.part").write_bytes(b"kept")
    with pytest.raises(StorageError) as caught:
        start_broker(data_dir=tmp_path / "data")
    assert "in use by another broker" in str(caught.value) and "--data-dir" in str(caught.value)
    assert (incoming / "vdab-unfinished.part").read_bytes() == b"kept"
    assert broker_info(channel(broker, "vdab")).organisation == "vdab"
    broker.stop(0.5)
    second = start_broker(data_dir=tmp_path / "data")  # the lock goes with the broker that held it
    assert broker_info(channel(second, "vdab")).organisation == "vdab"


def test_a_revoked_certificate_can_be_replaced_and_the_new_one_works(broker, channel, pki):
    old = channel(broker, "education")
    assert broker_info(old).organisation == "education"
    with pytest.raises(pki_module.PkiError, match="not revoked"):
        pki_module.issue(pki, "education")
    pki_module.revoke(pki, pki / "education.crt")
    pki_module.issue(pki, "education")
    with pytest.raises(BrokerCallError) as caught:
        broker_info(old)
    assert caught.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert broker_info(channel(broker, "education")).organisation == "education"
