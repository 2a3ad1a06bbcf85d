"""Hamming-LSH blocking: perturbed copies are found, unrelated pairs mostly are not."""

from __future__ import annotations

import numpy as np

from linkage.matching import kernel
from linkage.matching.blocking import LshParameters, candidate_pairs
from linkage.matching.candidates import find

from .helpers import perturb, random_clks


def _pairs(a, b, params=LshParameters()):
    found = set()
    for ia, ib in candidate_pairs(kernel.as_words(a), kernel.as_words(b), a.shape[1] * 8, params):
        found.update(zip(ia.tolist(), ib.tolist()))
    return found


def test_lsh_finds_perturbed_copies_and_prunes_unrelated_pairs():
    rng = np.random.default_rng(1)
    a = random_clks(rng, 3000)
    b = perturb(rng, a[:1500], 0.02)              # ~40 of 1024 bits differ: Dice ≈ 0.93
    found = _pairs(a, b)
    completeness = np.mean([(i, i) in found for i in range(1500)])
    reduction = 1 - len(found) / (len(a) * len(b))
    assert completeness >= 0.99
    assert reduction >= 0.99


def test_lsh_candidates_agree_on_every_bit_of_some_band():
    rng = np.random.default_rng(2)
    a = random_clks(rng, 200, 256)
    b = perturb(rng, a, 0.01)
    params = LshParameters(bands=4, bits=12, seed=3)
    from linkage.matching.blocking import band_positions
    positions = band_positions(256, params)
    keys_a = kernel.lsh_keys(kernel.as_words(a), positions)
    keys_b = kernel.lsh_keys(kernel.as_words(b), positions)
    found = _pairs(a, b, params)
    expected = {(i, j) for band in range(4) for i in range(200) for j in np.flatnonzero(keys_b[band] == keys_a[band][i])}
    assert found == expected


def test_each_pair_is_proposed_once_even_where_an_earlier_band_skipped_its_bucket():
    rng = np.random.default_rng(5)
    a = np.concatenate([random_clks(rng, 300), np.zeros((30, 128), dtype=np.uint8)])
    b = np.concatenate([perturb(rng, a[:300], 0.02), np.zeros((30, 128), dtype=np.uint8)])
    params = LshParameters(bands=12, bits=10, max_bucket=20)     # the empty CLKs' buckets are skipped
    proposed = [(i, j) for ia, ib in candidate_pairs(kernel.as_words(a), kernel.as_words(b), 1024, params)
                for i, j in zip(ia.tolist(), ib.tolist())]
    assert len(proposed) == len(set(proposed)) > 290
    lsh = find(kernel.as_words(a), kernel.as_words(b), 1024, 0.6, method="lsh", lsh=params)
    assert lsh.above_floor == lsh.histogram.sum() == len(set(proposed) & {(i, i) for i in range(300)})


def test_oversized_buckets_are_skipped():
    a = np.zeros((50, 128), dtype=np.uint8)      # identical empty CLKs: one bucket per band
    assert _pairs(a, a, LshParameters(max_bucket=10)) == set()
    assert len(_pairs(a, a, LshParameters(max_bucket=50))) == 50 * 50


def test_lsh_search_keeps_only_pairs_above_the_floor():
    rng = np.random.default_rng(4)
    a = random_clks(rng, 500)
    b = perturb(rng, a, 0.03)
    words_a, words_b = kernel.as_words(a), kernel.as_words(b)
    lsh = find(words_a, words_b, 1024, 0.8, method="lsh")
    exhaustive = find(words_a, words_b, 1024, 0.8, method="none")
    assert lsh.method == "lsh" and exhaustive.method == "all pairs"
    got = set(zip(lsh.ia.tolist(), lsh.ib.tolist()))
    assert got <= set(zip(exhaustive.ia.tolist(), exhaustive.ib.tolist()))
    assert len(got) == len(lsh.ia)                # each pair once, though found in many bands
    assert len(got) >= 0.98 * len(exhaustive.ia)
    assert np.all(lsh.scores >= 0.8)


def test_each_record_keeps_its_best_pairs_when_too_many_qualify():
    rng = np.random.default_rng(5)
    a = random_clks(rng, 300, fill=0.6)                  # unrelated pairs score about 0.6
    b = np.r_[perturb(rng, a[:50], 0.02), random_clks(rng, 250, fill=0.6)]
    for method in ("none", "lsh"):
        found = find(kernel.as_words(a), kernel.as_words(b), 1024, 0.5, method=method, best=3)
        assert found.floor == 0.5
        assert {(i, i) for i in range(50)} <= set(zip(found.ia.tolist(), found.ib.tolist()))
        assert len(found.ia) <= 3 * (300 + 300) and found.histogram.sum() == found.above_floor
        if method == "none":                            # every record had pairs above the floor
            assert np.bincount(found.ia, minlength=300).min() >= 3
            assert found.above_floor > 10 * len(found.ia)


def test_slices_of_rows_give_the_same_pairs_as_one_comparison(monkeypatch):
    from linkage.matching import candidates

    rng = np.random.default_rng(8)
    a, b = kernel.as_words(random_clks(rng, 700, fill=0.6)), kernel.as_words(random_clks(rng, 200, fill=0.6))
    whole = find(a, b, 1024, 0.55, method="none")
    monkeypatch.setattr(candidates, "FIRST_SLICE_COMPARISONS", 1000)   # 5 rows at first
    monkeypatch.setattr(candidates, "SLICE_PAIRS", 400)                 # and some slices too dense
    sliced = find(a, b, 1024, 0.55, method="none")
    assert whole.above_floor == sliced.above_floor and np.array_equal(whole.histogram, sliced.histogram)
    assert sorted(zip(whole.ia.tolist(), whole.ib.tolist())) == sorted(zip(sliced.ia.tolist(), sliced.ib.tolist()))
