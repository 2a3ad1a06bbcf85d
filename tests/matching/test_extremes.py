"""A record's best candidate against the extremes of its own unrelated scores."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.matching.candidates import BEST_PER_RECORD
from linkage.matching.extremes import BestCandidates

FLOOR = 0.6


def _candidates(rng: np.random.Generator, records: int, share: float):
    """Per record, the best ``BEST_PER_RECORD`` of its unrelated scores above the floor (an
    exponential tail whose scale and count differ per record: common names have more and
    closer look-alikes) and, for a ``share`` of the records, its partner (scoring 0.8-1).
    Returns the candidates (record, score), whether each is a partner, and the partnered
    records."""
    j, scores, partner = [], [], []
    partnered = rng.random(records) < share
    for r in range(records):
        scale = rng.uniform(0.01, 0.04)
        unrelated = np.sort(FLOOR + rng.exponential(scale, rng.poisson(rng.uniform(3, 60))))[::-1]
        mine = list(unrelated[:BEST_PER_RECORD])
        is_partner = [False] * len(mine)
        if partnered[r]:
            mine.append(1.0 - min(rng.exponential(0.04), 0.2))
            is_partner.append(True)
        j += [r] * len(mine)
        scores += mine
        partner += is_partner
    return np.array(j), np.array(scores), np.array(partner), partnered


@pytest.mark.parametrize("share", [0.0, 0.1, 0.5, 0.95])
def test_the_records_whose_best_candidate_is_their_partner_are_told_from_those_without(share):
    rng = np.random.default_rng(int(share * 100) + 7)
    j, scores, partner, partnered = _candidates(rng, 2000, share)
    best = BestCandidates.of(j, scores, FLOOR)
    probability = best.partner_probability()
    records = j[best.candidate]
    assert len(records) == len(np.unique(j))
    top_is_partner = partner[best.candidate]
    assert probability.sum() / 2000 == pytest.approx(top_is_partner.mean(), abs=0.02)
    assert ((probability >= 0.5) == top_is_partner).mean() >= 0.97
    # what the pair model is told are non-matches among these best candidates
    assert best.nonmatches(np.ones(len(records), dtype=bool)).sum() == \
        pytest.approx((~top_is_partner).sum(), abs=0.02 * 2000)


def test_the_best_candidate_is_the_highest_scoring_one_of_each_record():
    j = np.array([3, 3, 1, 3, 1, 5])
    scores = np.array([0.70, 0.95, 0.81, 0.66, 0.62, 0.64])
    best = BestCandidates.of(j, scores, FLOOR)
    assert j[best.candidate].tolist() == [1, 3, 5]
    assert best.score.tolist() == [0.81, 0.95, 0.64]
    assert np.isfinite(best.null_density).all() and (best.null_density > 0).all()


def test_a_record_far_above_its_look_alikes_is_less_likely_unrelated_than_one_among_them():
    near = [0.74, 0.73, 0.72, 0.71, 0.70, 0.69, 0.68, 0.67, 0.66, 0.65]
    far = [0.95, 0.73, 0.72, 0.71, 0.70, 0.69, 0.68, 0.67, 0.66, 0.65]
    best = BestCandidates.of(np.repeat([0, 1], 10), np.array(near + far), FLOOR)
    assert best.null_density[1] < best.null_density[0] / 50


def test_no_candidates_no_best():
    best = BestCandidates.of(np.zeros(0, dtype=np.int64), np.zeros(0), FLOOR)
    assert len(best.score) == 0
    assert best.partner_probability().shape == (0,)
    assert best.nonmatches(np.zeros(0, dtype=bool)).sum() == 0
