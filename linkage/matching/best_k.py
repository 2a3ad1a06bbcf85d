"""The best candidate pairs of every record, kept while scored pairs stream in.

A pair of records (``i`` of the left set, ``j`` of the right one) is kept when fewer than
``k_left`` pairs of ``i`` score strictly higher, or fewer than ``k_right`` pairs of ``j`` do:
each record keeps its best partners, and pairs tied with the last of them as well, so that the
result does not depend on the order in which pairs arrive (the Dice kernel's threads find them
in any order). Equivalently: a pair is kept when its score reaches the ``k``-th best score
(counted with repeats) of either of its records.

Pruning is exact at any moment. A pair with ``k`` strictly better pairs of each of its records
among those seen has them among all pairs too, so it is never kept; and each record's best
pairs among those seen are never dropped, so a pair kept to the end is kept against every pair
scored. Memory is bounded by the kept pairs plus one batch, however alike the records are, and
nothing is computed twice.

Every pair offered is counted in ``histogram`` (per score bin of the match model) before
pruning, so that the match model sees the score distribution of all pairs above the floor.

Two collectors: :class:`RowSlices` for exhaustive comparison, where each batch holds every pair
of its records of one set (a slice of rows), so that those records' best are final at once and
the other set's are kept as a running table of its best scores (no sort of the pairs held);
and :class:`BestK` for pairs in any order (LSH bands), pruned by sorting the
pairs held whenever they have doubled.
"""

from __future__ import annotations

import numpy as np

from linkage.matching.match_model import BINS, histogram

MIN_COMPACT = 4_000_000
"""Pairs :class:`BestK` holds before its first pruning; later prunings wait until the holding
has doubled."""


class _Histogram:
    def __init__(self) -> None:
        self.histogram = np.zeros(BINS, dtype=np.int64)
        self.offered = 0

    def count(self, scores: np.ndarray) -> None:
        self.histogram += histogram(scores)
        self.offered += len(scores)


class RowSlices(_Histogram):
    """Pairs offered a slice at a time, each slice holding every pair of its records of one set
    (``complete``: 0 the left set, 1 the right one)."""

    def __init__(self, k_left: int, k_right: int, n_left: int, n_right: int, complete: int):
        super().__init__()
        _check(k_left, k_right)
        self.complete = complete
        self.k_rows, self.k_other = (k_left, k_right) if complete == 0 else (k_right, k_left)
        n_other = n_right if complete == 0 else n_left
        self._best = np.full((n_other, self.k_other), -np.inf, dtype=np.float32)
        """Per record of the other set, its best scores so far (descending, with repeats)."""
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        if not len(scores):
            return
        self.count(scores)
        rows, other = (i, j) if self.complete == 0 else (j, i)
        scores = np.asarray(scores, dtype=np.float32)
        final = within_best(rows, scores, self.k_rows)          # the slice's rows are complete
        self._raise_bars(other, scores)
        keep = final | (scores >= self._best[other, -1])
        self._parts.append((np.asarray(i, dtype=np.int32)[keep], np.asarray(j, dtype=np.int32)[keep],
                            scores[keep], final[keep]))

    def shift_rows(self, offset: int) -> None:
        """Renumber the complete set's records held by ``offset`` (a partition's first row)."""
        if self.complete == 0:
            self._parts = [(i + offset, j, s, final) for i, j, s, final in self._parts]
        else:
            self._parts = [(i, j + offset, s, final) for i, j, s, final in self._parts]

    def merge(self, other: "RowSlices") -> None:
        """Take in a partition of the same grid (other rows of the complete set, the same
        other set): its pairs, its histogram, and its best scores per record of the other set."""
        self.histogram += other.histogram
        self.offered += other.offered
        self._parts += other._parts
        pooled = np.concatenate([self._best, other._best], axis=1)
        self._best = -np.sort(-pooled, axis=1)[:, :self.k_other]

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if not self._parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
        i, j, s, final = (np.concatenate(column) for column in zip(*self._parts))
        other = j if self.complete == 0 else i
        keep = final | (s >= self._best[other, -1])
        return i[keep], j[keep], s[keep]

    def _raise_bars(self, other: np.ndarray, scores: np.ndarray) -> None:
        """Merge the slice's scores into each other-set record's best scores."""
        bar = self._best[other, -1]
        better = scores >= bar
        if not better.any():
            return
        records, s = other[better], scores[better]
        touched = np.unique(records)
        k = self.k_other
        pool_records = np.r_[np.repeat(touched, k), records]
        pool_scores = np.r_[self._best[touched].ravel(), s]
        order = np.lexsort((-pool_scores, pool_records))
        ordered = pool_records[order]
        start = np.searchsorted(ordered, touched)
        take = start[:, None] + np.arange(k)[None, :]      # each touched record has >= k entries
        self._best[touched] = pool_scores[order][take]


class BestK(_Histogram):
    """Pairs offered in any order, each once (LSH bands, :func:`.blocking.candidate_pairs`)."""

    def __init__(self, k_left: int, k_right: int):
        super().__init__()
        _check(k_left, k_right)
        self.k_left, self.k_right = k_left, k_right
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self._held = 0
        self._next_prune = MIN_COMPACT

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        if not len(scores):
            return
        self.count(scores)
        self._parts.append((np.asarray(i, dtype=np.int32), np.asarray(j, dtype=np.int32),
                            np.asarray(scores, dtype=np.float32)))
        self._held += len(scores)
        if self._held >= self._next_prune:
            self._prune()
            self._next_prune = max(MIN_COMPACT, 2 * self._held)

    def result(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        self._prune()
        if not self._parts:
            return np.zeros(0, np.int32), np.zeros(0, np.int32), np.zeros(0, np.float32)
        return self._parts[0]

    def _prune(self) -> None:
        if not self._parts:
            return
        i, j, s = (np.concatenate(column) for column in zip(*self._parts))
        keep = within_best(i, s, self.k_left) | within_best(j, s, self.k_right)
        self._parts = [(i[keep], j[keep], s[keep])]
        self._held = int(keep.sum())


def within_best(record: np.ndarray, scores: np.ndarray, k: int) -> np.ndarray:
    """Per pair, whether fewer than ``k`` pairs of the same ``record`` score strictly higher.
    Only the pairs of records with more than ``k`` pairs are sorted."""
    record = np.asarray(record, dtype=np.int64)
    keep = np.ones(len(scores), dtype=bool)
    if len(scores) == 0:
        return keep
    crowded = np.bincount(record)[record] > k
    if crowded.any():
        keep[crowded] = strictly_better(record[crowded], np.asarray(scores)[crowded]) < k
    return keep


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


def _check(k_left: int, k_right: int) -> None:
    if min(k_left, k_right) < 1:
        raise ValueError("k must be at least 1")
