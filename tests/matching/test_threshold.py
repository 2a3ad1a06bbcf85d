"""Automatic threshold: the first valley of the candidate-score histogram, else the default."""

from __future__ import annotations

import numpy as np

from linkage.matching.threshold import DEFAULT_THRESHOLD, choose_threshold, mutual_best


def _unrelated(rng, n, floor=0.5):
    """Scores of unrelated pairs above a floor: a steeply falling (exponential) tail."""
    return floor + rng.exponential(0.03, n)


def test_threshold_is_in_the_gap_between_unrelated_and_true_pairs():
    rng = np.random.default_rng(1)
    unrelated = _unrelated(rng, 200_000)
    true = np.clip(rng.normal(0.92, 0.03, 2000), 0, 1)
    choice = choose_threshold(np.r_[unrelated, true], floor=0.5)
    assert choice.rationale["method"] == "valley"
    assert np.sum(unrelated >= choice.value) <= 5          # hardly any unrelated pair passes
    assert np.mean(true >= choice.value) >= 0.99


def test_with_overlap_it_sits_where_true_pairs_start_to_outnumber_unrelated_ones():
    rng = np.random.default_rng(2)
    unrelated = _unrelated(rng, 1_000_000)                  # tail reaches well into 0.8
    true = np.clip(rng.normal(0.85, 0.05, 5000), 0, 1)
    choice = choose_threshold(np.r_[unrelated, true], floor=0.5)
    bins = np.arange(0.5, 1.0, 0.01)
    u, _ = np.histogram(unrelated, bins)
    t, _ = np.histogram(true, bins)
    crossing = bins[np.argmax(t > u)]
    assert abs(choice.value - crossing) <= 0.03


def test_a_spike_of_identical_clks_does_not_pull_the_threshold_up():
    rng = np.random.default_rng(3)
    scores = np.r_[_unrelated(rng, 300_000), np.clip(rng.normal(0.86, 0.03, 1500), 0, 1), np.ones(5000)]
    choice = choose_threshold(scores, floor=0.5)
    assert 0.7 < choice.value < 0.8


def test_the_valley_follows_the_data():
    rng = np.random.default_rng(4)
    low = choose_threshold(np.r_[_unrelated(rng, 100_000), rng.normal(0.75, 0.02, 3000)], 0.5)
    high = choose_threshold(np.r_[_unrelated(rng, 100_000, 0.6), rng.normal(0.95, 0.01, 3000)], 0.6)
    assert low.value < high.value
    assert 0.64 < low.value < 0.72 and 0.8 < high.value < 0.92


def test_default_without_true_pairs_or_with_too_few_pairs():
    rng = np.random.default_rng(5)
    only_unrelated = choose_threshold(_unrelated(rng, 50_000), floor=0.5)
    assert only_unrelated.value == DEFAULT_THRESHOLD and only_unrelated.rationale["method"] == "default"
    few = choose_threshold(np.array([0.55, 0.95, 0.97]), floor=0.5)
    assert few.value == DEFAULT_THRESHOLD and "only 3 mutual-best candidate pairs" in few.rationale["reason"]


def test_mutual_best_keeps_pairs_that_both_records_prefer():
    set_of = np.array([0, 0, 1, 1, 2])
    ga = np.array([0, 0, 1, 0, 1])
    gb = np.array([2, 3, 3, 4, 4])
    scores = np.array([0.9, 0.7, 0.8, 0.6, 0.65])
    # 0-3 loses to 0-2 on record 0's side; 0-4 loses to 1-4 on record 4's side
    assert mutual_best(ga, gb, scores, set_of).tolist() == [True, False, True, False, True]
    assert mutual_best(ga[:0], gb[:0], scores[:0], set_of).tolist() == []


def test_the_walk_starts_at_the_unrelated_mode_not_at_the_floor():
    rng = np.random.default_rng(6)
    unrelated = np.clip(rng.normal(0.62, 0.03, 20_000), 0.5, 1)      # a mode above the floor
    true = np.clip(rng.normal(0.92, 0.03, 2000), 0, 1)
    choice = choose_threshold(np.r_[unrelated, true], floor=0.5)
    assert choice.rationale["method"] == "valley"
    assert np.sum(unrelated >= choice.value) <= 5 and np.mean(true >= choice.value) >= 0.99


def test_look_alikes_that_lose_to_a_better_partner_do_not_push_the_threshold_up():
    rng = np.random.default_rng(7)
    n, m = 3000, 40_000
    # record i (set 0) ~ record n + i (set 1), mostly clean, 5 % with corrupted identifiers
    true = np.where(rng.random(n) < 0.95, rng.uniform(0.88, 0.99, n), rng.uniform(0.78, 0.88, n))
    # i ~ n + (i + 1) % n: a namesake with a long tail of scores, always below both true partners
    loser = np.minimum(0.68 + rng.exponential(0.05, n), np.minimum(true, np.roll(true, -1)) - 0.005)
    unrelated = 0.6 + rng.exponential(0.02, m)              # best partners of partner-less records
    ga = np.r_[np.arange(n), np.arange(n), 2 * n + np.arange(m)]
    gb = np.r_[n + np.arange(n), n + (np.arange(n) + 1) % n, 2 * n + m + np.arange(m)]
    scores = np.r_[true, loser, unrelated]
    set_of = np.r_[np.zeros(n), np.ones(n), np.zeros(m), np.ones(m)].astype(np.int64)
    best = mutual_best(ga, gb, scores, set_of)
    assert best[:n].all() and not best[n:2 * n].any() and best[2 * n:].all()
    everything = choose_threshold(scores, 0.6).value
    mutual = choose_threshold(scores[best], 0.6).value
    assert np.mean(true >= everything) < 0.98               # the look-alikes' tail hides the valley
    assert np.mean(true >= mutual) >= 0.99 and np.sum(unrelated >= mutual) <= 20
