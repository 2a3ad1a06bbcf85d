"""Greedy best-first clustering under the rule "at most one record per set per group".

Candidate pairs are taken in descending score order (ties broken by record order, so the
result is deterministic). A pair merges the groups of its two records when

- the two groups hold records of disjoint sets (one record per set per group), and
- no record of one group is contradicted by a record of the other: every cross pair scores
  at least ``unrelated_bound`` (as similar as all but the most similar unrelated pairs).
  This stops chains (a ~ b and b ~ c although a and c are unrelated) from growing;
- the two groups do not hold different national-register numbers (``tokens``, rule 3);
- no cross pair has an implausible age at an event (``ages``): a toddler's KSZ record must
  not reach an integration record through a job-seeker record.

Groups found by exact tokens are the starting point; similarity only adds to them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from linkage.matching.records import Records


@dataclass
class Solution:
    cluster: np.ndarray
    """Per global record, the id of its final group (a global record id)."""
    stats: dict = field(default_factory=dict)


class _Groups:
    """Union-find over the starting groups, with each group's members and set bitmask."""

    def __init__(self, cluster: np.ndarray, set_of: np.ndarray, register: np.ndarray):
        self._register = register
        self.register: dict[int, int] = {}
        self._order = np.argsort(cluster, kind="stable")
        self._sorted = cluster[self._order]
        self._multiple = np.bincount(cluster, minlength=len(cluster)) > 1
        self._set_of = set_of
        self.parent: dict[int, int] = {}
        self.members: dict[int, list[int]] = {}
        self.mask: dict[int, int] = {}

    def find(self, c: int) -> int:
        parent = self.parent
        if c not in parent:
            parent[c] = c
            if self._multiple[c]:
                lo, hi = np.searchsorted(self._sorted, [c, c + 1])
                members = self._order[lo:hi].tolist()
                self.mask[c] = sum({1 << int(self._set_of[g]) for g in members})
            else:
                members = [c]           # a starting group of one record has the record's id
                self.mask[c] = 1 << int(self._set_of[c])
            self.members[c] = members
            self.register[c] = int(self._register[c])
            return c
        root = c
        while parent[root] != root:
            root = parent[root]
        while parent[c] != root:
            parent[c], c = root, parent[c]
        return root

    def union(self, a: int, b: int) -> None:
        if len(self.members[a]) < len(self.members[b]):
            a, b = b, a
        self.parent[b] = a
        self.members[a].extend(self.members.pop(b))
        self.mask[a] |= self.mask.pop(b)
        self.register[a] = max(self.register[a], self.register.pop(b))

    def conflict(self, a: int, b: int) -> bool:
        """Whether roots ``a`` and ``b`` hold different register numbers."""
        ra, rb = self.register[a], self.register[b]
        return ra >= 0 and rb >= 0 and ra != rb


def solve(
    cluster: np.ndarray,
    set_of: np.ndarray,
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    records: Records,
    unrelated_bound: float,
    register: np.ndarray | None = None,
    plausible: Callable[[int, int], bool] | None = None,
) -> Solution:
    """Merge the starting groups ``cluster`` along ``edges`` = (global a, global b, score).
    ``register``: per starting group, its register number or -1 (None: none known).
    ``plausible``: whether two records (global ids) may be one person by their ages (None:
    any); the edges themselves must already be plausible."""
    ga, gb, scores = edges
    order = np.lexsort((gb, ga, -scores.astype(np.float64)))
    if register is None:
        register = np.full(len(cluster), -1, dtype=np.int64)
    groups = _Groups(cluster, set_of, register)
    merged = same_set = inconsistent = conflicting = implausible = 0
    for cu, cv in zip(cluster[ga[order]].tolist(), cluster[gb[order]].tolist()):
        ru, rv = groups.find(cu), groups.find(cv)
        if ru == rv:
            continue
        if groups.mask[ru] & groups.mask[rv]:
            same_set += 1
            continue
        if groups.conflict(ru, rv):
            conflicting += 1
            continue
        mu, mv = groups.members[ru], groups.members[rv]
        if len(mu) + len(mv) > 2 and not _consistent(mu, mv, records, unrelated_bound):
            inconsistent += 1
            continue
        if plausible is not None and len(mu) + len(mv) > 2 and \
                not all(plausible(x, y) for x in mu for y in mv):
            implausible += 1
            continue
        groups.union(ru, rv)
        merged += 1
    final = cluster.copy()
    touched = np.fromiter(groups.parent.keys(), dtype=np.int64, count=len(groups.parent))
    if len(touched):
        roots = np.fromiter((groups.find(int(c)) for c in touched), dtype=np.int64, count=len(touched))
        remap = np.arange(len(cluster), dtype=np.int64)
        remap[touched] = roots
        final = remap[cluster]
    return Solution(
        final,
        {
            "candidate_pairs": int(len(ga)),
            "merges": merged,
            "rejected_same_set": same_set,
            "rejected_inconsistent": inconsistent,
            "rejected_register_conflict": conflicting,
            "rejected_implausible_age": implausible,
        },
    )


def _consistent(mu: list[int], mv: list[int], records: Records, bound: float) -> bool:
    a = np.repeat(np.asarray(mu, dtype=np.int64), len(mv))
    b = np.tile(np.asarray(mv, dtype=np.int64), len(mu))
    return bool(np.all(records.scores(a, b) >= bound))
