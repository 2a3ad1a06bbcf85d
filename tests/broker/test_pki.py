"""``linkage pki``: the development CA, certificates, keys and the example policy."""

from __future__ import annotations

import ipaddress
import stat

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from clients.cli import main
from server import pki
from server.policy import load_policy


def _cert(path):
    return x509.load_pem_x509_certificate(path.read_bytes())


def test_init_writes_certificates_keys_and_policy(tmp_path, capsys):
    target = tmp_path / "pki"
    assert main(["pki", "init", str(target)]) == 0
    ca = _cert(target / "ca.crt")
    for name in (*pki.DEFAULT_ORGANISATIONS, "broker"):
        certificate = _cert(target / f"{name}.crt")
        assert certificate.issuer == ca.subject
        certificate.verify_directly_issued_by(ca)
        assert certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == name
    for key in ("ca.key", "broker.key", "ksz.key", "auditor.key", "log.key", "receipt.key", "data.key"):
        assert stat.S_IMODE((target / key).stat().st_mode) == 0o600, key
    broker = _cert(target / "broker.crt")
    names = broker.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert ipaddress.ip_address("127.0.0.1") in names.get_values_for_type(x509.IPAddress)
    usage = _cert(target / "ksz.crt").extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in usage
    policy = load_policy(target / "policy.toml")
    assert policy.uploads["vdab"] == {"vdab"}
    assert policy.auditors == {"auditor"}
    assert [a.holder for a in policy.authorisations] == ["statistics"]
    assert (target / "log.pub").exists() and (target / "receipt.pub").exists()


def test_init_refuses_to_replace_a_ca_but_force_keeps_the_keys(tmp_path, capsys):
    target = tmp_path / "pki"
    assert main(["pki", "init", str(target), "--org", "ksz"]) == 0
    data_key = (target / "data.key").read_bytes()
    old_ca = (target / "ca.crt").read_bytes()
    assert main(["pki", "init", str(target), "--org", "ksz"]) == 2
    assert "already holds a CA" in capsys.readouterr().err
    assert main(["pki", "init", str(target), "--org", "ksz", "--force"]) == 0
    assert (target / "ca.crt").read_bytes() != old_ca
    assert (target / "data.key").read_bytes() == data_key


@pytest.mark.parametrize("name", ["ca", "broker", "a b", "../x", ""])
def test_bad_organisation_names_are_refused(tmp_path, name):
    with pytest.raises(pki.PkiError):
        pki.init_pki(tmp_path / "pki", [name])


def test_issue_and_revoke(tmp_path):
    target = tmp_path / "pki"
    pki.init_pki(target, ["ksz"])
    pki.issue(target, "newcomer")
    with pytest.raises(pki.PkiError, match="exists"):
        pki.issue(target, "newcomer")
    crl_path = pki.revoke(target, target / "newcomer.crt")
    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert crl.is_signature_valid(_cert(target / "ca.crt").public_key())
    serial = _cert(target / "newcomer.crt").serial_number
    assert crl.get_revoked_certificate_by_serial_number(serial) is not None
    pki.revoke(target, target / "ksz.crt")
    crl = x509.load_pem_x509_crl(crl_path.read_bytes())
    assert len(list(crl)) == 2


def test_revoking_a_certificate_of_another_ca_is_refused(tmp_path):
    pki.init_pki(tmp_path / "a", ["ksz"])
    pki.init_pki(tmp_path / "b", ["ksz"])
    with pytest.raises(pki.PkiError, match="not issued by"):
        pki.revoke(tmp_path / "a", tmp_path / "b" / "ksz.crt")
