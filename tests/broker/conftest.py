"""Fixtures: a development PKI (made once), brokers on loopback with real mutual TLS."""

from __future__ import annotations

import shutil
from pathlib import Path

import grpc
import pytest

from clients.broker_cmds import connect
from linkage.auditlog import generate_log_keypair
from server import pki as pki_module
from server.app import serve
from server.config import load_config
from server.keys import generate_data_key
from linkage.signing_keys import generate_keypair
from server.policy import example_policy

ORGANISATIONS = (*pki_module.DEFAULT_ORGANISATIONS, "stranger")
"""``stranger`` holds a certificate from the broker's CA but is named in no policy."""


@pytest.fixture(scope="session")
def pki_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("pki")
    pki_module.init_pki(directory, ORGANISATIONS)
    generate_log_keypair(directory)
    generate_keypair(directory, "receipt")
    generate_data_key(directory / "data.key")
    (directory / "policy.toml").write_text(example_policy(pki_module.DEFAULT_ORGANISATIONS))
    other = tmp_path_factory.mktemp("other-ca")
    pki_module.init_pki(other, ("ksz",))
    (directory / "other-ca").mkdir()
    for name in ("ca.crt", "ksz.crt", "ksz.key"):
        shutil.copy(other / name, directory / "other-ca" / name)
    return directory


@pytest.fixture
def pki(pki_dir, tmp_path) -> Path:
    """A per-test copy (tests revoke certificates or edit the policy)."""
    target = tmp_path / "pki"
    shutil.copytree(pki_dir, target)
    return target


@pytest.fixture
def start_broker(pki, tmp_path):
    handles = []

    def start(**settings):
        values = {"listen": "127.0.0.1:0", "tls_dir": pki, "policy": pki / "policy.toml",
                  "data_dir": tmp_path / "data", "policy_poll_seconds": 0.2, "shutdown_grace_seconds": 2.0}
        values.update(settings)
        handle = serve(load_config(None, values))
        handles.append(handle)
        return handle

    yield start
    for handle in handles:
        handle.stop(0.5)


@pytest.fixture
def broker(start_broker):
    return start_broker()


@pytest.fixture
def channel(pki):
    channels = []

    def make(handle_or_address, organisation: str, tls_dir: Path | None = None) -> grpc.Channel:
        address = handle_or_address if isinstance(handle_or_address, str) else handle_or_address.address
        opened = connect(address, tls_dir or pki, organisation)
        channels.append(opened)
        return opened

    yield make
    for opened in channels:
        opened.close()
