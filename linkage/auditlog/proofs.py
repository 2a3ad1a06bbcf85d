"""Inclusion and consistency proofs: generation and verification (RFC 9162 §2.1.3, §2.1.4).

Generation needs only a way to get MTH(D[start:end]) for the subtrees the algorithms name
(``SubtreeHash``), so the same code serves the SQLite log and in-memory trees in tests.
Verification follows the RFC 9162 verification algorithms step by step and raises
``InvalidProofError`` saying why a proof fails.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Sequence

from linkage.auditlog.errors import InvalidProofError
from linkage.auditlog.hashing import HASH_SIZE, hash_children, split_point

SubtreeHash = Callable[[int, int], bytes]


def inclusion_proof(index: int, tree_size: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[0:tree_size]): sibling hashes from the leaf up to the root."""
    if not 0 <= index < tree_size:
        raise InvalidProofError(
            f"no inclusion proof for leaf {index} in a tree of size {tree_size}: "
            f"the index must be at least 0 and smaller than the tree size"
        )
    siblings = []
    lo, hi = 0, tree_size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            siblings.append(subtree_hash(lo + k, hi))
            hi = lo + k
        else:
            siblings.append(subtree_hash(lo, lo + k))
            lo += k
    return siblings[::-1]


def consistency_proof(first: int, second: int, subtree_hash: SubtreeHash) -> list[bytes]:
    """PROOF(first, D[0:second]); empty when first is 0 or equal to second."""
    if not 0 <= first <= second:
        raise InvalidProofError(
            f"no consistency proof from tree size {first} to {second}: "
            f"the first size must be between 0 and the second"
        )
    if first in (0, second):
        return []
    nodes = []
    lo, hi, m, whole_old_tree = 0, second, first, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            nodes.append(subtree_hash(lo + k, hi))
            hi = lo + k
        else:
            nodes.append(subtree_hash(lo, lo + k))
            lo, m, whole_old_tree = lo + k, m - k, False
    if not whole_old_tree:
        nodes.append(subtree_hash(lo, hi))
    return nodes[::-1]


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    for position, value in enumerate(hashes):
        if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
            raise InvalidProofError(f"{what}: element {position} is not a {HASH_SIZE}-byte hash")


def _shift_until_odd_or_zero(fn: int, sn: int) -> tuple[int, int]:
    while fn and not fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return fn, sn


def verify_inclusion(
    leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``."""
    where = f"inclusion proof for leaf {index} in tree size {tree_size}"
    _check_hashes(where, [leaf_hash, root, *proof])
    if not 0 <= index < tree_size:
        raise InvalidProofError(f"{where}: the leaf index is outside the tree")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise InvalidProofError(f"{where}: the proof has more hashes than the tree height")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError(f"{where}: the proof has fewer hashes than the tree height")
    if not hmac.compare_digest(r, root):
        raise InvalidProofError(f"{where}: the proof leads to a different root hash")


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``second`` leaves extends the tree of ``first`` leaves."""
    where = f"consistency proof from tree size {first} to {second}"
    _check_hashes(where, [first_root, second_root, *proof])
    if not 0 <= first <= second:
        raise InvalidProofError(f"{where}: the first size must be between 0 and the second")
    if first == second:
        if proof:
            raise InvalidProofError(f"{where}: equal sizes need an empty proof")
        if not hmac.compare_digest(first_root, second_root):
            raise InvalidProofError(f"{where}: two different roots for the same tree size (a fork)")
        return
    if first == 0:
        if proof:
            raise InvalidProofError(f"{where}: from the empty tree the proof must be empty")
        return
    if not proof:
        raise InvalidProofError(f"{where}: the proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise InvalidProofError(f"{where}: the proof has more hashes than needed")
        if fn & 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            if not fn & 1:
                fn, sn = _shift_until_odd_or_zero(fn, sn)
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise InvalidProofError(f"{where}: the proof has fewer hashes than needed")
    if not hmac.compare_digest(fr, first_root):
        raise InvalidProofError(f"{where}: the proof does not lead to the first root hash")
    if not hmac.compare_digest(sr, second_root):
        raise InvalidProofError(f"{where}: the proof does not lead to the second root hash")
