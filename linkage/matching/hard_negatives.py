"""Non-matches certain by their national numbers: the non-match curve where tokens exist.

The match model must know how many candidate pairs of two sets are non-matches at each score,
above all in the tail where namesakes meet true pairs. Learnt from the candidates alone (a
curve falling from the floor, fitted by EM), the tail went to the matches: on a development
population with a provider's plain schema, ksz–integration, the curve expected 0.8 non-match
pairs at scores 0.84–0.86 where there were 118, and 0.1 at 0.86–0.88 where there were 64.

A record that the token join linked to the other set is a certain non-match of every open
record of that set (their groups lack this set; its partner is in its own group). So a sample
of the linked records of the side with fewer open records, compared with all open records of
the other side, counts non-match pairs per score bin: the hard negatives of issue 22, pairs
whose valid national numbers differ. Scaled to the pairs the candidate search compared, this
is the non-match curve, with no model of its shape (same population: ksz–integration 117
expected at 0.84–0.86 for 118 and 60 at 0.86–0.88 for 64; ksz–vdab 81 for 63 and 30 for 33).
The linked records stand for the open records of their own set: same source, same way of
recording names and dates; only whether a number was recorded differs.

Sparse bins are averaged over a window that grows until it holds ``MIN_PAIRS`` pairs; the
tail beyond the last ``MIN_PAIRS`` falls geometrically. The curve may rise: where the floor
lies above every chance similarity, the non-matches above it are look-alikes, a bump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching.match_model import BINS

MIN_LINKED = 200
"""Linked records a side needs before its sample stands for its open records."""
MIN_SAMPLE = 2_000
"""Linked records compared at least (all if fewer); more when the side has more open records,
so the sample's tail is as well counted as the candidates' own."""
MAX_SAMPLE = 20_000
"""Linked records compared at most: the count costs this many records against the other
side's open records (for all of Flanders about as much as the candidate search of a pair)."""
MIN_PAIRS = 20
"""Pairs a bin's window must hold; a bin with at least this many is taken as counted."""
MIN_EXPECTED = 1e-6
"""Non-match pairs expected per bin at least, where the sample saw none: no score is proof."""
SEED = 20261207


@dataclass(frozen=True)
class NonmatchSample:
    """The hard negatives of one pair of sets, scaled to its candidate search."""

    records: int
    """Linked records compared with the other side's open records."""
    pairs: int
    """Pairs of them scoring at least the floor."""
    expected: np.ndarray
    """Expected non-match pairs per score bin among the candidates (0 below the floor)."""

    def summary(self) -> dict:
        return {"linked_records_compared": self.records, "pairs_above_floor": self.pairs}


def sample(linked: np.ndarray, open_same_side: int, rng: np.random.Generator | None = None) -> np.ndarray | None:
    """The linked records (local ids) to compare, or None when there are too few."""
    if len(linked) < MIN_LINKED:
        return None
    size = min(len(linked), max(min(open_same_side, MAX_SAMPLE), MIN_SAMPLE))
    if size == len(linked):
        return linked
    rng = rng or np.random.default_rng(SEED)
    return np.sort(rng.choice(linked, size, replace=False))


def nonmatch_sample(histogram: np.ndarray, first: int, records: int, other_open: int,
                    compared: int) -> NonmatchSample:
    """From the per-bin ``histogram`` of ``records`` linked records against ``other_open``
    open records, the non-match pairs expected among ``compared`` candidate comparisons."""
    counts = np.asarray(histogram, dtype=np.float64)
    scale = compared / max(float(records) * float(other_open), 1.0)
    expected = np.zeros(BINS)
    expected[first:] = np.maximum(_smoothed(counts[first:]) * scale, MIN_EXPECTED)
    return NonmatchSample(int(records), int(counts[first:].sum()), expected)


def _smoothed(counts: np.ndarray) -> np.ndarray:
    """Per bin, the mean count of the narrowest window around it holding ``MIN_PAIRS``; above
    the last bin with ``MIN_PAIRS`` at or above it, a geometric tail holding what is left (so
    a few linked records' open duplicates near 1 are not taken for a plateau of look-alikes)."""
    n = len(counts)
    total = np.r_[0.0, np.cumsum(counts)]
    out = np.zeros(n)
    for i in range(n):
        width = 0
        while True:
            lo, hi = max(0, i - width), min(n, i + width + 1)
            if total[hi] - total[lo] >= MIN_PAIRS or (lo == 0 and hi == n):
                break
            width += 1
        out[i] = (total[hi] - total[lo]) / (hi - lo)
    above = total[-1] - total[:-1]              # pairs at or above each bin
    counted = np.flatnonzero(above >= MIN_PAIRS)
    if len(counted):
        last = int(counted[-1])
        ratio = max(1.0 - out[last] / above[last], 0.0)
        out[last + 1:] = out[last] * ratio ** np.arange(1, n - last)
    return out
