"""The SQLite-backed log: proofs match the RFC definitions, persistence, crash safety."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from linkage.auditlog import AuditLog, AuditLogError, refusal_entry
from linkage.auditlog.hashing import EMPTY_ROOT, hash_leaf
from linkage.auditlog.proofs import verify_consistency, verify_inclusion

from . import reference
from .samples import sample_entry


def test_roots_and_proofs_match_the_rfc_definitions(make_log):
    log = make_log(37)
    entries = log.entries(0, 37)
    for size in range(0, 38):
        assert log.root_hash(size) == reference.mth(entries[:size])
    for size in (1, 2, 5, 16, 31, 37):
        for index in range(size):
            assert log.inclusion_proof(index, size) == reference.path(index, entries[:size])
        for first in range(0, size + 1):
            assert log.consistency_proof(first, size) == reference.proof(first, entries[:size])


def test_append_returns_consecutive_indexes_and_entries_come_back_canonical(make_log):
    log = make_log()
    assert log.size() == 0 and log.root_hash() == EMPTY_ROOT
    assert log.append(sample_entry(0)) == 0
    assert log.append_many([sample_entry(1), sample_entry(2)]) == [1, 2]
    assert log.size() == 3
    first = log.entries(0, 1)[0]
    assert b" " not in first.replace(b"schema fingerprint differs", b"")  # no whitespace
    assert first.startswith(b'{"accepted":false,')  # keys sorted


def test_signed_tree_head_is_reused_until_the_log_grows(make_log, key):
    log = make_log(3)
    head = log.signed_tree_head()
    head.verify(key.public_key())
    assert head.tree_size == 3 and head.root_hash == log.root_hash()
    time.sleep(0.002)
    assert log.signed_tree_head() == head
    log.append(sample_entry(3))
    newer = log.signed_tree_head()
    assert newer.tree_size == 4
    verify_consistency(3, 4, head.root_hash, newer.root_hash, log.consistency_proof(3, 4))


def test_reopened_log_keeps_entries_roots_and_continues_consistently(tmp_path, key):
    with AuditLog(tmp_path / "a.db", key) as log:
        log.append_many(sample_entry(i) for i in range(21))
        root21 = log.root_hash()
        head = log.signed_tree_head()
    with AuditLog(tmp_path / "a.db", key) as log:
        assert log.size() == 21 and log.root_hash() == root21
        assert log.signed_tree_head() == head
        log.append_many(sample_entry(i) for i in range(21, 40))
        entries = log.entries(0, 40)
        assert log.root_hash() == reference.mth(entries)
        verify_consistency(21, 40, root21, log.root_hash(), log.consistency_proof(21, 40))


def test_a_log_refuses_another_signing_key(tmp_path, key, other_key):
    AuditLog(tmp_path / "a.db", key).close()
    with pytest.raises(AuditLogError, match="different signing key"):
        AuditLog(tmp_path / "a.db", other_key)


def test_ranges_outside_the_log_are_refused(make_log):
    log = make_log(5)
    for call in (
        lambda: log.entries(3, 6), lambda: log.entries(4, 2), lambda: log.entries(-1, 2),
        lambda: log.inclusion_proof(5, 5), lambda: log.inclusion_proof(0, 6),
        lambda: log.consistency_proof(2, 6), lambda: log.consistency_proof(4, 3),
        lambda: log.root_hash(6),
    ):
        with pytest.raises(AuditLogError):
            call()


def test_stored_rows_cannot_be_updated_or_deleted(make_log):
    log = make_log(4)
    log.signed_tree_head()
    db = sqlite3.connect(log.path)
    for statement in (
        "UPDATE entries SET entry = x'00' WHERE idx = 1",
        "DELETE FROM entries WHERE idx = 3",
        "UPDATE nodes SET hash = x'00' WHERE level = 0",
        "DELETE FROM tree_heads",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()


def test_a_failing_append_leaves_nothing_behind(make_log):
    """Make the database refuse the third subtree hash: the whole batch must roll back."""
    log = make_log(6)
    root = log.root_hash()
    db = sqlite3.connect(log.path)
    db.execute(
        "CREATE TRIGGER fail_level_two BEFORE INSERT ON nodes WHEN NEW.level = 2 "
        "BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    )
    db.commit()
    with pytest.raises(AuditLogError, match="nothing was written"):
        log.append_many([sample_entry(6), sample_entry(7)])  # leaf 7 completes a level-2 node
    assert log.size() == 6 and log.root_hash() == root
    db.execute("DROP TRIGGER fail_level_two")
    db.commit()
    db.close()
    assert log.append(sample_entry(6)) == 6
    assert log.root_hash() == reference.mth(log.entries(0, 7))


def test_two_writers_on_one_file_stay_consistent(tmp_path, key):
    first, second = AuditLog(tmp_path / "a.db", key), AuditLog(tmp_path / "a.db", key)
    for i in range(10):
        (first if i % 3 else second).append(sample_entry(i))
    assert first.size() == second.size() == 10
    entries = first.entries(0, 10)
    assert first.root_hash() == second.root_hash() == reference.mth(entries)
    first.close(), second.close()


WRITER = """
import sys
from cryptography.hazmat.primitives import serialization
from linkage.auditlog import AuditLog, refusal_entry
key = serialization.load_pem_private_key(open(sys.argv[2], "rb").read(), None)
log = AuditLog(sys.argv[1], key)
i = 0
while True:
    log.append_many([refusal_entry("upload", "org", f"attempt {i}")] * (1 + i % 3))
    i += 1
    if i == 5:
        print("writing", flush=True)
"""


def test_killed_writer_leaves_a_consistent_log(tmp_path, key):
    """SIGKILL a process in the middle of appending; the log must reopen whole."""
    from cryptography.hazmat.primitives import serialization

    key_file = tmp_path / "log.key"
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    root = Path(__file__).resolve().parents[2]
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "a.db"), str(key_file)],
        stdout=subprocess.PIPE, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
    )
    try:
        assert writer.stdout.readline().strip() == b"writing"
        time.sleep(0.3)
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    with AuditLog(tmp_path / "a.db", key) as log:
        size = log.size()
        assert size > 5
        entries = log.entries(0, size)
        assert log.root_hash() == reference.mth(entries)
        for index in (0, size // 2, size - 1):
            verify_inclusion(hash_leaf(entries[index]), index, size,
                             log.inclusion_proof(index, size), log.root_hash())
        assert log.append(refusal_entry("upload", "org", "after the crash")) == size
        assert log.root_hash() == reference.mth(log.entries(0, size + 1))
