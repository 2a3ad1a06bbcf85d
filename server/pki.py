"""A development certificate authority for mutual TLS, made with ``cryptography``.

``init_pki`` writes, in one directory: ``ca.crt``/``ca.key``, ``broker.crt``/``broker.key``
(valid for localhost, 127.0.0.1 and ::1) and one ``NAME.crt``/``NAME.key`` per organisation.
The organisation is the certificate subject's O= (and CN=); the broker reads it from the
verified peer certificate. ``init`` also writes an empty revocation list ``crl.pem``;
``revoke`` adds a certificate to it, and ``renew_crl`` signs it again. The broker checks it
on every call and refuses to work with none or an expired one (it is valid for CRL_DAYS:
renew it before then). ``issue`` replaces a certificate only once it is revoked. Private
keys are written with mode 0600.

Keys are ECDSA P-256: every TLS stack (BoringSSL in grpcio included) supports them.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from linkage.errors import LinkageError
from linkage.files import write_atomic

DEFAULT_ORGANISATIONS = ("ksz", "vdab", "integration", "education", "statistics", "operator", "auditor")
BROKER_NAME = "broker"
BROKER_HOSTS = ("localhost", "127.0.0.1", "::1")
CA_DAYS = 3650
LEAF_DAYS = 825
CRL_DAYS = 30


class PkiError(LinkageError):
    """The certificate directory is missing, damaged or would be overwritten."""


@dataclass(frozen=True)
class Authority:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _name(organisation: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
        x509.NameAttribute(NameOID.COMMON_NAME, organisation),
    ])


def valid_name(name: str) -> bool:
    return bool(name) and name.replace("-", "").replace("_", "").isalnum() and name.isascii()


def _new_ca(days: int) -> Authority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "linkage development CA"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"linkage development CA {os.urandom(4).hex()}"),
    ])
    now = _now()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(certificate, key)


def _issue(ca: Authority, organisation: str, *, server_hosts: Sequence[str] = (),
           days: int = LEAF_DAYS) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    usage = [ExtendedKeyUsageOID.SERVER_AUTH] if server_hosts else [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(organisation))
        .issuer_name(ca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(minutes=5))
        .not_valid_after(now + _dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if server_hosts:
        names: list[x509.GeneralName] = []
        for host in server_hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(ca.key, hashes.SHA256()), key


def _write_pair(directory: Path, name: str, certificate: x509.Certificate,
                key: ec.EllipticCurvePrivateKey) -> None:
    write_atomic(directory / f"{name}.key", _key_pem(key), mode=0o600)
    write_atomic(directory / f"{name}.crt", certificate.public_bytes(serialization.Encoding.PEM))


def init_pki(directory: str | Path, organisations: Sequence[str] = DEFAULT_ORGANISATIONS,
             broker_hosts: Sequence[str] = BROKER_HOSTS, force: bool = False) -> list[Path]:
    """Make a development CA, the broker's certificate and one per organisation.

    Refuses to overwrite an existing CA unless ``force``: replacing it would lock every
    provider out. Returns the files written.
    """
    target = Path(directory)
    for name in organisations:
        if not valid_name(name) or name in ("ca", BROKER_NAME):
            raise PkiError(
                f"organisation name {name!r} is not usable: use letters, digits, '-' or '_', "
                f"and not 'ca' or '{BROKER_NAME}'"
            )
    if (target / "ca.crt").exists() and not force:
        raise PkiError(
            f"{target / 'ca.crt'} exists: this directory already holds a CA. "
            "Use another directory, or --force to replace every certificate in it"
        )
    target.mkdir(parents=True, exist_ok=True)
    ca = _new_ca(CA_DAYS)
    write_atomic(target / "ca.key", _key_pem(ca.key), mode=0o600)
    write_atomic(target / "ca.crt", ca.certificate.public_bytes(serialization.Encoding.PEM))
    _write_crl(target, ca, [])
    written = [target / "ca.crt", target / "ca.key", target / "crl.pem"]
    certificate, key = _issue(ca, BROKER_NAME, server_hosts=broker_hosts)
    _write_pair(target, BROKER_NAME, certificate, key)
    written += [target / f"{BROKER_NAME}.crt", target / f"{BROKER_NAME}.key"]
    for name in organisations:
        certificate, key = _issue(ca, name)
        _write_pair(target, name, certificate, key)
        written += [target / f"{name}.crt", target / f"{name}.key"]
    return written


def load_authority(directory: str | Path) -> Authority:
    target = Path(directory)
    try:
        certificate = x509.load_pem_x509_certificate((target / "ca.crt").read_bytes())
        key = serialization.load_pem_private_key((target / "ca.key").read_bytes(), password=None)
    except FileNotFoundError as exc:
        raise PkiError(f"{exc.filename} is missing: run 'linkage pki init {target}' first") from None
    except ValueError as exc:
        raise PkiError(f"the CA in {target} cannot be read ({exc})") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise PkiError(f"{target / 'ca.key'} is not an EC private key")
    return Authority(certificate, key)


def issue(directory: str | Path, organisation: str) -> list[Path]:
    """Issue a certificate for one more organisation with the CA in ``directory``."""
    target = Path(directory)
    if not valid_name(organisation) or organisation in ("ca", BROKER_NAME):
        raise PkiError(f"organisation name {organisation!r} is not usable")
    authority = load_authority(target)
    existing = target / f"{organisation}.crt"
    if existing.exists() and not _is_revoked(target, existing):
        raise PkiError(
            f"{existing} exists and is not revoked; revoke it first ('linkage pki revoke "
            f"{target} {organisation}') if it must be replaced"
        )
    certificate, key = _issue(authority, organisation)
    _write_pair(target, organisation, certificate, key)
    return [target / f"{organisation}.crt", target / f"{organisation}.key"]


def _revoked_entries(target: Path) -> list[x509.RevokedCertificate]:
    crl_path = target / "crl.pem"
    if not crl_path.exists():
        return []
    try:
        return list(x509.load_pem_x509_crl(crl_path.read_bytes()))
    except ValueError as exc:
        raise PkiError(f"{crl_path} cannot be read ({exc})") from None


def _is_revoked(target: Path, certificate_path: Path) -> bool:
    try:
        serial = x509.load_pem_x509_certificate(certificate_path.read_bytes()).serial_number
    except (OSError, ValueError):
        return True  # an unreadable certificate is replaced
    return any(entry.serial_number == serial for entry in _revoked_entries(target))


def _write_crl(target: Path, ca: Authority, revoked: list[x509.RevokedCertificate]) -> Path:
    """Sign and write ``crl.pem``, valid for CRL_DAYS (the broker refuses an expired one)."""
    now = _now()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(now)
        .next_update(now + _dt.timedelta(days=CRL_DAYS))
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(entry)
    crl = builder.sign(ca.key, hashes.SHA256())
    crl_path = target / "crl.pem"
    write_atomic(crl_path, crl.public_bytes(serialization.Encoding.PEM))
    return crl_path


def renew_crl(directory: str | Path) -> Path:
    """Sign the revocation list again with a new validity period (same entries)."""
    target = Path(directory)
    return _write_crl(target, load_authority(target), _revoked_entries(target))


def revoke(directory: str | Path, certificate_path: str | Path) -> Path:
    """Add a certificate to the directory's ``crl.pem`` (signed by the CA) and return its path.

    The broker reloads the list when it changes and refuses every call made with a
    revoked certificate.
    """
    target = Path(directory)
    ca = load_authority(target)
    try:
        certificate = x509.load_pem_x509_certificate(Path(certificate_path).read_bytes())
    except (OSError, ValueError) as exc:
        raise PkiError(f"cannot read the certificate to revoke, {certificate_path} ({exc})") from None
    try:
        certificate.verify_directly_issued_by(ca.certificate)
    except (ValueError, TypeError, InvalidSignature):
        raise PkiError(f"{certificate_path} was not issued by the CA in {target}") from None
    revoked = _revoked_entries(target)
    if all(entry.serial_number != certificate.serial_number for entry in revoked):
        revoked.append(
            x509.RevokedCertificateBuilder()
            .serial_number(certificate.serial_number)
            .revocation_date(_now())
            .build()
        )
    return _write_crl(target, ca, revoked)
