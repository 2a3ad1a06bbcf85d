"""Candidate pairs between two sets of CLKs: every pair scoring at least a floor.

Small problems are compared exhaustively with the Dice kernel (exact: no pair is missed);
above :func:`brute_force_limit` comparisons, Hamming-LSH blocking proposes the pairs and only
those are scored. The floor sits below any sensible threshold so that the score
distribution around the threshold can be observed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching import blocking, kernel

BRUTE_FORCE_LIMIT = 40_000_000_000
"""Comparisons per pair of sets compared exhaustively before LSH blocking takes over, for
the kernels without AVX-512 (about 10 s of ``popcnt`` on two cores)."""
BRUTE_FORCE_LIMIT_AVX512 = 400_000_000_000
"""The same with the AVX-512 kernel, about 3.7·10⁹ comparisons a second on two cores: some
100 s per pair, so that all of Flanders is still compared exhaustively (LSH misses the
borderline true pairs, docs/matching.md)."""
MAX_CANDIDATES = 50_000_000
"""Candidate pairs kept in memory (12 bytes each) before the floor is raised."""
FLOOR_STEP = 0.05
FLOOR_CEILING = 0.9


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
    ceiling: float = FLOOR_CEILING,
) -> Candidates:
    """Pairs of rows of ``a`` and ``b`` (uint64 words) scoring at least ``floor``.

    ``method``: ``"auto"`` (exhaustive up to :func:`brute_force_limit` comparisons, else LSH),
    ``"none"`` (always exhaustive) or ``"lsh"``. When more than ``MAX_CANDIDATES`` pairs
    qualify, the floor is raised in steps of ``FLOOR_STEP`` but never above ``ceiling``
    (a threshold the caller gave); past that, :class:`kernel.TooManyPairs`.
    """
    exhaustive = method == "none" or (method == "auto" and len(a) * len(b) <= brute_force_limit())
    while True:
        try:
            if exhaustive:
                ia, ib, scores = kernel.threshold_pairs(a, b, floor, max_pairs=MAX_CANDIDATES)
                return Candidates(ia, ib, scores, floor, "all pairs", len(a) * len(b))
            return _lsh(a, b, clk_bits, floor, lsh)
        except kernel.TooManyPairs:
            if floor >= ceiling:
                raise kernel.TooManyPairs(
                    f"more than {MAX_CANDIDATES:,} record pairs score {floor} or more: the "
                    "records are too alike to link at this threshold; give a higher --threshold"
                ) from None
            floor = min(round(floor + FLOOR_STEP, 3), ceiling)


def _lsh(a, b, clk_bits, floor, params) -> Candidates:
    """Blocked search; the smaller set is the indexed (sorted) side."""
    if len(a) < len(b):
        found = _lsh(b, a, clk_bits, floor, params)
        return Candidates(found.ib, found.ia, found.scores, found.floor, found.method, found.scored)
    found_a, found_b, found_s = [], [], []
    scored = kept = 0
    for ia, ib in blocking.candidate_pairs(a, b, clk_bits, params):
        scores = kernel.pair_scores(a, b, ia, ib)
        scored += len(ia)
        keep = scores >= floor
        found_a.append(ia[keep])
        found_b.append(ib[keep])
        found_s.append(scores[keep])
        kept += int(keep.sum())
        if kept > MAX_CANDIDATES * 2:
            raise kernel.TooManyPairs(f"more than {MAX_CANDIDATES:,} candidate pairs")
    if not found_a:
        return Candidates(*kernel.empty_pairs(), floor, "lsh", 0)
    ia, ib, scores = np.concatenate(found_a), np.concatenate(found_b), np.concatenate(found_s)
    # A pair found in several bands is kept once.
    key = ia.astype(np.int64) * len(b) + ib
    _, first = np.unique(key, return_index=True)
    if len(first) > MAX_CANDIDATES:
        raise kernel.TooManyPairs(f"more than {MAX_CANDIDATES:,} candidate pairs")
    return Candidates(ia[first], ib[first], scores[first], floor, "lsh", scored)
