"""Quality evaluation against truth: counts, P/R/F1 and recall per group."""

from __future__ import annotations

import pytest

from linkage.matching import link
from linkage.matching.quality import evaluate, linked_rows

from .helpers import population

TRUTH = {("a", "a1"): "p1", ("a", "a2"): "p2", ("a", "a3"): "p3", ("a", "a4"): "p4",
         ("b", "b1"): "p1", ("b", "b2"): "p2", ("b", "b3"): "p3", ("b", "b9"): "p9"}
ORIGIN = {"p1": "belgian", "p2": "belgian", "p3": "maghreb", "p4": "maghreb", "p9": "maghreb"}


def test_counts_precision_recall_f1_and_group_recall():
    groups = [(0, "a", "a1"), (0, "b", "b1"),       # correct
              (1, "a", "a2"), (1, "b", "b3"),       # wrong: p2 with p3
              (2, "a", "a4"), (2, "b", "b9")]       # wrong: p4 with p9
    [pair] = evaluate(groups, TRUTH, ORIGIN)
    assert pair.sources == ("a", "b")
    assert (pair.true_pairs, pair.linked_pairs, pair.correct_pairs) == (3, 3, 1)
    assert pair.precision == pytest.approx(1 / 3) and pair.recall == pytest.approx(1 / 3)
    assert pair.f1 == pytest.approx(1 / 3)
    assert pair.recall_by_group == {"belgian": (1, 2), "maghreb": (0, 1)}
    assert pair.recall_spread() == pytest.approx(0.5)


def test_perfect_linkage_scores_one():
    groups = [(g, s, r) for g, (s, r) in enumerate(TRUTH) if s == "a"] + \
             [(g, "b", "b" + r[1:]) for g, (s, r) in enumerate(TRUTH) if s == "a" and r != "a4"]
    [pair] = evaluate(groups, TRUTH, ORIGIN)
    assert (pair.precision, pair.recall, pair.f1) == (1.0, 1.0, 1.0)
    assert pair.recall_spread() == 0.0


def test_evaluates_a_link_result_directly():
    pop = population(31, 300, {"a": (1.0, 0.0, 0.5), "b": (0.5, 0.03, 0.5), "c": (0.3, 0.03, 0.0)})
    truth = {(s.source, rid): str(p) for s, persons in zip(pop.sets, pop.persons)
             for rid, p in zip(s.record_ids, persons.tolist())}
    result = link(pop.sets)
    pairs = evaluate(linked_rows(result, pop.sets), truth, sources=["a", "b", "c"])
    assert [p.sources for p in pairs] == [("a", "b"), ("a", "c"), ("b", "c")]
    assert [p.true_pairs for p in pairs] == [len(pop.true_pairs(0, 1)), len(pop.true_pairs(0, 2)),
                                             len(pop.true_pairs(1, 2))]
    assert all(p.f1 > 0.98 for p in pairs)
