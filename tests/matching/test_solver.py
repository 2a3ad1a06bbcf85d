"""The greedy solver: one record per source per group, best pairs first, no chains."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.matching.records import Records
from linkage.matching.solver import solve

from .helpers import perturb, random_clks


def _solve(records, edges, start=None, bound=0.0):
    n = records.total
    set_of = np.repeat(np.arange(records.set_count), np.diff(records.offsets))
    cluster = np.arange(n) if start is None else np.asarray(start)
    ga, gb, sc = (np.asarray(x) for x in zip(*edges)) if edges else (np.zeros(0, int),) * 2 + (np.zeros(0),)
    return solve(cluster, set_of, (ga.astype(np.int64), gb.astype(np.int64), sc.astype(np.float32)),
                 records, bound)


@st.composite
def candidate_graphs(draw):
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=5))
    offsets = np.r_[0, np.cumsum(sizes)]
    n = int(offsets[-1])
    set_of = np.repeat(np.arange(len(sizes)), sizes)
    pairs = [(u, v) for u in range(n) for v in range(u + 1, n) if set_of[u] != set_of[v]]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=40))
    scores = draw(st.lists(st.floats(0.5, 1.0, width=32), min_size=len(chosen), max_size=len(chosen)))
    return sizes, [(u, v, s) for (u, v), s in zip(chosen, scores)]


@settings(max_examples=200, deadline=None)
@given(graph=candidate_graphs())
def test_never_two_records_of_one_source_in_a_group(graph):
    sizes, edges = graph
    rng = np.random.default_rng(0)
    records = Records.from_clks([random_clks(rng, n, 64) for n in sizes])
    solution = _solve(records, edges)
    set_of = np.repeat(np.arange(len(sizes)), sizes)
    for group in np.unique(solution.cluster):
        members = set_of[solution.cluster == group]
        assert len(members) == len(set(members.tolist()))
    # every group is connected by accepted edges, and the first (best) edge is always taken
    if edges:
        best = max(edges, key=lambda e: (e[2], -e[0], -e[1]))
        assert solution.cluster[best[0]] == solution.cluster[best[1]]
    assert solution.stats["merges"] == len(sizes and set_of) - len(np.unique(solution.cluster))


def test_best_scoring_pair_wins_a_contested_record():
    rng = np.random.default_rng(1)
    records = Records.from_clks([random_clks(rng, 1, 64), random_clks(rng, 2, 64)])
    solution = _solve(records, [(0, 1, 0.85), (0, 2, 0.95)])
    assert solution.cluster[0] == solution.cluster[2] != solution.cluster[1]
    assert solution.stats["rejected_same_set"] == 1


def test_a_chain_through_an_unrelated_record_is_refused():
    rng = np.random.default_rng(2)
    a = random_clks(rng, 1)
    b = perturb(rng, a, 0.05)
    c = random_clks(rng, 1)                      # unrelated to a
    records = Records.from_clks([a, b, c])
    # a~b (same person), b~c passes the threshold, but a and c are unrelated
    solution = _solve(records, [(0, 1, 0.95), (1, 2, 0.9)], bound=0.6)
    assert solution.cluster[0] == solution.cluster[1] != solution.cluster[2]
    assert solution.stats["rejected_inconsistent"] == 1


def test_similarity_extends_a_token_group_with_a_missing_source():
    rng = np.random.default_rng(3)
    a = random_clks(rng, 1)
    b, c = perturb(rng, a, 0.03), perturb(rng, a, 0.05)
    records = Records.from_clks([a, b, c])
    # a and b share a token (group 0); c joins it through its similarity to b
    solution = _solve(records, [(1, 2, 0.9)], start=[0, 0, 2], bound=0.6)
    assert len(set(solution.cluster.tolist())) == 1
