"""Mutual TLS: credentials for both ends, the caller's identity, revocation.

The broker uses grpcio's own TLS with client certificates required; there is no plaintext
port. The TLS handshake checks that the client certificate chains to ``ca.crt``. The
caller's organisation is then read from the verified peer certificate in the call's auth
context (subject O=, else CN=), never from a request field, and the certificate's serial
number is checked against the revocation list (``crl.pem``, signed by the same CA), which
is reloaded whenever the file changes.
"""

from __future__ import annotations

import datetime as _dt
import functools
import threading
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from linkage.errors import LinkageError


class TlsError(LinkageError):
    """Certificates or keys are missing or unusable."""


@dataclass(frozen=True)
class Identity:
    organisation: str
    serial: int
    fingerprint: str
    """SHA-256 of the certificate (hex), to tell two certificates of one organisation apart."""


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TlsError(
            f"cannot read the {what} {path} ({exc.strerror}); make development certificates with "
            "'linkage pki init DIR' or see docs/broker.md for certificates from a real CA"
        ) from None


def server_credentials(tls_dir: Path) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(_read(tls_dir / "broker.key", "broker key"), _read(tls_dir / "broker.crt", "broker certificate"))],
        root_certificates=_read(tls_dir / "ca.crt", "CA certificate"),
        require_client_auth=True,
    )


def channel_credentials(tls_dir: str | Path, organisation: str) -> grpc.ChannelCredentials:
    """Client credentials from ``TLS_DIR/ca.crt`` and ``TLS_DIR/ORG.crt``/``ORG.key``."""
    folder = Path(tls_dir)
    return grpc.ssl_channel_credentials(
        root_certificates=_read(folder / "ca.crt", "CA certificate"),
        private_key=_read(folder / f"{organisation}.key", f"private key of {organisation!r}"),
        certificate_chain=_read(folder / f"{organisation}.crt", f"certificate of {organisation!r}"),
    )


@functools.lru_cache(maxsize=1024)
def _identity_from_pem(pem: bytes) -> Identity:
    certificate = x509.load_pem_x509_certificate(pem)
    names = certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME) or (
        certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    )
    if not names:
        raise TlsError("the client certificate names no organisation (O=) or common name (CN=)")
    return Identity(str(names[0].value), certificate.serial_number, certificate.fingerprint(hashes.SHA256()).hex())


def peer_identity(context: grpc.ServicerContext) -> Identity:
    """The verified client certificate's identity; TlsError when the call has none."""
    auth = context.auth_context()
    pems = auth.get("x509_pem_cert")
    if not pems:
        raise TlsError("the call carries no verified client certificate")
    return _identity_from_pem(pems[0])


class RevocationList:
    """Serial numbers revoked by the CA, from a PEM CRL reloaded when the file changes.

    Fail closed: a missing file, a CRL that is unreadable, not signed by the CA, past its
    next-update time, or older than one already read (rolled back) makes every call fail,
    and :meth:`startup_problem` makes the broker refuse to start: the operator must fix it
    rather than have revoked certificates silently accepted.
    """

    def __init__(self, path: Path, ca_certificate: Path) -> None:
        self.path = path
        self._ca = x509.load_pem_x509_certificate(_read(ca_certificate, "CA certificate"))
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._serials: frozenset[int] = frozenset()
        self._error: str | None = None
        self._next_update: _dt.datetime | None = None
        self._newest: _dt.datetime | None = None
        self._refresh()

    def _refresh(self) -> None:
        try:
            stat = self.path.stat()
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            stamp = None
        with self._lock:
            if stamp == self._stamp:
                return
            self._stamp = stamp
            self._serials, self._next_update = frozenset(), None
            if stamp is None:
                self._error = (f"there is no revocation list at {self.path}; make one with "
                               "'linkage pki crl DIR' (or get it from the CA)")
                return
            try:
                crl = x509.load_pem_x509_crl(self.path.read_bytes())
                if crl.issuer != self._ca.subject or not crl.is_signature_valid(self._ca.public_key()):
                    raise ValueError("not signed by the broker's CA")
                issued = crl.last_update_utc
                if self._newest is not None and issued < self._newest:
                    raise ValueError(f"issued {issued:%Y-%m-%d %H:%M} UTC, older than the list already "
                                     "in force: it was rolled back")
            except (OSError, ValueError) as exc:
                self._error = f"the revocation list {self.path} is unusable ({exc})"
                return
            self._newest = issued
            self._next_update = crl.next_update_utc
            self._serials, self._error = frozenset(entry.serial_number for entry in crl), None

    def _unusable(self) -> str | None:
        self._refresh()
        with self._lock:
            if self._error:
                return self._error
            if self._next_update is None or self._next_update <= _dt.datetime.now(_dt.timezone.utc):
                when = f" on {self._next_update:%Y-%m-%d %H:%M} UTC" if self._next_update else ""
                return (f"the revocation list {self.path} expired{when} (its next-update time); "
                        "renew it with 'linkage pki crl DIR' (or get a current one from the CA)")
        return None

    def startup_problem(self) -> str | None:
        """Why the broker must not start with this revocation list, or None."""
        return self._unusable()

    def problem(self, identity: Identity) -> str | None:
        """Why ``identity`` must be refused, or None."""
        unusable = self._unusable()
        if unusable:
            return unusable + "; the broker refuses all calls until it is fixed"
        with self._lock:
            if identity.serial in self._serials:
                return (
                    f"the certificate of {identity.organisation!r} (serial {identity.serial:x}) has been "
                    "revoked; ask the broker operator for a new one"
                )
        return None
