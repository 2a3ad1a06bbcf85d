"""Automatic choice of the similarity threshold from the histogram of candidate scores.

Only *mutual-best* candidate pairs are counted (:func:`mutual_best`): pairs that are the
best candidate of both their records against the other record's set. A candidate that
loses to a better partner of one of its records can never become a link under the
one-record-per-set rule, so it says nothing about where the threshold should be; and those
losers are mostly look-alikes of linked people (a namesake of another age), which would
otherwise fill the histogram just below the true pairs and push the threshold up.

The mutual-best scores are counted in bins of 0.01 from the floor. Unrelated pairs (the
best, but still poor, partner of a record that has no true partner) form a mode near the
floor whose count falls steeply with the score; true pairs form a bump at high scores. On
a log scale the histogram therefore falls from the unrelated mode until true pairs start to
dominate, and then rises. The threshold is the bottom of that first valley: walking up from
the unrelated mode (the highest bin in the lower half of the range), we stop where the
smoothed log-count has risen clearly (by ``RISE``, a doubling) above its running minimum,
and take the middle of the first run of bins within ``FLAT`` of that minimum. Where
unrelated and true pairs are separated by empty bins, that is the middle of the gap; where
they overlap, it is where the unrelated tail has died down to the level of the true pairs
with corrupted identifiers, which form a low plateau below the main bump. (The middle of
the *last* such run was tried first: on a noisy plateau it jumped between 0.82 and 0.875
with the linkage secret alone, losing 2 % of the integration links.)

When the histogram never rises again (no true pairs beyond the tokens) or holds too few
pairs, the conventional default 0.8 is used, and the rationale says so.

Two other rules were rejected (docs/matching.md): the valley of the histogram of *all*
candidate scores (namesakes that lose to a better partner pushed it up to 0.85-0.89 with the
belgian-v1 schema of normalisation version 2, integration recall 0.98), and the valley of
the best score per record, which has no non-match mode when most records left after the
token join do have a partner (0.965 on the 100,000-person synthetic population).
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


def mutual_best(ga: np.ndarray, gb: np.ndarray, scores: np.ndarray, set_of: np.ndarray) -> np.ndarray:
    """Mask of the candidate pairs ``(ga, gb, scores)`` (global record ids) that are the
    best-scoring candidate of ``ga`` among the records of ``gb``'s set and of ``gb`` among
    the records of ``ga``'s set (one per record and set when scores tie)."""
    keep = np.ones(len(scores), dtype=bool)
    if len(scores) == 0:
        return keep
    sets = int(set_of.max()) + 1
    for mine, other in ((ga, gb), (gb, ga)):
        key = np.asarray(mine, dtype=np.int64) * sets + set_of[other]
        order = np.lexsort((-np.asarray(scores, dtype=np.float64), key))
        ordered = key[order]
        first = np.r_[True, ordered[1:] != ordered[:-1]]
        best = np.zeros(len(scores), dtype=bool)
        best[order[first]] = True
        keep &= best
    return keep


def choose_threshold(scores: np.ndarray, floor: float) -> ThresholdChoice:
    """Pick the threshold at the first valley of the histogram of ``scores`` (the
    mutual-best candidate scores, see the module docstring); ``floor`` is the lowest kept."""
    scores = np.asarray(scores)
    start, counts = histogram(scores[scores >= floor], floor)
    summary = {"mutual_best_pairs": int(counts.sum())}

    def fallback(reason: str) -> ThresholdChoice:
        sentence = f"{reason}; using the default threshold {DEFAULT_THRESHOLD}"
        return ThresholdChoice(DEFAULT_THRESHOLD, {"method": "default", "reason": sentence, **summary})

    if counts.sum() < MIN_PAIRS:
        return fallback(f"only {int(counts.sum())} mutual-best candidate pairs")
    curve = np.log1p(np.convolve(counts, _SMOOTHING, mode="same"))
    mode = int(np.argmax(curve[: max(1, len(curve) // 2)]))
    running_min = np.minimum.accumulate(curve[mode:])
    risen = np.flatnonzero(curve[mode:] > running_min + RISE)
    if len(risen) == 0:
        return fallback("candidate scores only fall from the unrelated mode up (no group of true pairs)")
    end = mode + int(risen[0])
    lowest = running_min[end - mode]
    first, last = _first_run(mode + np.flatnonzero(curve[mode:end] <= lowest + FLAT))
    lower_edge, upper_edge = start + first * BIN_WIDTH, start + (last + 1) * BIN_WIDTH
    value = round((lower_edge + upper_edge) / 2, 3)
    sentence = (f"first valley of the histogram of mutual-best candidate scores, between "
                f"{lower_edge:.2f} and {upper_edge:.2f}, where true pairs begin to outnumber unrelated ones")
    return ThresholdChoice(value, {"method": "valley", "reason": sentence,
                                   "valley": [round(lower_edge, 3), round(upper_edge, 3)], **summary})


def _first_run(indices: np.ndarray) -> tuple[int, int]:
    """First and last index of the first run of consecutive integers."""
    breaks = np.flatnonzero(np.diff(indices) != 1)
    last = int(indices[breaks[0]]) if len(breaks) else int(indices[-1])
    return int(indices[0]), last
