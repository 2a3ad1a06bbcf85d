"""Property tests: proofs from the library equal the RFC's recursive definitions, verify,
and stop verifying when any byte of any proof hash changes."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

import pytest

from linkage.auditlog.errors import InvalidProofError
from linkage.auditlog.hashing import CompactRange, hash_leaf
from linkage.auditlog.proofs import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

from . import reference

MAX_SIZE = 300


def entries_of(size: int) -> list[bytes]:
    return [hashlib.sha256(i.to_bytes(4, "big")).digest()[: i % 7] for i in range(size)]


def subtree_oracle(entries: list[bytes]):
    return lambda start, end: reference.mth(entries[start:end])


def root_of(entries: list[bytes]) -> bytes:
    tree = CompactRange()
    for data in entries:
        tree.append(hash_leaf(data))
    return tree.root()


@st.composite
def tree_and_leaf(draw):
    size = draw(st.integers(1, MAX_SIZE))
    return size, draw(st.integers(0, size - 1))


@st.composite
def two_sizes(draw):
    second = draw(st.integers(1, MAX_SIZE))
    return draw(st.integers(1, second)), second


@settings(max_examples=60, deadline=None)
@given(st.integers(0, MAX_SIZE))
def test_compact_range_root_is_the_merkle_tree_hash(size):
    entries = entries_of(size)
    assert root_of(entries) == reference.mth(entries)


@settings(max_examples=60, deadline=None)
@given(tree_and_leaf(), st.data())
def test_inclusion_proofs_verify_and_any_altered_byte_fails(case, data):
    size, index = case
    entries = entries_of(size)
    proof = inclusion_proof(index, size, subtree_oracle(entries))
    assert proof == reference.path(index, entries)
    root = reference.mth(entries)
    verify_inclusion(hash_leaf(entries[index]), index, size, proof, root)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        bit = data.draw(st.integers(0, 7))
        altered = list(proof)
        altered[which] = bytearray(altered[which])
        altered[which][byte] ^= 1 << bit
        altered[which] = bytes(altered[which])
        with pytest.raises(InvalidProofError):
            verify_inclusion(hash_leaf(entries[index]), index, size, altered, root)
    with pytest.raises(InvalidProofError):
        verify_inclusion(hash_leaf(b"not in the log"), index, size, proof, root)


@settings(max_examples=60, deadline=None)
@given(two_sizes(), st.data())
def test_consistency_proofs_verify_and_any_altered_byte_fails(sizes, data):
    first, second = sizes
    entries = entries_of(second)
    proof = consistency_proof(first, second, subtree_oracle(entries))
    assert proof == reference.proof(first, entries)
    first_root, second_root = reference.mth(entries[:first]), reference.mth(entries)
    verify_consistency(first, second, first_root, second_root, proof)
    if proof:
        which = data.draw(st.integers(0, len(proof) - 1))
        byte = data.draw(st.integers(0, 31))
        altered = list(proof)
        altered[which] = bytes([b ^ (0x80 if i == byte else 0) for i, b in enumerate(altered[which])])
        with pytest.raises(InvalidProofError):
            verify_consistency(first, second, first_root, second_root, altered)


@settings(max_examples=40, deadline=None)
@given(two_sizes(), st.integers(0, MAX_SIZE - 1))
def test_a_rewritten_history_is_never_consistent(sizes, changed):
    """Change one entry of the old tree: no proof from the new log can link the two roots."""
    first, second = sizes
    entries = entries_of(second)
    changed %= first
    forked = list(entries)
    forked[changed] = b"rewritten" + forked[changed]
    proof = consistency_proof(first, second, subtree_oracle(forked))
    if first == second:
        proof = []
    with pytest.raises(InvalidProofError):
        verify_consistency(first, second, reference.mth(entries[:first]), reference.mth(forked), proof)
