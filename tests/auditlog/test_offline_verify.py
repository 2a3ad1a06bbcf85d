"""The offline verifier finds every kind of tampering and says what and where."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.auditlog import LogFolderError, fetch_log, verify_folder
from linkage.auditlog.folder import CONSISTENCY, ENTRIES, INCLUSION, LEAF_HASHES, TREE_HEADS
from linkage.auditlog.hashing import hash_leaf

from .samples import sample_entry

SIZE = 12


@pytest.fixture
def folder(tmp_path, make_log):
    """A folder fetched twice (sizes 8 and 12), so it holds two heads and a proof."""
    log = make_log(8)
    path = tmp_path / "logdir"
    fetch_log(log, path)
    log.append_many(sample_entry(i) for i in range(8, SIZE))
    fetch_log(log, path)
    return path


def lines(path, name):
    return (path / name).read_bytes().splitlines(keepends=True)


def write(path, name, content):
    (path / name).write_bytes(b"".join(content))


def problems(path, key, checkpoint=None):
    return verify_folder(path, key.public_key(), checkpoint).problems


def test_an_untouched_folder_verifies(folder, key):
    report = verify_folder(folder, key.public_key())
    assert report.ok, report.problems
    assert (report.entries, report.tree_heads, report.tree_size) == (SIZE, 2, SIZE)
    assert report.consistency_proofs == 1 and report.inclusion_proofs == SIZE


def test_every_entry_changed_anywhere_is_named(folder, key):
    original = lines(folder, ENTRIES)
    for index, line in enumerate(original):
        for position in (0, len(line) // 2, len(line) - 2):
            changed = list(original)
            byte = line[position] ^ 0x01
            changed[index] = line[:position] + bytes([byte]) + line[position + 1:]
            write(folder, ENTRIES, changed)
            found = problems(folder, key)
            assert any(f"entry {index} (line {index + 1} of {ENTRIES}) differs" in p
                       for p in found), found
            assert any(f"do not hash to the root of the signed tree head of size {SIZE}" in p
                       for p in found)
    write(folder, ENTRIES, original)
    assert problems(folder, key) == []


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_changed_byte_is_detected(folder, key, data):
    original = lines(folder, ENTRIES)
    index = data.draw(st.integers(0, SIZE - 1))
    line = original[index]
    position = data.draw(st.integers(0, len(line) - 2))
    value = data.draw(st.integers(0, 255).filter(lambda b: b not in (line[position], 10)))
    changed = list(original)
    changed[index] = line[:position] + bytes([value]) + line[position + 1:]
    write(folder, ENTRIES, changed)
    try:
        assert any(f"entry {index} " in p for p in problems(folder, key))
    finally:
        write(folder, ENTRIES, original)


def test_a_deleted_entry_is_located(folder, key):
    original = lines(folder, ENTRIES)
    write(folder, ENTRIES, original[:5] + original[6:])
    found = problems(folder, key)
    assert any("entries 11 to 11 are missing" in p for p in found), found
    assert any("entry 5 (line 6" in p and "signed at position 6" in p for p in found), found


def test_reordered_entries_are_located(folder, key):
    original = lines(folder, ENTRIES)
    swapped = list(original)
    swapped[2], swapped[9] = original[9], original[2]
    write(folder, ENTRIES, swapped)
    found = problems(folder, key)
    assert any("entry 2 " in p and "signed at position 9" in p and "reordered" in p for p in found)
    assert any("entry 9 " in p and "signed at position 2" in p for p in found)


def test_truncation_is_detected(folder, key):
    write(folder, ENTRIES, lines(folder, ENTRIES)[:10])
    write(folder, LEAF_HASHES, lines(folder, LEAF_HASHES)[:10])
    found = problems(folder, key)
    assert any(f"holds 10 entries but the newest signed tree head covers {SIZE}: entries 10 to 11 "
               "are missing" in p for p in found), found


def test_an_added_entry_is_not_signed(folder, key):
    extra = b'{"reason":"forged","type":"note","ts":"2025-01-01T00:00:00.000000Z","v":1}'
    write(folder, ENTRIES, lines(folder, ENTRIES) + [extra + b"\n"])
    write(folder, LEAF_HASHES, lines(folder, LEAF_HASHES) + [hash_leaf(extra).hex().encode() + b"\n"])
    found = problems(folder, key)
    assert any(f"entries {SIZE} to {SIZE} are not signed" in p for p in found), found


def test_an_entry_changed_together_with_its_leaf_hash_is_still_detected(folder, key):
    entries, hashes = lines(folder, ENTRIES), lines(folder, LEAF_HASHES)
    forged = entries[5].replace(b'"vdab"', b'"ksz"', 1)
    assert forged != entries[5]
    entries[5] = forged
    hashes[5] = hash_leaf(forged[:-1]).hex().encode() + b"\n"
    write(folder, ENTRIES, entries)
    write(folder, LEAF_HASHES, hashes)
    found = problems(folder, key)
    assert any("first 8 entries" in p and "size 8" in p for p in found), found
    assert any(f"{LEAF_HASHES} was changed along with the entries" in p for p in found), found
    assert any("entry 5 is not proven included" in p for p in found), found


def test_an_altered_leaf_hash_file_is_named(folder, key):
    hashes = lines(folder, LEAF_HASHES)
    hashes[3] = b"00" * 32 + b"\n"
    write(folder, LEAF_HASHES, hashes)
    assert problems(folder, key) == [
        f"{LEAF_HASHES} line 4 does not match entry 3, though the entries match the signed "
        f"tree: {LEAF_HASHES} was altered"
    ]


def test_a_tampered_tree_head_is_rejected(folder, key):
    heads = lines(folder, TREE_HEADS)
    head = json.loads(heads[1])
    head["root_hash"] = "00" * 32
    heads[1] = json.dumps(head).encode() + b"\n"
    write(folder, TREE_HEADS, heads)
    found = problems(folder, key)
    assert any(f"{TREE_HEADS} line 2: tree head of size {SIZE}" in p and "does not verify" in p
               for p in found), found


def test_an_altered_inclusion_proof_is_named(folder, key):
    proofs = lines(folder, INCLUSION)
    record = json.loads(proofs[7])
    first = record["proof"][0]
    record["proof"][0] = ("00" if first.startswith("ff") else "ff") + first[2:]   # always a change
    proofs[7] = json.dumps(record).encode() + b"\n"
    write(folder, INCLUSION, proofs)
    found = problems(folder, key)
    assert found and all("entry 7 is not proven included" in p for p in found), found


def test_the_wrong_public_key_fails_every_head(folder, other_key):
    found = problems(folder, other_key)
    assert any("manifest.json names a different log" in p for p in found)
    assert sum("different log or the wrong public key" in p for p in found) == 2
    assert any("holds no tree head signed by the given key" in p for p in found)


def fork(make_log):
    """Two logs under the same key that agree on entries 0..4 and then differ."""
    honest = make_log(8, name="honest.db")
    forked = make_log(5, name="forked.db")
    forked.append_many([sample_entry(100), sample_entry(101), sample_entry(102)])
    forked.append_many(sample_entry(i) for i in range(8, SIZE))
    return honest, forked


def test_a_forked_log_is_detected(tmp_path, key, make_log):
    honest, forked = fork(make_log)
    path = tmp_path / "fork"
    fetch_log(honest, path)
    fetch_log(forked, path)  # the folder keeps the honest head of size 8
    found = problems(path, key)
    assert any(f"fork: the signed tree heads of sizes 8 and {SIZE} are not consistent" in p
               for p in found), found


def test_two_roots_for_one_size_are_a_fork(tmp_path, key, make_log):
    honest = make_log(8, name="honest.db")
    forked = make_log(5, name="forked.db")
    forked.append_many([sample_entry(100), sample_entry(101), sample_entry(102)])
    path = tmp_path / "fork"
    fetch_log(honest, path)
    fetch_log(forked, path)
    found = problems(path, key)
    assert any("fork: the log signed two different roots for tree size 8" in p for p in found), found


def test_a_checkpoint_of_a_rewritten_history_is_detected(tmp_path, key, make_log):
    honest, forked = fork(make_log)
    checkpoint = honest.signed_tree_head()
    path = tmp_path / "forked"
    fetch_log(forked, path)
    assert problems(path, key) == []  # on its own the forked log is self-consistent
    found = problems(path, key, checkpoint)
    assert any("checkpoint: the first 8 entries no longer hash to the root of your checkpoint"
               in p for p in found), found


def test_a_rolled_back_log_fails_against_a_later_checkpoint(tmp_path, key, make_log):
    log = make_log(8)
    old = tmp_path / "old"
    fetch_log(log, old)
    log.append_many(sample_entry(i) for i in range(8, SIZE))
    checkpoint = log.signed_tree_head()
    found = problems(old, key, checkpoint)
    assert any(f"your checkpoint covers {SIZE} entries but the log now covers only 8" in p
               for p in found), found


def test_a_checkpoint_from_another_log_is_rejected(folder, key, other_key, make_log):
    other = make_log(3, name="other.db", signing_key=other_key)
    found = problems(folder, key, other.signed_tree_head())
    assert any(p.startswith("checkpoint: ") and "different log" in p for p in found), found


def test_a_good_checkpoint_passes(tmp_path, make_log, key):
    log = make_log(5)
    checkpoint = log.signed_tree_head()
    log.append_many(sample_entry(i) for i in range(5, 9))
    fetch_log(log, tmp_path / "logdir")
    assert problems(tmp_path / "logdir", key, checkpoint) == []


def test_a_missing_consistency_proof_is_reported(folder, key):
    write(folder, CONSISTENCY, [])
    assert problems(folder, key) == [
        f"no consistency proof between the signed tree heads of sizes 8 and {SIZE}: the "
        "folder is incomplete; fetch it again"
    ]


def test_incomplete_or_malformed_folders_are_errors(folder, key, tmp_path):
    (folder / INCLUSION).write_text("{not json\n")
    with pytest.raises(LogFolderError, match=f"{INCLUSION} line 1 is not valid JSON"):
        verify_folder(folder, key.public_key())
    (folder / INCLUSION).unlink()
    with pytest.raises(LogFolderError, match="missing: the log folder is incomplete"):
        verify_folder(folder, key.public_key())
    with pytest.raises(LogFolderError, match="is not a folder"):
        verify_folder(tmp_path / "nowhere", key.public_key())


def test_fetch_never_overwrites_a_folder_that_is_not_a_log_folder(tmp_path, make_log):
    (tmp_path / "documents").mkdir()
    (tmp_path / "documents" / "report.txt").write_text("keep me")
    with pytest.raises(LogFolderError, match="not an audit log folder"):
        fetch_log(make_log(2), tmp_path / "documents")
    assert (tmp_path / "documents" / "report.txt").read_text() == "keep me"


def test_fetch_replaces_a_folder_only_when_complete(tmp_path, make_log, key):
    log = make_log(6)
    path = tmp_path / "logdir"
    fetch_log(log, path)
    before = {p.name: p.read_bytes() for p in path.iterdir()}

    class Failing:
        def __getattr__(self, name):
            return getattr(log, name)

        def entries(self, start, end):
            raise ConnectionError("broker went away")

    with pytest.raises(ConnectionError):
        fetch_log(Failing(), path)
    assert {p.name: p.read_bytes() for p in path.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert verify_folder(path, key.public_key()).ok
