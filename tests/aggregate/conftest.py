"""The broker fixtures (development PKI, brokers on loopback with mutual TLS) are shared."""

from tests.broker.conftest import broker, channel, pki, pki_dir, start_broker  # noqa: F401
