"""``linkage audit fetch`` against a real broker on loopback, over real mutual TLS."""

import pytest

from clients.cli import main
from linkage.auditlog import generate_log_keypair, load_public_key, verify_folder

from linkage.signing_keys import generate_keypair
from server import app as serve_module
from server import pki as pki_module
from server.config import load_config
from server.keys import generate_data_key
from server.policy import example_policy


@pytest.fixture
def broker(tmp_path):
    pki = tmp_path / "pki"
    pki_module.init_pki(pki, pki_module.DEFAULT_ORGANISATIONS)
    generate_log_keypair(pki)
    generate_keypair(pki, "receipt")
    generate_data_key(pki / "data.key")
    (pki / "policy.toml").write_text(example_policy(pki_module.DEFAULT_ORGANISATIONS))
    handle = serve_module.serve(load_config(None, {
        "listen": "127.0.0.1:0", "tls_dir": pki, "policy": pki / "policy.toml",
        "data_dir": tmp_path / "data", "shutdown_grace_seconds": 1.0,
    }))
    yield handle, pki
    handle.stop(0.5)


def test_fetch_writes_a_folder_that_verifies_and_refetch_keeps_history(broker, tmp_path, capsys):
    handle, pki = broker
    args = ["audit", "fetch", "--broker", handle.address, "--tls-dir", str(pki), "--org",
            "auditor", "--log", str(tmp_path / "logdir"), "--quiet"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "Fetched" in out and "OK:" in out
    report = verify_folder(tmp_path / "logdir", load_public_key(pki / "log.pub"))
    assert report.ok and report.entries >= 1  # the broker logs at least its policy

    assert main(["audit", "show", "--log", str(tmp_path / "logdir"), "--json"]) == 0
    assert '"type": "policy"' in capsys.readouterr().out

    assert main(args) == 0  # fetching again into the folder keeps the heads seen before
    again = verify_folder(tmp_path / "logdir", load_public_key(pki / "log.pub"))
    assert again.ok and again.tree_heads >= report.tree_heads


def test_fetch_is_refused_to_non_auditors(broker, tmp_path, capsys):
    handle, pki = broker
    status = main(["audit", "fetch", "--broker", handle.address, "--tls-dir", str(pki), "--org",
                   "ksz", "--log", str(tmp_path / "logdir"), "--quiet"])
    assert status == 2
    assert "not an auditor" in capsys.readouterr().err
    assert not (tmp_path / "logdir").exists()
