"""Key files and signed tree heads."""

import stat

import pytest

from linkage.auditlog import (
    InvalidSignatureError,
    KeyFileError,
    SignedTreeHead,
    generate_log_keypair,
    load_public_key,
    load_signing_key,
    log_id,
)
from linkage.auditlog.errors import AuditLogError
from linkage.auditlog.tree_head import sign_tree_head, signed_bytes

ROOT = bytes(range(32))


def test_generated_keypair_loads_and_the_private_key_is_private(tmp_path):
    private, public = generate_log_keypair(tmp_path / "pki")
    assert private.name == "log.key" and public.name == "log.pub"
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = load_signing_key(private)
    assert log_id(load_public_key(public)) == log_id(key.public_key())
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")


def test_keypair_is_never_overwritten(tmp_path):
    generate_log_keypair(tmp_path)
    before = (tmp_path / "log.key").read_bytes()
    with pytest.raises(KeyFileError, match="exists already"):
        generate_log_keypair(tmp_path)
    assert (tmp_path / "log.key").read_bytes() == before


def test_bad_key_files_give_clear_errors(tmp_path):
    private, public = generate_log_keypair(tmp_path)
    with pytest.raises(KeyFileError, match="cannot read"):
        load_public_key(tmp_path / "missing.pub")
    with pytest.raises(KeyFileError, match="not a PEM public key"):
        load_public_key(private)
    private.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_signing_key(private)
    garbage = tmp_path / "garbage.key"
    garbage.write_text("not a key")
    garbage.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an unencrypted PEM"):
        load_signing_key(garbage)


def test_tree_head_signature_covers_every_field(key, other_key):
    head = sign_tree_head(key, 42, ROOT, timestamp=1_700_000_000_000)
    head.verify(key.public_key())
    assert signed_bytes(head.log_id, 42, head.timestamp, ROOT)[:27] == b"linkage-audit-tree-head-v1\n"
    for changed in (
        SignedTreeHead(43, ROOT, head.timestamp, head.signature, head.log_id),
        SignedTreeHead(42, bytes(32), head.timestamp, head.signature, head.log_id),
        SignedTreeHead(42, ROOT, head.timestamp + 1, head.signature, head.log_id),
        SignedTreeHead(42, ROOT, head.timestamp, bytes(64), head.log_id),
    ):
        with pytest.raises(InvalidSignatureError, match="size 4[23].*does not verify"):
            changed.verify(key.public_key())
    with pytest.raises(InvalidSignatureError, match="different log"):
        head.verify(other_key.public_key())


def test_tree_head_json_roundtrip_and_malformed_json(key):
    head = sign_tree_head(key, 7, ROOT)
    assert SignedTreeHead.from_json(head.to_json()) == head
    data = head.to_dict()
    for field, value in [("tree_size", -1), ("tree_size", "7"), ("root_hash", "00"),
                         ("signature", "zz"), ("format", "other/1")]:
        with pytest.raises(AuditLogError, match=field if field != "tree_size" or value == "7" else "64 bits"):
            SignedTreeHead.from_dict({**data, field: value})
    with pytest.raises(AuditLogError, match="not valid JSON"):
        SignedTreeHead.from_json("{")
