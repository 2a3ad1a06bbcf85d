"""Which records' best candidates are only their largest unrelated scores.

Without tokens and without counted non-matches, the pair model holds its non-match curve up
with the pairs that are not mutual best (:mod:`.match_model`, *presumed* non-matches) and
leaves every mutual-best pair to the fit. Where two sets share few persons most mutual-best
pairs are namesakes: the best of a record's thousands of unrelated scores. The curve's
log-quadratic tail cannot follow them, so EM took them for matches (2,000 register records
against 200 others, none shared: 24-47 false links; FEBRL 4, 2,500 against 500 others, four
secrets: 0-54 false links, and where 25 of them were shared, nothing linked).

A record's best candidate, if the record has no partner, is only the largest of its unrelated
scores, and its other candidates show how those scores fall off. Above a threshold they are
close to exponential, so the gap from its second best to its best is exponential with the
same scale ``β`` as the excesses of its other candidates over the threshold: its last
candidate where the search kept its ``BEST_PER_RECORD``, else the floor, every exceedance of
which was kept. With ``β`` estimated (plus ``PRIOR_TERMS`` pseudo-excesses of the median
record's, so that a record with one or two candidates is not given a certain scale), the best
score's density under "no partner" is a Lomax with nothing left to fit. Over the records' best
scores, a two-component mixture (matches: a spike of identical encodings and a beta, learnt
by EM; the others: each record's own Lomax) then gives each record the probability that its
best candidate is its partner. Peptide search engines give each spectrum its expectation value
the same way, from the tail of that spectrum's own candidate scores (X!Tandem).

Measured where the truth is known: records without a partner have tail probabilities close to
uniform (of 799, 6.4 % below 0.05 and 2.3 % below 0.01), and the share of records whose best
candidate is their partner came out 0.01-0.06 where none was shared, 0.09-0.10 where 10 % was
and 0.48-0.50 where half was (FEBRL 4 and Faker registers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.matching.candidates import BEST_PER_RECORD
from linkage.matching.match_model import BIN_WIDTH, BINS, EM_START, SpikedBeta, bin_of

PRIOR_TERMS = 2.0
"""Pseudo-excesses of the median record's scale added to each record's own."""
MIN_SCALE = 0.002
"""Least scale of a record's unrelated scores (Dice scores of 1,024-bit CLKs move in steps of
about 0.001)."""
MAX_ITERATIONS = 500
TOLERANCE = 1e-7


@dataclass(frozen=True)
class BestCandidates:
    """Per record with candidates: its best candidate, its score, and that score's density
    if the record has no partner."""

    candidate: np.ndarray
    """Index of the record's best candidate among the candidates given."""
    score: np.ndarray
    null_density: np.ndarray

    @classmethod
    def of(cls, j: np.ndarray, scores: np.ndarray, floor: float) -> "BestCandidates":
        """From candidate pairs (per candidate, its record ``j`` and its ``scores``) at or above
        ``floor``. Records with the same best score twice keep the first of them."""
        scores = np.asarray(scores, dtype=np.float64)
        j = np.asarray(j, dtype=np.int64)
        order = np.lexsort((-scores, j))
        js, ss = j[order], scores[order]
        starts = np.flatnonzero(np.r_[True, js[1:] != js[:-1]]) if len(js) else np.zeros(0, dtype=np.int64)
        ends = np.r_[starts[1:], len(js)].astype(np.int64)
        count = ends - starts
        capped = count >= BEST_PER_RECORD
        # beyond its own best k a record may hold other records' (lower) picks: cut them off
        last = np.where(capped, starts + BEST_PER_RECORD - 1, ends - 1)
        threshold = np.where(capped, ss[last], floor)
        # excesses of the record's 2nd..(k-1)th over its k-th, or of its 2nd..last over the floor
        first_rest = starts + 1
        stop = np.where(capped, last, ends)
        terms = np.maximum(stop - first_rest, 0).astype(np.float64)
        cumulative = np.r_[0.0, np.cumsum(ss)]
        sums = cumulative[np.maximum(stop, first_rest)] - cumulative[first_rest] - terms * threshold
        own = sums[terms > 0] / terms[terms > 0]
        pooled = max(float(np.median(own)) if len(own) else 4 * BIN_WIDTH, MIN_SCALE)
        nu = terms + PRIOR_TERMS
        beta = np.maximum((sums + PRIOR_TERMS * pooled) / nu, MIN_SCALE)
        best = ss[starts]
        second = np.where(count > 1, ss[np.minimum(starts + 1, len(ss) - 1)], floor) if len(ss) else best
        z = np.maximum(best - second, 0.0) / beta
        density = (1.0 + z / nu) ** (-(nu + 1.0)) / beta
        return cls(order[starts], best, density)

    def partner_probability(self) -> np.ndarray:
        """Per record, the probability that its best candidate is its partner: EM over the
        mixture of the matches' scores (a ``SpikedBeta``) and each record's null density."""
        if not len(self.score):
            return np.zeros(0)
        b = bin_of(self.score)
        first = int(b.min())
        spiked = SpikedBeta(EM_START, 0.5)
        match = _from(spiked.bins(), first)
        share, weight = 0.5, np.zeros(len(b))
        for _ in range(MAX_ITERATIONS):
            density = match[b] / BIN_WIDTH
            weight = share * density / np.maximum(share * density + (1 - share) * self.null_density, 1e-300)
            spiked = spiked.refit(np.bincount(b, weight, minlength=BINS)[first:], first)
            updated, fitted = float(weight.mean()), _from(spiked.bins(), first)
            change = abs(updated - share) + float(np.abs(fitted - match).sum())
            share, match = updated, fitted
            if change < TOLERANCE:
                break
        return weight

    def nonmatches(self, keep: np.ndarray) -> np.ndarray:
        """Per score bin, how many of the best candidates that ``keep`` selects (per record)
        are expected to be non-matches."""
        unrelated = (1.0 - self.partner_probability())[keep]
        return np.bincount(bin_of(self.score[keep]), unrelated, minlength=BINS)


def _from(bins: np.ndarray, first: int) -> np.ndarray:
    """A distribution over score bins cut to the bins from ``first`` (where best scores lie)."""
    out = np.array(bins, dtype=np.float64)
    out[:first] = 0.0
    return out / max(float(out.sum()), 1e-300)
