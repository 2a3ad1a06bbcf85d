"""Candidate pairs between two sets of CLKs: each record's best pairs above a floor.

Small problems are compared exhaustively with the Dice kernel (exact: no pair is missed);
above :func:`brute_force_limit` comparisons, Hamming-LSH blocking proposes the pairs and only
those are scored. The floor sits below any sensible threshold so that the score distribution
around the threshold can be observed.

**Bounded.** Of the pairs scoring at least the floor, each record of the smaller set keeps
its ``BEST_PER_RECORD`` best and each record of the larger set its ``BEST_PER_RECORD_OF_LARGER``
best (:mod:`.best_k`: a pair stays when it is among the best of either of its records), pruned
as the pairs stream in, so that memory grows with the records, not with how alike they are: the
larger set is compared in slices of rows, each sized from the pairs the slices before it found.
All pairs above the floor are still counted in the score histogram the match model is fitted on. A pair outside the best ``k`` of both its records
could only be linked if all ``k`` better partners of each record went to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from linkage.matching import blocking, kernel
from linkage.matching.best_k import BestK, RowSlices

BRUTE_FORCE_LIMIT = 40_000_000_000
"""Comparisons per pair of sets compared exhaustively before LSH blocking takes over, for
the kernels without AVX-512 (about 10 s of ``popcnt`` on two cores)."""
BRUTE_FORCE_LIMIT_AVX512 = 400_000_000_000
"""The same with the AVX-512 kernel, about 3.7·10⁹ comparisons a second on two cores: some
100 s per pair, so that all of Flanders is still compared exhaustively (LSH misses the
borderline true pairs, docs/matching.md)."""
BEST_PER_RECORD = 10
"""``k``: candidate pairs kept per record of the set with fewer records (more when scores tie)."""
BEST_PER_RECORD_OF_LARGER = 2
"""The same for the records of the larger set: enough for its best (mutual-best pairs) and a
second choice. Every pair is also among the ``BEST_PER_RECORD`` of its record in the smaller
set or not kept; 10 per record of the population register would have kept some 55 million
pairs for all of Flanders against 60,000 open education records."""
SLICE_PAIRS = 8_000_000
"""Pairs above the floor one kernel call may return (12 bytes each); slices of rows are sized
to find about half of it."""
FIRST_SLICE_COMPARISONS = 200_000_000


@dataclass
class Candidates:
    ia: np.ndarray
    ib: np.ndarray
    scores: np.ndarray
    floor: float
    method: str
    """``"all pairs"`` or ``"lsh"``."""
    scored: int
    """Pairs whose score was computed."""
    histogram: np.ndarray
    """Pairs scoring at least the floor per score bin of the match model, kept or not."""
    above_floor: int
    """Pairs scoring at least the floor (more than are kept)."""
    vetoed: int = 0
    """Pairs above the floor the caller ruled out (neither kept nor counted)."""


Veto = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Given pairs ``(ia, ib)``, the mask of those that may not link."""


def brute_force_limit() -> int:
    """Comparisons ``auto`` makes exhaustively, for the kernel this process uses."""
    return BRUTE_FORCE_LIMIT_AVX512 if kernel.selected_kernel() == "avx512" else BRUTE_FORCE_LIMIT


def find(
    a: np.ndarray,
    b: np.ndarray,
    clk_bits: int,
    floor: float,
    method: str = "auto",
    lsh: blocking.LshParameters = blocking.LshParameters(),
    best: int = BEST_PER_RECORD,
    veto: Veto | None = None,
    best_of_larger: int = BEST_PER_RECORD_OF_LARGER,
) -> Candidates:
    """Each record's ``best`` pairs of rows of ``a`` and ``b`` (uint64 words) scoring at least
    ``floor``, leaving out the pairs ``veto`` rules out before they count.

    ``method``: ``"auto"`` (exhaustive up to :func:`brute_force_limit` comparisons, else LSH),
    ``"none"`` (always exhaustive) or ``"lsh"``.
    """
    exhaustive = method == "none" or (method == "auto" and len(a) * len(b) <= brute_force_limit())
    ks = (best, best_of_larger) if len(a) <= len(b) else (best_of_larger, best)
    collector = (RowSlices(*ks, len(a), len(b), complete=0 if len(a) >= len(b) else 1) if exhaustive
                 else BestK(*ks, len(a), len(b), repeats=True))
    keep = _Vetoed(collector, veto)
    if exhaustive:
        _all_pairs(a, b, floor, keep)
        scored, name = len(a) * len(b), "all pairs"
    else:
        scored, name = _lsh(a, b, clk_bits, floor, lsh, keep), "lsh"
    ia, ib, scores = collector.result()
    return Candidates(ia, ib, scores, floor, name, scored, collector.histogram, collector.offered,
                      keep.vetoed)


class _Vetoed:
    """Passes on to ``collector`` the pairs ``veto`` does not rule out, counting the others."""

    def __init__(self, collector: BestK | RowSlices, veto: Veto | None):
        self.collector, self.veto, self.vetoed = collector, veto, 0

    def add(self, i: np.ndarray, j: np.ndarray, scores: np.ndarray) -> None:
        if self.veto is not None and len(scores):
            out = self.veto(i, j)
            self.vetoed += int(out.sum())
            i, j, scores = i[~out], j[~out], scores[~out]
        self.collector.add(i, j, scores)


def _all_pairs(a: np.ndarray, b: np.ndarray, floor: float, keep: _Vetoed) -> None:
    """Every pair, the larger set in slices of rows against all of the smaller one."""
    slicing_a = len(a) >= len(b)
    rows, other = (len(a), len(b)) if slicing_a else (len(b), len(a))
    if rows == 0 or other == 0:
        return
    step = max(1, FIRST_SLICE_COMPARISONS // other)
    start = 0
    while start < rows:
        stop = min(start + step, rows)
        try:
            if slicing_a:
                i, j, s = kernel.threshold_pairs(a[start:stop], b, floor, max_pairs=SLICE_PAIRS)
                i = i + start
            else:
                i, j, s = kernel.threshold_pairs(a, b[start:stop], floor, max_pairs=SLICE_PAIRS)
                j = j + start
        except kernel.TooManyPairs:
            # only a slice far denser than those before it; it is compared again in quarters
            step = max(1, (stop - start) // 4)
            continue
        keep.add(i, j, s)
        per_row = max(len(s), 1) / (stop - start)
        step = max(1, int(SLICE_PAIRS / 2 / per_row))
        start = stop


def _lsh(a, b, clk_bits, floor, params, keep: _Vetoed) -> int:
    """Blocked search, the smaller set indexed and the larger one probing; returns the pairs
    scored."""
    flip = len(a) < len(b)
    large, small = (b, a) if flip else (a, b)
    scored = 0
    for il, is_ in blocking.candidate_pairs(large, small, clk_bits, params):
        scores = kernel.pair_scores(large, small, il, is_)
        scored += len(il)
        above = scores >= floor
        if flip:
            keep.add(is_[above], il[above], scores[above])
        else:
            keep.add(il[above], is_[above], scores[above])
    return scored
