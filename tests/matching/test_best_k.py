"""Each record's best pairs, kept while pairs stream in: exact whatever the order and batches."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.matching import best_k
from linkage.matching.best_k import BestK, strictly_better


def _reference(i, j, s, k):
    """Pairs with fewer than k strictly better pairs on either record, by brute force."""
    keep = set()
    for p in range(len(s)):
        left = np.sum((i == i[p]) & (s > s[p]))
        right = np.sum((j == j[p]) & (s > s[p]))
        if left < k or right < k:
            keep.add((int(i[p]), int(j[p])))
    return keep


@pytest.mark.parametrize("seed", range(6))
def test_kept_pairs_are_each_records_best_whatever_the_batches(monkeypatch, seed):
    rng = np.random.default_rng(seed)
    pairs = np.unique(rng.integers(0, 40, (900, 2)), axis=0)
    i, j = pairs[:, 0], pairs[:, 1]
    s = (rng.integers(50, 100, len(i)) / 100).astype(np.float32)      # many ties
    monkeypatch.setattr(best_k, "MIN_COMPACT", 50)                     # prune often
    order = rng.permutation(len(s))
    keep = BestK(3, 40, 40)
    for batch in np.array_split(order, 17):
        keep.add(i[batch], j[batch], s[batch])
    ki, kj, ks = keep.result()
    assert set(zip(ki.tolist(), kj.tolist())) == _reference(i, j, s, 3)
    assert keep.offered == len(s) and keep.histogram.sum() == len(s)
    assert len(ki) < len(s)


def test_repeated_pairs_are_kept_once(monkeypatch):
    rng = np.random.default_rng(9)
    pairs = np.unique(rng.integers(0, 30, (400, 2)), axis=0)
    i, j = pairs[:, 0], pairs[:, 1]
    s = rng.random(len(i)).astype(np.float32)
    monkeypatch.setattr(best_k, "MIN_COMPACT", 40)
    keep = BestK(2, 30, 30, repeats=True)
    for _ in range(3):                                  # every pair offered by three bands
        for batch in np.array_split(rng.permutation(len(s)), 5):
            keep.add(i[batch], j[batch], s[batch])
    ki, kj, _ = keep.result()
    got = list(zip(ki.tolist(), kj.tolist()))
    assert len(got) == len(set(got)) and set(got) == _reference(i, j, s, 2)


def test_strictly_better_counts_ties_as_equal():
    record = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.9, 0.8, 0.9, 0.7, 0.5, 0.6], dtype=np.float32)
    assert strictly_better(record, scores).tolist() == [0, 2, 0, 3, 1, 0]


def test_k_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        BestK(0, 1, 1)
