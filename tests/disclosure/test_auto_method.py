"""The default method (what the broker uses) against the optimal MIP on a small 2-D table,
where the hypercube heuristic alone hides 1.36x the MIP's information loss."""

from __future__ import annotations

import itertools

import numpy as np

from linkage.disclosure import Dimension, protect


def _table(shape=(10, 8), seed=99):
    rng = np.random.default_rng(seed)
    dims = [Dimension(f"dim{d}", [f"d{d}c{i}" for i in range(n)]) for d, n in enumerate(shape)]
    keys = itertools.product(*(d.categories for d in dims))
    return dims, {k: int(v) for k, v in zip(keys, rng.poisson(6.0, int(np.prod(shape))))}


def _loss(table, dims, counts) -> int:
    """Persons + 1 per secondary cell, the MIP's objective (margins summed from the leaves)."""
    def value(key):
        options = [d.categories if k == "Total" else (k,) for k, d in zip(key, dims)]
        return sum(counts[leaf] for leaf in itertools.product(*options))
    return sum(value(c.key) + 1 for c in table.cells if c.status == "secondary")


def test_the_default_method_is_as_cheap_as_the_optimal_mip():
    dims, counts = _table()
    optimal = _loss(protect(dims, counts, k=5, method="optimal"), dims, counts)
    heuristic = _loss(protect(dims, counts, k=5, method="hypercube"), dims, counts)
    assert heuristic > optimal                      # the case the heuristic misses
    assert _loss(protect(dims, counts, k=5), dims, counts) == optimal
