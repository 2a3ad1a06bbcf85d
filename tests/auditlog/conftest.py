import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from linkage.auditlog import AuditLog

from .samples import sample_entry


@pytest.fixture
def key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def other_key():
    return Ed25519PrivateKey.generate()


@pytest.fixture
def make_log(tmp_path, key):
    opened = []

    def make(size: int = 0, name: str = "audit.db", signing_key=None) -> AuditLog:
        log = AuditLog(tmp_path / name, signing_key or key)
        if size:
            log.append_many(sample_entry(i) for i in range(size))
        opened.append(log)
        return log

    yield make
    for log in opened:
        try:
            log.close()
        except Exception:
            pass
