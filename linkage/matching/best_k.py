"""The best ``k`` candidate pairs of every record, kept while scored pairs stream in.

A pair of records (``i`` of one set, ``j`` of the other) is kept when fewer than ``k`` pairs of
``i`` score strictly higher, or fewer than ``k`` pairs of ``j`` do: each record keeps its ``k``
best partners, and pairs tied with the ``k``-th as well, so that the result does not depend on
the order in which pairs arrive (the Dice kernel's threads find them in any order).

Pruning is exact at any moment. A pair dropped now has ``k`` strictly better pairs of each of
its records among those seen; every record's ``k`` best among those seen stay (they are never
dropped), so the dropped pair stays out of both records' ``k`` best whatever comes later. And a
pair kept to the end is kept against every pair scored, not only against the ones still held:
each record's ``k`` best overall are among those held. Memory is therefore bounded by about
``k`` pairs per record of either set plus one batch, however similar the records are, and
nothing is computed twice.

Every pair offered is counted in :attr:`BestK.histogram` (per score bin of the match model)
before pruning, so that the match model sees the score distribution of all pairs above the
floor, not of the kept ones only.
"""

from __future__ import annotations

import numpy as np

from linkage.matching.match_model import BINS, bin_of

MIN_COMPACT = 4_000_000
"""Pairs held before the first pruning; later prunings wait until the holding has doubled."""


class BestK:
    """Collects scored pairs ``(i, j, score)`` and keeps each record's ``k`` best."""

    def __init__(self, k: int, n_left: int, n_right: int, *, repeats: bool = False):
        """``repeats``: the same pair may be offered more than once (LSH bands); it is then
        kept once (its histogram count may include a repeat offered after it was dropped)."""
        if k < 1:
            raise ValueError("k must be at least 1")
        self.k, self.n_left, self.n_right, self.repeats = k, n_left, n_right, repeats
        self.histogram = np.zeros(BINS, dtype=np.int64)
        self.offered = 0
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0
        self._next_prune = MIN_COMPACT

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        """Offer pairs (local record ids of each set and their scores)."""
        if not len(scores):
            return
        self.histogram += np.bincount(bin_of(scores), minlength=BINS)
        self.offered += len(scores)
        self._parts.append((np.asarray(i, dtype=np.int32), np.asarray(j, dtype=np.int32),
                            np.asarray(scores, dtype=np.float32)))
        self._held += len(scores)
        if self._held >= self._next_prune:
            self._prune()
            self._next_prune = max(MIN_COMPACT, 2 * self._held)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The kept pairs: int32 ``i``, ``j`` and float32 scores."""
        self._prune()
        if not self._parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
        return self._parts[0]

    def _prune(self) -> None:
        if not self._parts:
            return
        i, j, s = (np.concatenate(column) for column in zip(*self._parts))
        if self.repeats:
            _, first = np.unique(i.astype(np.int64) * max(self.n_right, 1) + j, return_index=True)
            i, j, s = i[first], j[first], s[first]
        keep = (strictly_better(i, s) < self.k) | (strictly_better(j, s) < self.k)
        self._parts = [(i[keep], j[keep], s[keep])]
        self._held = int(keep.sum())


def strictly_better(record: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Per pair, how many pairs of the same ``record`` score strictly higher."""
    n = len(scores)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    # one sort on (record, descending score): non-negative float32 bits order as the floats do
    bits = np.asarray(scores, dtype=np.float32).view(np.uint32).astype(np.int64)
    key = (np.asarray(record, dtype=np.int64) << 32) | (0xFFFFFFFF - bits)
    order = np.argsort(key)
    ordered = key[order]
    index = np.arange(n)
    run = np.r_[True, ordered[1:] != ordered[:-1]]
    group = np.r_[True, (ordered[1:] >> 32) != (ordered[:-1] >> 32)]
    better = np.empty(n, dtype=np.int64)
    better[order] = np.maximum.accumulate(np.where(run, index, 0)) - np.maximum.accumulate(np.where(group, index, 0))
    return better
