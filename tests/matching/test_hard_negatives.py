"""Certain non-matches (records the tokens linked, against the other side's open records) give
the non-match curve its namesake tail, and the record-level model then decides the links."""

from __future__ import annotations

import numpy as np

from linkage.matching import EncodedSet, link
from linkage.matching.hard_negatives import nonmatch_sample, sample

from .helpers import perturb, random_clks


def _namesakes(seed: int):
    """A register of 8,000 persons, 40 % of them in families of 20 namesakes (each a copy of
    the family's CLK with 7 % of its bits flipped: they score about 0.8 with each other), and a
    source of 1,600 of them plus 80 strangers. The source's records with a national number
    (60 %) are clean copies; those without one (the open records) score 0.7-0.9 with their
    person, as newcomers' transliterated names do, and so do the strangers with a namesake."""
    rng = np.random.default_rng(seed)
    persons, family_size = 8000, 20
    in_family = np.arange(persons) < int(0.4 * persons)
    bases = random_clks(rng, int(in_family.sum()) // family_size)
    clks = random_clks(rng, persons)
    clks[in_family] = perturb(rng, np.repeat(bases, family_size, axis=0), 0.07)
    tokens = [bytes([1]) + rng.bytes(31) for _ in range(persons)]
    chosen = rng.choice(persons, size=1600, replace=False)
    numbered = rng.random(len(chosen)) < 0.6
    flips = np.where(numbered, 0.02, rng.uniform(0.04, 0.12, len(chosen)))
    records = np.vstack([perturb(rng, clks[[p]], f) for p, f in zip(chosen, flips)])
    families = rng.choice(np.flatnonzero(in_family), size=80, replace=False)
    strangers = perturb(rng, perturb(rng, clks[families], 0.07), 0.04)      # a namesake's namesake
    register = EncodedSet("ksz", [f"k{i}" for i in range(persons)], clks, tokens)
    source = EncodedSet("integration", [f"i{i}" for i in range(len(chosen) + 80)], np.vstack([records, strangers]),
                        [tokens[p] if n else None for p, n in zip(chosen, numbered)] + [None] * 80)
    return register, source, chosen, numbered, in_family


def test_open_records_are_linked_although_most_pairs_above_the_floor_are_namesakes():
    """Every non-match above the floor is a namesake here (chance similarity stays below it).
    Fitted to the candidates alone, the non-match curve took the namesakes for matches and
    the model expected no match at all: none of the 608 open records was linked. Counted from
    the records the tokens linked, the namesakes are non-matches, and each open record is
    weighed against its own look-alikes: every open record without namesakes is linked, and
    none of the strangers (a namesake's namesake each). Records inside a family of namesakes
    stay hard: fewer than half are linked (docs/matching.md)."""
    register, source, chosen, numbered, in_family = _namesakes(3)
    result = link([register, source])
    pair = result.quality["pairs"][0]
    assert pair["model"]["nonmatch_from"] == "certain non-matches"
    assert pair["comparison"]["certain_nonmatches"]["linked_records_compared"] == int(numbered.sum())
    ksz, other = result.group_ids
    owner = {g: i for i, g in enumerate(ksz.tolist())}
    linked_to = np.array([owner.get(g, -1) for g in other.tolist()])
    n, alone = len(chosen), ~numbered & ~in_family[chosen]
    assert (linked_to[:n][alone] == chosen[alone]).mean() >= 0.99
    assert (linked_to[n:] >= 0).sum() <= 1
    linked = (linked_to[:n] >= 0) & ~numbered
    assert (linked_to[:n][linked] != chosen[linked]).sum() <= 0.03 * linked.sum()


def test_sparse_bins_are_smoothed_and_the_tail_falls():
    counts = np.zeros(200)
    counts[120:] = np.r_[np.geomspace(5000, 1, 60), np.zeros(20)]
    counts[195] = 3                                   # a linked record's open duplicate near 1
    made = nonmatch_sample(counts, 120, records=100, other_open=1000, compared=400_000)
    assert made.pairs == int(counts[120:].sum())
    curve = made.expected[120:]
    assert curve[0] == counts[120] * 4              # dense bins as counted, scaled to the pairs compared
    assert np.all(np.diff(curve[50:]) < 0) and curve.min() > 0     # a falling tail, no plateau at 1
    assert curve[-1] < 0.01 * curve[50]


def test_too_few_linked_records_count_nothing():
    assert sample(np.arange(50), 10) is None
    assert len(sample(np.arange(5000), 10)) == 2000
    assert len(sample(np.arange(5000), 3000)) == 3000
    assert len(sample(np.arange(100_000), 60_000)) == 20_000
