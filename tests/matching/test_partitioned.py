"""Exhaustive comparison cut into partitions that run elsewhere: the same pairs as one process."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from linkage.matching import best_k, candidates, kernel, link, match_model

from .helpers import perturb, population, random_clks


def _sets(seed: int, n_a: int, n_b: int):
    """Two sets sharing people, with namesake clusters so that records have many pairs above
    the floor (and ties), and register numbers for a veto."""
    rng = np.random.default_rng(seed)
    people = random_clks(rng, 40)
    a = perturb(rng, people[rng.integers(0, 40, n_a)], 0.04)
    b = perturb(rng, people[rng.integers(0, 40, n_b)], 0.04)
    b[:5] = a[:5]                                                   # exact ties
    veto = candidates.RegisterVeto(np.where(rng.random(n_a) < 0.3, rng.integers(0, 5, n_a), -1),
                                   np.where(rng.random(n_b) < 0.3, rng.integers(0, 5, n_b), -1))
    return kernel.as_words(a), kernel.as_words(b), veto


def _sorted(found: candidates.Candidates):
    order = np.lexsort((found.ib, found.ia))
    return found.ia[order].tolist(), found.ib[order].tolist(), found.scores[order].tolist()


@pytest.mark.parametrize("n_a, n_b", [(700, 90), (90, 700)])
def test_partitions_find_exactly_the_pairs_one_process_finds(monkeypatch, n_a, n_b):
    a, b, veto = _sets(n_a + n_b, n_a, n_b)
    alone = candidates.find(a, b, 1024, 0.55, "none", veto=veto, best=4, best_of_larger=2)
    monkeypatch.setattr(candidates, "PARTITION_COMPARISONS", 7_000)        # about nine partitions
    with ThreadPoolExecutor(3) as executor:
        split = candidates.find(a, b, 1024, 0.55, "none", veto=veto, best=4, best_of_larger=2,
                                executor=executor)
    assert len(candidates._partitions(max(n_a, n_b), min(n_a, n_b), executor)) == 9
    assert _sorted(split) == _sorted(alone)
    assert 0 < len(alone.scores) < alone.above_floor                      # pruning did happen
    assert (split.histogram == alone.histogram).all() and split.above_floor == alone.above_floor
    assert split.vetoed == alone.vetoed > 0 and split.scored == alone.scored


def test_a_partitioned_link_gives_the_same_groups_and_figures(monkeypatch):
    pop = population(5, 3000, {"ksz": (0.95, 0.03, 0.5), "vdab": (0.3, 0.06, 0.4), "edu": (0.2, 0.05, 0.3)})
    alone = link(pop.sets)
    monkeypatch.setattr(candidates, "PARTITION_COMPARISONS", 50_000)
    with ThreadPoolExecutor(2) as executor:
        split = link(pop.sets, executor=executor)
    assert all((x == y).all() for x, y in zip(split.group_ids, alone.group_ids))
    for figures in (split.quality, alone.quality):
        figures.pop("seconds")
    assert split.quality == alone.quality and split.threshold == alone.threshold


def test_beyond_the_budget_records_lsh_cannot_settle_are_compared_with_everyone():
    """The records whose partner is borderline (LSH misses most of them) still find it."""
    rng = np.random.default_rng(31)
    people = random_clks(rng, 3000)
    a = perturb(rng, people, 0.02)
    b_close = perturb(rng, people[:300], 0.01)                        # LSH finds these
    b_far = perturb(rng, people[300:600], 0.2)                        # Dice about 0.65: borderline
    b = np.concatenate([b_close, b_far, random_clks(rng, 100)])       # and 100 without a partner
    aw, bw = kernel.as_words(a), kernel.as_words(b)
    every = candidates.find(aw, bw, 1024, 0.5, "none")
    lsh = candidates.find(aw, bw, 1024, 0.5, "lsh")
    settled = candidates.find(aw, bw, 1024, 0.5, "auto", exhaustive_limit=0)
    true = {(p, p) for p in range(600)}

    def found(c):
        return set(zip(c.ia.tolist(), c.ib.tolist())) & true

    assert len(found(lsh)) < 450                                       # LSH alone loses the borderline
    assert found(settled) == found(every) == true
    assert settled.method == "lsh+all pairs" and settled.scored < every.scored * 0.6
    # the settled records are the close ones: the others' pairs are those of all pairs
    far = settled.ib >= 300
    assert sorted(zip(settled.ia[far].tolist(), settled.ib[far].tolist())) == \
        sorted((i, j) for i, j in zip(every.ia.tolist(), every.ib.tolist()) if j >= 300)


@pytest.mark.parametrize("small_first", [True, False])
def test_settled_records_keep_exactly_their_lsh_pairs_and_the_others_all_pairs(small_first):
    rng = np.random.default_rng(41)
    people = random_clks(rng, 2000)
    a = perturb(rng, people, 0.02)
    b = np.concatenate([perturb(rng, people[:200], 0.01), perturb(rng, people[200:400], 0.2), random_clks(rng, 50)])
    aw, bw = kernel.as_words(a), kernel.as_words(b)
    veto = candidates.RegisterVeto(np.where(rng.random(2000) < 0.3, rng.integers(0, 3, 2000), -1),
                                   np.where(rng.random(250 + 200) < 0.3, rng.integers(0, 3, 450), -1))
    if small_first:
        aw, bw, veto = bw, aw, veto.swapped()
    got = candidates.find(aw, bw, 1024, 0.5, "auto", veto=veto, exhaustive_limit=0)
    # the reference, from the definition: LSH alone for the settled, all pairs for the others
    every_pair = 2000  # best k that keeps every pair: no record has more partners than that
    lsh = candidates.find(aw, bw, 1024, 0.5, "lsh", veto=veto, best=every_pair, best_of_larger=every_pair)
    small_ids = lsh.ia if small_first else lsh.ib
    best = np.zeros(450, np.float32)
    np.maximum.at(best, small_ids, lsh.scores)
    settled = best >= candidates.SETTLED_SCORE
    every = candidates.find(aw, bw, 1024, 0.5, "none", veto=veto, best=every_pair, best_of_larger=every_pair)
    every_small = every.ia if small_first else every.ib
    pool_i = np.r_[lsh.ia[settled[small_ids]], every.ia[~settled[every_small]]]
    pool_j = np.r_[lsh.ib[settled[small_ids]], every.ib[~settled[every_small]]]
    pool_s = np.r_[lsh.scores[settled[small_ids]], every.scores[~settled[every_small]]]
    ks = (10, 2) if small_first else (2, 10)
    keep = best_k.within_best(pool_i, pool_s, ks[0]) | best_k.within_best(pool_j, pool_s, ks[1])
    assert sorted(zip(got.ia.tolist(), got.ib.tolist(), got.scores.tolist())) == \
        sorted(zip(pool_i[keep].tolist(), pool_j[keep].tolist(), pool_s[keep].tolist()))
    expected_histogram = match_model.histogram(pool_s)
    assert (got.histogram == expected_histogram).all() and got.above_floor == len(pool_s)
    assert 0 < settled.sum() < 450 and got.vetoed > 0
