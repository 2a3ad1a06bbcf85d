"""Linkage error without truth: the recall the record-level model expects, against the truth."""

from __future__ import annotations

import numpy as np

from linkage.matching import EncodedSet, link
from linkage.origin import origin_groups

from .helpers import perturb, random_clks


def _sources(seed: int):
    """A register of 6,000 persons and a source of 1,500 of them plus 60 strangers. The
    source's records with a national number (60 %) are clean copies; those without one are
    worse, and worst for the persons of group "far" (as newcomers' transliterated names are),
    so the token-confirmed pairs alone make the open records look better than they are."""
    rng = np.random.default_rng(seed)
    persons = 6000
    truth = random_clks(rng, persons)
    group = np.where(rng.random(persons) < 0.3, "far", "near")
    tokens = [bytes([1]) + rng.bytes(31) for _ in range(persons)]
    chosen = rng.choice(persons, size=1500, replace=False)
    numbered = rng.random(len(chosen)) < 0.6
    far = group[chosen] == "far"
    flip = np.where(numbered, 0.02, np.where(far, rng.uniform(0.05, 0.3, len(chosen)), 0.05))
    clks = np.vstack([perturb(rng, truth[[p]], f) for p, f in zip(chosen, flip)] + [random_clks(rng, 60)])
    register = EncodedSet("ksz", [f"k{i}" for i in range(persons)], truth, tokens)
    source = EncodedSet("integration", [f"i{i}" for i in range(len(clks))], clks,
                        [tokens[p] if n else None for p, n in zip(chosen, numbered)] + [None] * 60)
    return register, source, chosen, group


def _true_recall(result, chosen, mask):
    ksz, other = result.group_ids
    found = ksz[chosen[mask]] == other[:len(chosen)][mask]
    return float(found.mean())


def test_the_open_records_own_match_scores_decide_not_the_cleaner_token_pairs_alone():
    """The token-confirmed pairs score 0.96 and up, the open records 0.68-0.93. Taught by the
    token pairs alone, the model linked none of the 600 open records; calibrated on the
    open records by the record-level model it links them."""
    register, source, chosen, _ = _sources(1)
    result = link([register, source])
    pair = result.quality["pairs"][0]
    assert pair["exact"] == 900 and pair["similarity"] >= 0.95 * 600
    assert _true_recall(result, chosen, np.ones(len(chosen), dtype=bool)) >= 0.99
    assert pair["estimated_recall"]["record_model"]["match_scores_q05"] < 0.8


def test_the_estimate_follows_the_truth_overall_and_per_group():
    """A threshold of 0.9 leaves a third of group "far" unlinked; the estimate, made without
    the truth, finds the same within a point, and flags the gap between the groups."""
    register, source, chosen, group = _sources(1)
    result = link([register, source], threshold=0.9, strata=[group, None])
    estimate = result.quality["pairs"][0]["estimated_recall"]
    true = _true_recall(result, chosen, np.ones(len(chosen), dtype=bool))
    assert true < 0.95
    assert abs(estimate["recall"] - true) <= 0.01
    assert abs(estimate["expected_pairs"] - 1500) <= 15
    by = estimate["by_stratum"]
    assert by["side"] == "ksz" and by["gap_warning"]
    for label in ("far", "near"):
        assert abs(by["strata"][label]["recall"] - _true_recall(result, chosen, group[chosen] == label)) <= 0.01


def test_without_strata_there_is_no_breakdown():
    register, source, _, _ = _sources(2)
    estimate = link([register, source]).quality["pairs"][0]["estimated_recall"]
    assert estimate["recall"] is not None and "by_stratum" not in estimate


def test_two_sources_that_share_few_persons_get_no_estimate_and_say_why():
    register, source, chosen, _ = _sources(3)
    strangers = random_clks(np.random.default_rng(1003), 4000)      # nobody in the register
    crowded = EncodedSet("integration", list(source.record_ids) + [f"s{i}" for i in range(4000)],
                         np.vstack([source.clks, strangers]), list(source.exact_tokens) + [None] * 4000)
    estimate = link([register, crowded]).quality["pairs"][0]["estimated_recall"]
    assert estimate["recall"] is None and "expected to have a partner" in estimate["reason"]
    assert estimate["record_model"]["share_with_partner"] < 0.5


def test_origin_groups_come_from_a_nationality_history():
    import datetime as dt

    columns = {"nat_current": ["150", "150", "354"], "nat_first": ["150", "354", "354"],
               "nat_first_father": ["150", None, "354"], "nat_first_mother": ["150", None, "354"]}
    groups = origin_groups(columns, dt.date(2024, 12, 31))
    assert groups is not None and groups[0] == "belgium" and groups[1] == groups[2] == "maghreb"
    assert origin_groups({"nat_current": ["150"]}, dt.date(2024, 12, 31)) is None
