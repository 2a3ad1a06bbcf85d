"""The calibrated match model: mixture of matches and non-matches, posteriors, mutual best."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.matching import match_model
from linkage.matching.match_model import ACCEPT, fit, histogram, mutual_best


def _scores(rng, matches: int, nonmatches: int, floor: float = 0.6):
    """Candidate scores above ``floor``: matches around 0.9 with a tail of corrupted records,
    non-matches falling steeply from the floor (their log count is close to quadratic)."""
    true = np.clip(np.where(rng.random(matches) < 0.9, rng.normal(0.92, 0.03, matches),
                            rng.uniform(0.65, 0.88, matches)), 0, 1)
    false = floor + np.abs(rng.normal(0, 0.06, nonmatches))
    return true, false[false < 1]


def test_token_confirmed_pairs_teach_the_match_scores_and_em_counts_the_matches():
    rng = np.random.default_rng(1)
    true, false = _scores(rng, 2000, 300_000)
    confirmed = _scores(rng, 5000, 0)[0]                      # the same distribution, with tokens
    model = fit(histogram(np.r_[true, false]), 0.6, 200_000, 2500, confirmed)
    assert model.method == "token pairs" and model.converged
    assert model.expected_matches == pytest.approx(2000, rel=0.05)
    post = model.posterior(np.r_[true, false], np.zeros(len(true) + len(false), dtype=bool))
    assert _f1(post[:len(true)] >= ACCEPT, post[len(true):] >= ACCEPT) >= _best_f1(true, false) - 0.005


def _f1(true_linked: np.ndarray, false_linked: np.ndarray) -> float:
    found, wrong = int(true_linked.sum()), int(false_linked.sum())
    return 2 * found / (len(true_linked) + found + wrong)


def _best_f1(true: np.ndarray, false: np.ndarray) -> float:
    """The F1 of the best threshold, chosen knowing the truth."""
    return max(_f1(true >= t, false >= t) for t in np.arange(0.6, 1.0, 0.0025))


def test_without_tokens_em_finds_the_match_distribution():
    rng = np.random.default_rng(2)
    true, false = _scores(rng, 3000, 200_000)
    model = fit(histogram(np.r_[true, false]), 0.6, 20_000, 20_000)
    assert model.method == "em"
    assert model.expected_matches == pytest.approx(3000, rel=0.1)
    threshold = model.threshold(False)
    assert _f1(true >= threshold, false >= threshold) >= _best_f1(true, false) - 0.005


def test_without_tokens_em_learns_identical_encodings_apart_from_the_others():
    # under BLIP noise the same identifiers give the same CLK (score 1) and any difference
    # re-draws the flips: matches score 1 or around 0.66, nothing in between
    rng = np.random.default_rng(4)
    identical = np.ones(2100)
    noisy = np.clip(rng.normal(0.66, 0.03, 380), 0.5, 0.99)
    false = 0.5 + np.abs(rng.normal(0, 0.03, 30_000))
    false = false[false < 1]
    true = np.r_[identical, noisy]
    model = fit(histogram(np.r_[true, false]), 0.5, 20_000, 2_500)
    assert model.method == "em"
    assert model.expected_matches == pytest.approx(len(true), rel=0.05)
    threshold = model.threshold(False)
    assert threshold < 0.65                      # one beta for both put it at 0.995
    assert _f1(true >= threshold, false >= threshold) >= _best_f1(true, false) - 0.01


def test_a_mutual_best_pair_needs_less_when_nearly_every_record_has_a_partner():
    """FEBRL's case: 5,000 records on each side, each with one partner. A mutual-best pair is a
    match unless both partners scored lower, which the match scores make unlikely."""
    rng = np.random.default_rng(3)
    true, false = _scores(rng, 5000, 100_000)
    everyone = fit(histogram(np.r_[true, false]), 0.6, 5000, 5000)
    few = fit(histogram(np.r_[true[:300], false]), 0.6, 100_000, 5000)
    assert everyone.threshold(True) < everyone.threshold(False)
    assert everyone.threshold(True) < few.threshold(True)


def test_log_odds_never_fall_as_the_score_rises():
    rng = np.random.default_rng(4)
    true, false = _scores(rng, 500, 50_000)
    model = fit(histogram(np.r_[true, false]), 0.6, 10_000, 10_000)
    for mutual in (False, True):
        odds = model.log_odds(mutual)
        finite = odds[np.isfinite(odds)]
        assert len(finite) > 50 and np.all(np.diff(finite) >= 0)
        assert np.all(np.isneginf(odds[: match_model.bin_of(np.array([0.6]))[0]]))


def test_mutual_best_keeps_the_pairs_that_are_best_for_both_records():
    rng = np.random.default_rng(7)
    n, m = 3000, 4000
    # record i (set 0) ~ record n + i (set 1); i ~ n + (i + 1) % n: a namesake, always lower
    true = rng.uniform(0.8, 0.99, n)
    loser = np.minimum(true, np.roll(true, -1)) - 0.005
    unrelated = 0.6 + rng.exponential(0.02, m)              # best partners of partner-less records
    ga = np.r_[np.arange(n), np.arange(n), 2 * n + np.arange(m)]
    gb = np.r_[n + np.arange(n), n + (np.arange(n) + 1) % n, 2 * n + m + np.arange(m)]
    set_of = np.r_[np.zeros(n), np.ones(n), np.zeros(m), np.ones(m)].astype(np.int64)
    best = mutual_best(ga, gb, np.r_[true, loser, unrelated], set_of)
    assert best[:n].all() and not best[n:2 * n].any() and best[2 * n:].all()


def test_mutual_best_settles_ties_the_same_way_whatever_the_order_of_the_pairs():
    # record 0 (set 0) ties with records 2 and 3 (set 1); the threaded kernel finds pairs in
    # any order, and the run must not depend on it
    ga, gb = np.array([0, 0, 1]), np.array([2, 3, 3])
    scores = np.array([0.9, 0.9, 0.7], dtype=np.float32)
    set_of = np.array([0, 0, 1, 1])
    chosen = {tuple(zip(ga[order][mutual_best(ga[order], gb[order], scores[order], set_of)].tolist(),
                        gb[order][mutual_best(ga[order], gb[order], scores[order], set_of)].tolist()))
              for order in ([0, 1, 2], [1, 0, 2], [2, 1, 0])}
    assert chosen == {((0, 2),)}


def _heavy_tail(floor_bin: int) -> np.ndarray:
    """Non-matches only, millions of them, falling from the floor with a heavier tail than one
    curve holds (the shape of two large sources that share nobody)."""
    k = np.arange(match_model.BINS - floor_bin, dtype=np.float64)
    counts = np.zeros(match_model.BINS)
    counts[floor_bin:] = np.floor(1.1e6 * 0.82 ** k + 2.0e4 * 0.93 ** k)
    return counts


def test_without_tokens_a_heavy_non_match_tail_is_not_taken_for_matches():
    first = int(match_model.bin_of(np.array([0.5]))[0])
    model = fit(_heavy_tail(first), 0.5, 100_000, 1_200_000)
    assert model.method == match_model.NO_MATCHES and model.expected_matches == 0
    assert model.threshold(True) is None and model.threshold(False) is None
    # a tail of 200,000 non-matches (some 10 per open record, where the floor puts it) with
    # 3,000 true matches around 0.9: those are found and counted
    rng = np.random.default_rng(3)
    with_matches = np.floor(_heavy_tail(first) * 0.03) + histogram(np.clip(rng.normal(0.9, 0.03, 3000), 0, 0.999))
    model = fit(with_matches, 0.5, 20_000, 1_200_000)
    assert model.method == "em" and model.expected_matches == pytest.approx(3000, rel=0.1)
    assert model.threshold(True) is not None and model.threshold(True) < 0.85


def test_float32_scores_on_a_bin_edge_fall_into_that_bin():
    """The kernel's float32 scores lie just below an exact edge (0.57 -> 0.5699999928);
    binned below it, a candidate at the floor fell outside the model's bins."""
    edges = match_model.lower_edges()
    assert np.array_equal(match_model.bin_of(edges.astype(np.float32)), np.arange(match_model.BINS))
    exact = np.array([2 * c / t for t in (1500, 2047) for c in range(t // 4, t // 2, 7)])
    assert np.array_equal(match_model.bin_of(exact.astype(np.float32)), match_model.bin_of(exact))


def test_without_tokens_the_pairs_that_are_not_mutual_best_hold_the_non_match_tail_up():
    """CLK only, a hardened schema: identical encodings score 1 and the others form a bump
    that hardly rises above a heavy tail of namesakes. Fitted to the candidates alone, EM gave
    that tail to the matches and then found none (200,000 persons: nothing linked between
    KSZ and VDAB). With the pairs that are not mutual best as the least the non-match curve
    may expect, it counts the matches, bump included."""
    first = int(match_model.bin_of(np.array([0.5]))[0])
    tail = np.floor(_heavy_tail(first) * 0.3)
    rng = np.random.default_rng(5)
    matches = np.r_[np.ones(5000), np.clip(rng.normal(0.74, 0.04, 3000), 0.5, 0.99)]
    counts = tail + histogram(matches)
    assert fit(counts, 0.5, 40_000, 400_000).method == match_model.NO_MATCHES
    model = fit(counts, 0.5, 40_000, 400_000, presumed=tail)
    assert model.method == "em" and model.expected_matches == pytest.approx(len(matches), rel=0.05)
    assert model.summary()["nonmatch_from"] == "pairs not mutual best"
    assert match_model.match_quantile(model.match, 0.05) < 0.72     # the bump is matches too


def test_a_few_matches_high_above_a_high_floor_are_found():
    """FEBRL 4, 2,500 records of A against 500 of B of whom 25 are copies, plain schema: the
    pairs per bin above the floor (0.745) and the mutual-best ones among them. The truncated
    beta of the matches slid to ``a, b -> 0``, all its mass below the floor, and EM found no
    matches."""
    pairs = {0.745: 8586, 0.75: 9786, 0.755: 5665, 0.76: 3025, 0.765: 1548, 0.77: 778, 0.775: 394, 0.78: 213,
             0.785: 99, 0.79: 59, 0.795: 25, 0.8: 12, 0.805: 7, 0.81: 4, 0.815: 2, 0.82: 1, 0.84: 2, 0.885: 2,
             0.91: 1, 0.915: 1, 0.925: 1, 0.93: 1, 0.935: 1, 0.94: 2, 0.95: 2, 0.96: 1, 0.97: 1, 0.975: 1,
             0.985: 2, 0.99: 6, 0.995: 3}
    mutual = {0.78: 0.1, 0.785: 0.1, 0.795: 0.1, 0.805: 0.2, 0.84: 0.1, 0.885: 1.5, 0.91: 1, 0.915: 1, 0.925: 1,
              0.93: 1, 0.935: 1, 0.94: 1.9, 0.95: 2, 0.96: 1, 0.97: 1, 0.975: 1, 0.985: 2, 0.99: 6, 0.995: 3}
    counts, presumed = np.zeros(match_model.BINS), np.zeros(match_model.BINS)
    for score, n in pairs.items():
        b = int(round(score / match_model.BIN_WIDTH))
        counts[b], presumed[b] = n, n - mutual.get(score, 0.0)
    model = fit(counts, 0.745, 2500, 500, presumed=presumed)
    assert model.method == "em"
    assert model.expected_matches == pytest.approx(25, abs=3)
    assert model.threshold(True) is not None and model.threshold(True) < 0.885
