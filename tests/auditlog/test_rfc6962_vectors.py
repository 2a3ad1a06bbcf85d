"""Published RFC 6962 test vectors.

Source: transparency-dev/merkle (formerly google/trillian merkle), file
proof/verify_test.go, commit 02194e9afb6c1d95b5381350007963aa70fff472
(https://github.com/transparency-dev/merkle/blob/02194e9afb6c1d95b5381350007963aa70fff472/proof/verify_test.go):
the eight leaves, the root of every tree size 1..8, and the inclusion and consistency
proofs listed there (its inclusion vectors number leaves from 1; here indexes are 0-based).
"""

import pytest

from linkage.auditlog.errors import InvalidProofError
from linkage.auditlog.hashing import EMPTY_ROOT, CompactRange, hash_leaf
from linkage.auditlog.proofs import (
    consistency_proof,
    inclusion_proof,
    verify_consistency,
    verify_inclusion,
)

from .reference import mth

LEAVES = [
    b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43",
    bytes.fromhex("5051525354555657"), bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
EMPTY_TREE = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def h(*hexes: str) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


INCLUSION = [  # (0-based leaf index, tree size, proof)
    (0, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (5, 8, h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 3, h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (1, 5, h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
]
CONSISTENCY = [  # (first size, second size, proof)
    (1, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 5, h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (6, 7, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
]


def memory_subtree(start: int, end: int) -> bytes:
    return mth(LEAVES[start:end])


def test_empty_tree_root():
    assert EMPTY_ROOT.hex() == EMPTY_TREE
    assert CompactRange().root().hex() == EMPTY_TREE


def test_roots_of_every_size():
    tree = CompactRange()
    for size, (data, expected) in enumerate(zip(LEAVES, ROOTS), start=1):
        tree.append(hash_leaf(data))
        assert tree.root() == expected, f"root of size {size}"


@pytest.mark.parametrize("index,size,expected", INCLUSION)
def test_inclusion_proof_vectors(index, size, expected):
    assert inclusion_proof(index, size, memory_subtree) == expected
    verify_inclusion(hash_leaf(LEAVES[index]), index, size, expected, ROOTS[size - 1])


@pytest.mark.parametrize("first,second,expected", CONSISTENCY)
def test_consistency_proof_vectors(first, second, expected):
    assert consistency_proof(first, second, memory_subtree) == expected
    verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], expected)


def _inclusion_probes(index, size, proof, root, leaf_hash):
    """The corruptions of the reference test suite: each must be rejected."""
    some = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")
    probes = [
        (index + 1, size, root, leaf_hash, proof),
        (index ^ 2, size, root, leaf_hash, proof),
        (index, size * 2, root, leaf_hash, proof),
        (index, size // 2, root, leaf_hash, proof),
        (index, size, root, hash_leaf(b"WrongLeaf"), proof),
        (index, size, EMPTY_ROOT, leaf_hash, proof),
        (index, size, some, leaf_hash, proof),
        (index, size, root, leaf_hash, proof + [root]),
        (index, size, root, leaf_hash, [root] + proof),
    ]
    if index > 0:
        probes.append((index - 1, size, root, leaf_hash, proof))
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, root, leaf_hash, flipped))
    if proof:
        probes.append((index, size, root, leaf_hash, proof[:-1]))
    if len(proof) > 1:
        probes.append((index, size, root, leaf_hash, [proof[0], some, *proof[1:]]))
    return probes


@pytest.mark.parametrize("index,size,proof", INCLUSION)
def test_corrupted_inclusion_proofs_fail(index, size, proof):
    leaf_hash = hash_leaf(LEAVES[index])
    for probe_index, probe_size, root, probe_leaf, probe_proof in _inclusion_probes(
        index, size, proof, ROOTS[size - 1], leaf_hash
    ):
        with pytest.raises(InvalidProofError):
            verify_inclusion(probe_leaf, probe_index, probe_size, probe_proof, root)


@pytest.mark.parametrize("first,second,proof", CONSISTENCY)
def test_corrupted_consistency_proofs_fail(first, second, proof):
    root1, root2 = ROOTS[first - 1], ROOTS[second - 1]
    probes = [
        (first - 1, second, root1, root2, proof),
        (first + 1, second, root1, root2, proof),
        (first ^ 2, second, root1, root2, proof),
        (first, second * 2, root1, root2, proof),
        (first, second // 2, root1, root2, proof),
        (first, second, hash_leaf(b"WrongRoot"), root2, proof),
        (first, second, root1, hash_leaf(b"WrongRoot"), proof),
        (first, second, root2, root1, proof),
        (first, second, root1, root2, []),
        (first, second, root1, root2, proof + [root1]),
        (first, second, root1, root2, proof + [root2]),
        (first, second, root1, root2, [root1] + proof),
        (first, second, root1, root2, [root2] + proof),
        (first, second, root1, root2, [proof[0]] + proof),
        (first, second, root1, root2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((first, second, root1, root2, flipped))
    for probe in probes:
        with pytest.raises(InvalidProofError):
            verify_consistency(*probe)


def test_trivial_consistency_cases():
    r1, r2 = ROOTS[0], ROOTS[1]
    verify_consistency(0, 0, r1, r1, [])
    verify_consistency(0, 5, r1, r2, [])
    verify_consistency(3, 3, r2, r2, [])
    for first, second, a, b, proof in [
        (1, 1, r1, r2, []),        # same size, different roots: a fork
        (1, 0, r1, r2, []),        # back in time
        (2, 1, r1, r2, []),
        (1, 2, r1, r2, []),        # empty proof for a real extension
        (0, 1, r1, r1, [r1]),      # from the empty tree the proof must be empty
        (1, 1, r1, r1, [r1]),      # equal sizes need an empty proof
    ]:
        with pytest.raises(InvalidProofError):
            verify_consistency(first, second, a, b, proof)


def test_inclusion_outside_the_tree_fails():
    for index, size in [(0, 0), (1, 1), (2, 1)]:
        with pytest.raises(InvalidProofError):
            verify_inclusion(ROOTS[0], index, size, [], ROOTS[0])
    with pytest.raises(InvalidProofError):
        verify_inclusion(b"short", 0, 1, [], ROOTS[0])
