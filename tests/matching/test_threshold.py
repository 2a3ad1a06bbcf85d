"""Automatic threshold: the first valley of the candidate-score histogram, else the default."""

from __future__ import annotations

import numpy as np

from linkage.matching.threshold import DEFAULT_THRESHOLD, choose_threshold


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
    assert few.value == DEFAULT_THRESHOLD and "only 3 candidate pairs" in few.rationale["reason"]
