"""Automatic choice of the similarity threshold from the histogram of candidate scores.

All candidate pairs of all set pairs (every pair scoring at least the floor) are counted in
bins of 0.01. Unrelated pairs vastly outnumber true pairs near the floor and their count
falls steeply (roughly exponentially) with the score; true pairs form a bump at high
scores. On a log scale the histogram therefore falls from the floor until true pairs start
to dominate, and then rises. The threshold is the bottom of that first valley: walking up
from the floor, we stop where the smoothed log-count has risen clearly (by ``RISE``, a
doubling) above its running minimum, and take the middle of the lowest run of bins before
that point. Where unrelated and true pairs are separated by empty bins, that is the middle
of the gap; where they overlap, it is where true pairs begin to outnumber unrelated ones.
The greedy one-per-source solver then resolves the look-alikes above the threshold in
favour of the better-scoring true partner.

When the histogram never rises again (no true pairs beyond the tokens) or holds too few
pairs, the conventional default 0.8 is used, and the rationale says so.

The histogram of *best* scores per record was tried first: it has no non-match mode when
most records left after the token join do have a partner (integration against ksz), and
heavily corrupted true pairs then make it choose far too high a threshold (0.965 on the
100,000-person synthetic population, recall 0.85). See docs/matching.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_THRESHOLD = 0.8
BIN_WIDTH = 0.01
MIN_PAIRS = 30
RISE = float(np.log(2.0))
"""How far (natural log) the curve must climb above its minimum to end the valley."""
FLAT = 0.1
"""Bins within this (natural log) of the minimum belong to the valley floor."""
_SMOOTHING = np.array([1, 2, 3, 2, 1], dtype=float) / 9


@dataclass(frozen=True)
class ThresholdChoice:
    value: float
    rationale: dict
    """JSON-safe: method, a sentence, the valley (the histogram is in the run's quality)."""


def histogram(scores: np.ndarray, floor: float) -> tuple[float, np.ndarray]:
    """Counts in bins of ``BIN_WIDTH`` from the bin holding ``floor`` up to 1; lower scores
    are counted in the first bin."""
    first = int(np.floor(floor / BIN_WIDTH + 1e-9))
    bins = int(round(1 / BIN_WIDTH)) - first
    index = np.floor(np.asarray(scores, dtype=float) / BIN_WIDTH + 1e-9).astype(int) - first
    counts = np.bincount(np.clip(index, 0, bins - 1), minlength=bins)
    return first * BIN_WIDTH, counts


def choose_threshold(scores: np.ndarray, floor: float) -> ThresholdChoice:
    """Pick the threshold at the first valley of the candidate-score histogram (see the
    module docstring); ``scores`` are all candidate scores, ``floor`` the lowest kept."""
    scores = np.asarray(scores)
    start, counts = histogram(scores[scores >= floor], floor)
    summary = {"candidate_pairs": int(counts.sum())}

    def fallback(reason: str) -> ThresholdChoice:
        sentence = f"{reason}; using the default threshold {DEFAULT_THRESHOLD}"
        return ThresholdChoice(DEFAULT_THRESHOLD, {"method": "default", "reason": sentence, **summary})

    if counts.sum() < MIN_PAIRS:
        return fallback(f"only {int(counts.sum())} candidate pairs")
    curve = np.log1p(np.convolve(counts, _SMOOTHING, mode="same"))
    running_min = np.minimum.accumulate(curve)
    risen = np.flatnonzero(curve > running_min + RISE)
    if len(risen) == 0:
        return fallback("candidate scores only fall from the floor up (no group of true pairs)")
    end = int(risen[0])
    lowest = running_min[end]
    first, last = _last_run(np.flatnonzero(curve[:end] <= lowest + FLAT))
    lower_edge, upper_edge = start + first * BIN_WIDTH, start + (last + 1) * BIN_WIDTH
    value = round((lower_edge + upper_edge) / 2, 3)
    sentence = (f"first valley of the candidate-score histogram, between {lower_edge:.2f} and "
                f"{upper_edge:.2f}, where true pairs begin to outnumber unrelated ones")
    return ThresholdChoice(value, {"method": "valley", "reason": sentence,
                                   "valley": [round(lower_edge, 3), round(upper_edge, 3)], **summary})


def _last_run(indices: np.ndarray) -> tuple[int, int]:
    """First and last index of the last run of consecutive integers."""
    breaks = np.flatnonzero(np.diff(indices) != 1)
    first = int(indices[breaks[-1] + 1]) if len(breaks) else int(indices[0])
    return first, int(indices[-1])
