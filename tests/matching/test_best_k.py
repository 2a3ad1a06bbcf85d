"""Each record's best pairs, kept while pairs stream in: exact whatever the order and batches."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.matching import best_k
from linkage.matching.best_k import BestK, RowSlices, strictly_better, within_best


def _reference(i, j, s, k_left, k_right):
    """Pairs with fewer than k strictly better pairs on either record, by brute force."""
    keep = set()
    for p in range(len(s)):
        left = np.sum((i == i[p]) & (s > s[p]))
        right = np.sum((j == j[p]) & (s > s[p]))
        if left < k_left or right < k_right:
            keep.add((int(i[p]), int(j[p])))
    return keep


def _pairs(rng, n_left=40, n_right=40, draws=900):
    pairs = np.unique(np.c_[rng.integers(0, n_left, draws), rng.integers(0, n_right, draws)], axis=0)
    s = (rng.integers(50, 100, len(pairs)) / 100).astype(np.float32)      # many ties
    return pairs[:, 0], pairs[:, 1], s


@pytest.mark.parametrize("seed", range(6))
def test_kept_pairs_are_each_records_best_whatever_the_batches(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    i, j, s = _pairs(rng)
    monkeypatch.setattr(best_k, "MIN_COMPACT", 50)                     # prune often
    keep = BestK(3, 2)
    for batch in np.array_split(rng.permutation(len(s)), 17):
        keep.add(i[batch], j[batch], s[batch])
    ki, kj, ks = keep.result()
    assert set(zip(ki.tolist(), kj.tolist())) == _reference(i, j, s, 3, 2)
    assert keep.offered == len(s) and keep.histogram.sum() == len(s)
    assert len(ki) < len(s)


@pytest.mark.parametrize("seed, complete", [(s, c) for s in range(4) for c in (0, 1)])
def test_slices_of_complete_rows_keep_the_same_pairs(seed, complete):
    rng = np.random.default_rng(10 + seed)
    i, j, s = _pairs(rng, 60, 25, 1200)
    rows = i if complete == 0 else j
    keep = RowSlices(2, 4, 60, 25, complete=complete)
    for cut in np.array_split(np.arange(rows.max() + 1), 7):             # every pair of those rows
        slice_ = np.flatnonzero(np.isin(rows, cut))
        order = rng.permutation(slice_)                                  # in any order
        keep.add(i[order], j[order], s[order])
    ki, kj, _ = keep.result()
    got = list(zip(ki.tolist(), kj.tolist()))
    assert len(got) == len(set(got)) and set(got) == _reference(i, j, s, 2, 4)
    assert keep.histogram.sum() == len(s) and len(got) < len(s)


def test_strictly_better_counts_ties_as_equal():
    record = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.9, 0.8, 0.9, 0.7, 0.5, 0.6], dtype=np.float32)
    assert strictly_better(record, scores).tolist() == [0, 2, 0, 3, 1, 0]
    assert within_best(record, scores, 2).tolist() == [True, False, True, False, True, True]


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        BestK(0, 1)
    with pytest.raises(ValueError, match="at least 1"):
        RowSlices(1, 0, 1, 1, complete=0)
