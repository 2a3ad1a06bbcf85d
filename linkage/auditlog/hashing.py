"""RFC 6962 / RFC 9162 Merkle tree hashing (SHA-256 with domain separation).

A leaf hash is SHA-256(0x00 || entry) and an interior node SHA-256(0x01 || left || right),
so a leaf can never be passed off as a node (second-preimage resistance). A tree of n > 1
leaves splits at k, the largest power of two smaller than n (RFC 9162 §2.1.1).
"""

from __future__ import annotations

import hashlib

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) of the empty tree


def hash_leaf(entry: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2)."""
    if n < 2:
        raise ValueError(f"a tree of {n} leaves has no split point")
    return 1 << ((n - 1).bit_length() - 1)


def perfect_subtrees(start: int, end: int) -> list[tuple[int, int]]:
    """Decompose ``[start, end)`` into aligned perfect subtrees, left to right.

    Returned as ``(level, index)``: the subtree covers leaves
    ``[index * 2**level, (index + 1) * 2**level)``. For the ranges that occur in RFC 9162
    proofs (``start`` aligned to a power of two at least ``end - start``) the sizes decrease
    from left to right, so folding the hashes from the right gives MTH(D[start:end]).
    """
    nodes = []
    while start < end:
        level = (start & -start).bit_length() - 1 if start else (end - start).bit_length() - 1
        while start + (1 << level) > end:
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold_right(hashes: list[bytes]) -> bytes:
    """Hash a left-to-right list of subtree hashes of decreasing size into one root."""
    if not hashes:
        return EMPTY_ROOT
    root = hashes[-1]
    for left in reversed(hashes[:-1]):
        root = hash_children(left, root)
    return root


class CompactRange:
    """The right edge of a growing tree: one hash per set bit of its size.

    Appending a leaf hash costs amortised one interior hash; ``root()`` folds at most
    log2(n) hashes. This is how both the log (for appends) and the offline verifier (to
    recompute roots while streaming entries) build the tree without holding it in memory.
    """

    def __init__(self, size: int = 0, hashes: list[bytes] | None = None) -> None:
        hashes = list(hashes or [])
        if len(hashes) != bin(size).count("1"):
            raise ValueError(f"a compact range of size {size} needs {bin(size).count('1')} hashes")
        self.size = size
        self.hashes = hashes

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf; return the perfect subtrees it completes as ``(level, index, hash)``."""
        completed = [(0, self.size, leaf_hash)]
        node, level, index = leaf_hash, 0, self.size
        while index & 1:
            node = hash_children(self.hashes.pop(), node)
            level, index = level + 1, index >> 1
            completed.append((level, index, node))
        self.hashes.append(node)
        self.size += 1
        return completed

    def root(self) -> bytes:
        return fold_right(self.hashes)
