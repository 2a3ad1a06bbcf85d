"""``linkage audit fetch`` as an auditor repeats it: only new entries cross the wire, the
whole folder is verified again, and the checkpoint advances only when everything holds."""

import json

import pytest
from cryptography.hazmat.primitives import serialization

from clients.audit_cmd import fetch_and_verify
from clients.cli import main
from linkage.auditlog import AuditLogError
from linkage.auditlog.folder import ENTRIES

from .samples import sample_entry
from .test_fetch_e2e import broker  # noqa: F401 - the real broker on loopback, as a fixture


class Counting:
    """An ``AuditLog`` as a ``LogSource`` that counts the entries it serves."""

    def __init__(self, log):
        self.log, self.served = log, 0

    def __getattr__(self, name):
        return getattr(self.log, name)

    def entries(self, start, end):
        self.served += end - start
        return self.log.entries(start, end)


@pytest.fixture
def public(tmp_path, key):
    path = tmp_path / "log.pub"
    path.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def test_a_second_fetch_asks_only_for_new_entries_and_advances_the_checkpoint(make_log, public, tmp_path, capsys):
    log, folder, checkpoint = make_log(40), tmp_path / "logdir", tmp_path / "cp.json"
    source = Counting(log)
    with pytest.raises(AuditLogError, match="no checkpoint"):
        fetch_and_verify(source, folder, public, checkpoint, quiet=True)
    assert source.served == 0 and not folder.exists()
    assert fetch_and_verify(source, folder, public, checkpoint, quiet=True, create=True) == 0
    assert source.served == 40 and json.loads(checkpoint.read_text())["tree_size"] == 40
    assert "as your first checkpoint" in capsys.readouterr().out

    log.append_many(sample_entry(i) for i in range(40, 47))
    source.served = 0
    assert fetch_and_verify(source, folder, public, checkpoint, quiet=True) == 0
    out = capsys.readouterr().out
    assert source.served == 7 and "Fetched 7 new entries" in out and "40 held" in out
    assert "Advanced checkpoint" in out and "from 40 to 47" in out
    assert json.loads(checkpoint.read_text())["tree_size"] == 47
    assert len((folder / ENTRIES).read_bytes().splitlines()) == 47


def test_a_changed_held_entry_fails_and_the_checkpoint_stays(make_log, public, tmp_path, capsys):
    log, folder, checkpoint = make_log(20), tmp_path / "logdir", tmp_path / "cp.json"
    assert fetch_and_verify(log, folder, public, checkpoint, quiet=True, create=True) == 0
    entries = folder / ENTRIES
    entries.write_bytes(entries.read_bytes().replace(b'"vdab"', b'"VDAB"', 1))
    log.append_many(sample_entry(i) for i in range(20, 25))
    before = checkpoint.read_bytes()
    capsys.readouterr()
    assert fetch_and_verify(log, folder, public, checkpoint, quiet=True) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and "entry 0" in err and "fetch into a new folder" in err
    assert "was left unchanged" in err and checkpoint.read_bytes() == before
    # a fresh folder holds nothing of the earlier fetch and verifies
    assert fetch_and_verify(log, tmp_path / "fresh", public, checkpoint, quiet=True) == 0


def test_fetch_over_mtls_explains_a_missing_checkpoint_then_keeps_it_current(broker, tmp_path, capsys):  # noqa: F811
    handle, pki = broker
    checkpoint = tmp_path / "last.json"
    args = ["audit", "fetch", "--broker", handle.address, "--tls-dir", str(pki), "--org", "auditor",
            "--log", str(tmp_path / "logdir"), "--checkpoint", str(checkpoint), "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "no checkpoint" in err and "--create" in err and not (tmp_path / "logdir").exists()

    assert main([*args, "--create"]) == 0
    first = json.loads(checkpoint.read_text())["tree_size"]
    assert "first checkpoint" in capsys.readouterr().out

    refused = [*args[:7], "ksz", "--log", str(tmp_path / "ksz-log"), "--quiet"]
    assert main(refused) == 2  # not an auditor: refused, and the refusal is a new entry
    capsys.readouterr()
    assert main(args) == 0
    out = capsys.readouterr().out
    assert json.loads(checkpoint.read_text())["tree_size"] > first
    assert f"{first} held from the earlier fetch" in out and "Advanced checkpoint" in out
