"""A calibrated match model per pair of sources: how likely a candidate pair is a match.

For two sets ``p`` and ``q`` the open records (those whose group lacks the other set) are
compared and every pair scoring at least the floor is a candidate. Counted in score bins,
the candidates are a mixture (Fellegi and Sunter, with the Dice score as the one comparison):

- **matches**: ``expected_matches`` pairs (at most one per record), their scores following
  the match distribution ``m``. Where exact tokens link records of both sets, ``m`` is the
  histogram of the Dice scores of those token-confirmed pairs (smoothed by a beta fitted to
  them); without tokens (FEBRL, clkhash files) it is learnt by EM: a share of identical
  encodings (the top bin) and a beta for the others.
- **non-matches**: ``U(s)`` expected pairs per bin, log-quadratic in the score and falling
  from the floor up (the floor lies above the mode of unrelated pairs' scores), so smooth,
  extrapolated above the last bin where non-matches were seen, and unable to take the shape
  of the matches' bump; fitted by Poisson maximum likelihood.
  Where tokens link records, the non-matches are also counted (:mod:`.hard_negatives`), and
  ``U(s)`` is at least what was counted: the curve fitted to the candidates takes the
  namesakes' tail for matches. Where they are not counted, ``U(s)`` is at least the pairs
  that are not mutual best (*presumed* non-matches: a record has one partner at most, and
  its partner rarely scores below a namesake's): the log-quadratic curve cannot follow the
  heavy tail of namesakes above the floor, and without this bound EM gave that tail to the
  matches and then found none (CLK only, ``belgian-v4``, 200,000 persons: nothing linked
  between KSZ and VDAB). The mutual-best pairs that their records' other candidates show to
  be only the records' largest unrelated scores are presumed non-matches too
  (:mod:`.extremes`): where two sets share few persons most mutual-best pairs are namesakes,
  and EM took them for matches.

EM (as in Splink, written anew): the E-step gives each bin its share of matches
``M_b / (M_b + U_b)``; the M-step re-estimates ``expected_matches`` (corrected for matches
below the floor), the non-match curve and, without tokens, the beta of ``m``.

**Posterior.** Any candidate pair in bin ``b`` is a match with probability
``M_b / (M_b + U_b)``. A pair that is the best candidate of both its records (*mutual best*)
carries more: had it been a non-match, each record's own partner (if it has one, with
probability ``π``, the share of that side's open records with a partner) would have had to
score lower. So its odds are divided by ``g = (1 - π) + π·F_M(s)`` per side (``F_M`` the
match distribution function). That is why a mutual-best pair of two sets in which nearly
every record has a partner (FEBRL) is accepted at a lower score than a pair of the population
register against a small source. Log odds are made non-decreasing in the score: a higher
score is never less evidence of a match.

A pair is linked (``engine``, ``solver``) when its posterior is at least ``ACCEPT``; where the
non-matches were counted or presumed, the posterior is the record-level model's instead
(:func:`.linkage_error.assign`), which weighs each record against its own candidates. Without
tokens the pair-level posterior linked too little: the one-to-one factor ``g`` ignores that a
non-match must also beat the record's other look-alikes to be mutual best (CLK only, a plain
schema, 200,000 persons: mutual-best pairs at 0.80-0.83 were 73-92 % true, the posterior said
12-68 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

BIN_WIDTH = 0.005
BINS = 200
ACCEPT = 0.5
"""Posterior at which a candidate pair is linked: a match is then more likely than not, so
the expected number of false links equals the expected number of missed ones at the margin."""
MIN_TOKEN_PAIRS = 50
"""Below this many token-confirmed pairs, ``m`` is fitted by EM instead."""
PRIOR_WEIGHT = 20.0
"""Pseudo-pairs of the fitted beta added to the token-pair histogram (smoothing only)."""
MAX_ITERATIONS = 200
TOLERANCE = 1e-6
G_MIN = 1e-4
"""Lower bound of each side's one-to-one factor ``g`` (at most 10^4 times the odds per side)."""
TOKEN_PAIRS = "token pairs"
"""``PairModel.method`` when the match scores were learnt from token-confirmed pairs."""
NO_MATCHES = "em: no matches"
"""``PairModel.method`` when the EM's matches were the non-matches' tail (:func:`separated`):
no pair of the two sets is linked by similarity."""
COUNTED = "certain non-matches"
PRESUMED = "pairs not mutual best"
"""``PairModel.nonmatch_from``: the least the non-match curve expects was counted from certain
non-matches, or presumed from the pairs that are not mutual best."""
NONMATCH_BULK = 0.99
EM_START = (20.0, 2.0)
"""Beta parameters of the starting match distribution without tokens (mean 0.91)."""


def mutual_best(ga: np.ndarray, gb: np.ndarray, scores: np.ndarray, set_of: np.ndarray) -> np.ndarray:
    """Mask of the candidate pairs ``(ga, gb, scores)`` (global record ids) that are the
    best-scoring candidate of ``ga`` among the records of ``gb``'s set and of ``gb`` among
    the records of ``ga``'s set (when scores tie, the one with the lowest record id, so that
    the result does not depend on the order in which the threaded kernel found the pairs)."""
    keep = np.ones(len(scores), dtype=bool)
    if len(scores) == 0:
        return keep
    scores = np.asarray(scores)
    for mine, other in ((np.asarray(ga, dtype=np.int64), np.asarray(gb, dtype=np.int64)),
                        (np.asarray(gb, dtype=np.int64), np.asarray(ga, dtype=np.int64))):
        best = np.zeros(len(scores), dtype=bool)
        other_set = set_of[other]
        for t in np.flatnonzero(np.bincount(other_set)):   # per record, its best in set t
            at = np.flatnonzero(other_set == t)
            m, o, s = mine[at], other[at], scores[at]
            top = np.full(len(set_of), -np.inf, dtype=s.dtype)
            np.maximum.at(top, m, s)
            tie = s == top[m]
            lowest = np.full(len(set_of), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(lowest, m[tie], o[tie])
            best[at[tie & (o == lowest[m])]] = True
        keep &= best
    return keep


EDGE_TOLERANCE = 1e-4
"""In bin widths. The kernel's float32 scores lie up to ~1e-5 bin widths below the exact
Dice value, so a score equal to the floor or to a bin edge could fall into the bin below;
an exact Dice value 2c/(a+b) (a+b <= 2048 bits) other than an edge lies at least 5e-4 bin
widths from every edge, so the tolerance never moves one."""


def bin_of(scores: np.ndarray) -> np.ndarray:
    raw = np.floor(np.asarray(scores, dtype=np.float64) / BIN_WIDTH + EDGE_TOLERANCE).astype(np.int64)
    return np.clip(raw, 0, BINS - 1)


def lower_edges() -> np.ndarray:
    return np.arange(BINS) * BIN_WIDTH


def match_quantile(match: np.ndarray, q: float) -> float:
    """The score (a bin's lower edge) below which a share ``q`` of matches scores."""
    return round(float(lower_edges()[min(int(np.searchsorted(np.cumsum(match), q)), BINS - 1)]), 3)


@dataclass
class PairModel:
    floor: float
    left: int
    right: int
    """Open records compared on each side."""
    expected_matches: float
    match: np.ndarray
    """Probability of each of the ``BINS`` score bins for a match (sums to 1)."""
    nonmatch: np.ndarray
    """Expected non-match candidate pairs per bin (0 below the floor's bin)."""
    method: str
    """``"token pairs"``, ``"em"`` or ``NO_MATCHES``."""
    token_pairs: int
    iterations: int
    converged: bool
    known: np.ndarray | None = None
    """Non-match pairs per bin known without the fit, the least the non-match curve may
    expect: counted from certain non-matches (:mod:`.hard_negatives`) or, where nothing was
    counted and EM learnt ``m`` (too few token pairs), the candidate pairs that are not mutual
    best (None: neither)."""
    nonmatch_from: str = "em"
    """Where ``known`` came from: ``COUNTED``, ``PRESUMED`` or ``"em"`` (nothing known)."""

    @property
    def nonmatch_known(self) -> bool:
        """Whether the non-match curve is held up by known non-matches (counted or presumed),
        so that each record's look-alikes can be told from it."""
        return self.known is not None

    def at_least_known(self, curve: np.ndarray) -> np.ndarray:
        """``curve`` (non-match pairs per bin) raised to the known non-matches."""
        return curve if self.known is None else np.maximum(curve, self.known)

    def share_with_partner(self, n: int) -> float:
        """``π`` of a side with ``n`` open records."""
        return float(min(self.expected_matches / max(n, 1), 1 - 1 / (n + 1)))

    def log_odds(self, mutual: bool) -> np.ndarray:
        """Posterior log odds of a match per bin (``-inf`` below the floor)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            odds = np.log(self.expected_matches * self.match) - np.log(self.nonmatch)
        odds[: int(bin_of(np.array([self.floor]))[0])] = -np.inf
        if mutual:
            below = np.cumsum(self.match) - self.match / 2
            for n in (self.left, self.right):
                pi = self.share_with_partner(n)
                odds = odds - np.log(np.maximum((1 - pi) + pi * below, G_MIN))
        return np.maximum.accumulate(np.nan_to_num(odds, nan=-np.inf, posinf=np.inf, neginf=-np.inf))

    def posterior(self, scores: np.ndarray, mutual: np.ndarray) -> np.ndarray:
        """Match probability of candidate pairs (``mutual``: mask of mutual-best pairs)."""
        b = bin_of(scores)
        return special.expit(np.where(mutual, self.log_odds(True)[b], self.log_odds(False)[b]))

    def threshold(self, mutual: bool) -> float | None:
        """Lowest score (a bin's lower edge) whose posterior reaches ``ACCEPT``."""
        hit = np.flatnonzero(special.expit(self.log_odds(mutual)) >= ACCEPT)
        return round(float(lower_edges()[hit[0]]), 4) if len(hit) else None

    def refit_nonmatch(self, counts: np.ndarray) -> np.ndarray:
        """The non-match curve fitted to ``counts`` (per bin, all ``BINS``) instead."""
        first = int(bin_of(np.array([self.floor]))[0])
        x = (lower_edges()[first:] + BIN_WIDTH / 2 - self.floor) * 10
        out = np.zeros(BINS)
        out[first:] = np.exp(_log_curve(_fit_curve(x, np.asarray(counts, dtype=np.float64)[first:], None), x))
        return out

    def summary(self) -> dict:
        """JSON-safe aggregates of the fitted model."""
        return {
            "method": self.method,
            "open_records": [self.left, self.right],
            "token_pairs": self.token_pairs,
            "expected_matches": round(self.expected_matches, 1),
            "match_scores": {"q05": match_quantile(self.match, 0.05),
                             "median": match_quantile(self.match, 0.5)},
            "nonmatch_pairs_above_floor": round(float(self.nonmatch.sum()), 1),
            "nonmatch_from": self.nonmatch_from,
            "threshold_mutual_best": self.threshold(True),
            "threshold_other": self.threshold(False),
            "em_iterations": self.iterations,
            "converged": self.converged,
        }


def histogram(scores: np.ndarray) -> np.ndarray:
    """Pairs per score bin."""
    return np.bincount(bin_of(scores), minlength=BINS)


def learns_from_tokens(token_scores: np.ndarray | None) -> bool:
    """Whether the token-confirmed pairs are enough to teach ``m`` (else EM learns it, and only
    then are presumed non-matches used)."""
    return token_scores is not None and len(token_scores) >= MIN_TOKEN_PAIRS


def fit(counts: np.ndarray, floor: float, left: int, right: int,
        token_scores: np.ndarray | None = None, nonmatch: np.ndarray | None = None,
        presumed: np.ndarray | None = None) -> PairModel:
    """Fit the model of one pair of sets from the :func:`histogram` of all its pairs at or
    above ``floor``, the open records on each side and the token-confirmed pairs' scores.
    ``nonmatch``: the non-match pairs per bin counted from certain non-matches
    (:mod:`.hard_negatives`), the least the non-match curve may expect in each bin;
    ``presumed``: the pairs per bin presumed non-matches (those not mutual best and the
    namesakes among the mutual-best ones, :func:`.engine._presumed`), the least it may expect where
    ``nonmatch`` is None and too few token pairs teach ``m`` (EM).
    Without tokens, a fit whose matches are not told apart from the non-matches
    (:func:`separated`) leaves the pair nothing to link by similarity (``NO_MATCHES``)."""
    first = int(bin_of(np.array([floor]))[0])
    n = np.asarray(counts, dtype=np.float64)[first:]
    x = (lower_edges()[first:] + BIN_WIDTH / 2 - floor) * 10
    tokens = np.asarray(token_scores if token_scores is not None else [], dtype=np.float64)
    use_tokens = learns_from_tokens(tokens)
    cap = float(max(1, min(left, right)))
    matches = min(cap, max(1.0, n.sum() / 10))
    curve = _fit_curve(x, n, None)
    # presumed non-matches only without token pairs: where few records have a partner (two small
    # sources), mutual-best namesakes abound and the bound would take them for matches
    least, source = (nonmatch, COUNTED) if nonmatch is not None else \
        (presumed, PRESUMED) if presumed is not None and not use_tokens else (None, "em")
    least = None if least is None else np.asarray(least, dtype=np.float64)

    def expected(curve: np.ndarray) -> np.ndarray:
        u = np.exp(_log_curve(curve, x))
        return u if least is None else np.maximum(u, least[first:])
    # the first curve leaves out the top bin, where identical encodings of matches pile up
    spiked = None if use_tokens else SpikedBeta.start(
        n, expected(_fit_curve(x[:-1], n[:-1], None)), first, bounded=least is not None)
    match = _token_distribution(tokens) if spiked is None else spiked.bins()
    converged, iterations = False, 0
    for iterations in range(1, MAX_ITERATIONS + 1):
        seen = max(float(match[first:].sum()), 1e-12)
        m = matches * match[first:]
        u = expected(curve)
        r = m / np.maximum(m + u, 1e-300)
        updated = min(cap, max(float((n * r).sum()) / seen, 1e-6))
        curve = _fit_curve(x, n * (1 - r), curve)
        moved = 0.0
        if spiked is not None:
            spiked = spiked.refit(n * r, first)
            moved = float(np.abs(spiked.bins() - match).sum())
            match = spiked.bins()
        # the match distribution counts too: at the cap the number of matches stands still
        change = abs(updated - matches) / max(matches, 1.0) + moved
        matches = updated
        if change < TOLERANCE and iterations > 2:
            converged = True
            break
    fitted = np.zeros(BINS)
    fitted[first:] = expected(curve)
    method = TOKEN_PAIRS if use_tokens else "em"
    if not use_tokens and not separated(match, fitted, matches):
        matches, method = 0.0, NO_MATCHES
    return PairModel(floor, int(left), int(right), matches, match, fitted, method, int(len(tokens)),
                     iterations, converged, least, source)


def separated(match: np.ndarray, nonmatch: np.ndarray, matches: float) -> bool:
    """Whether the fitted matches are told apart from the non-matches: fewer non-match pairs
    above the floor than matches (their curve's shape then says little), or more than half of
    the matches scoring above the score below which ``NONMATCH_BULK`` of the non-matches lie.
    Without tokens the EM can take the heavy tail of millions of non-matches for a bump of
    matches (two sources that share nobody: all of Flanders' integration and education
    extracts gave 99,819 "matches" with a median score of 0.545, and 186 false links); such a
    fit says nothing about matches."""
    if float(nonmatch.sum()) < matches:
        return True
    bulk = int(np.searchsorted(np.cumsum(nonmatch) / float(nonmatch.sum()), NONMATCH_BULK))
    return int(np.searchsorted(np.cumsum(match), 0.5)) > bulk


def _token_distribution(scores: np.ndarray) -> np.ndarray:
    counts = histogram(scores).astype(np.float64)
    prior = _beta_bins(*_fit_beta(counts, 0, EM_START))
    return (counts + PRIOR_WEIGHT * prior) / (counts.sum() + PRIOR_WEIGHT)


@dataclass(frozen=True)
class SpikedBeta:
    """The match distribution learnt without tokens: a share ``spike`` of matches encoded
    identically (the top bin: the same identifiers give the same CLK, also under BLIP) and a
    beta for the others. One beta cannot hold both: under BLIP noise every difference in the
    identifiers re-draws the flips, so matches score either 1 or well below it (a bump around
    0.6-0.75 with ``belgian-v2``), and a beta fitted to both put all its mass at 1 and left the
    bump to the non-matches (CLK only: threshold 0.995, recall 0.86)."""

    beta: tuple[float, float]
    spike: float

    @classmethod
    def start(cls, counts: np.ndarray, curve: np.ndarray, first: int, bounded: bool = False) -> "SpikedBeta":
        """From the pairs per bin (from ``first``) above a first non-match ``curve``, in the bins
        holding at least twice what the curve expects (the bump it could not take; a misfit
        near the floor is not taken for matches), or in every bin where the curve is
        ``bounded`` by known non-matches (what lies above those is the mutual-best pairs),
        else ``EM_START``."""
        excess = np.maximum(counts - curve, 0.0) if bounded else np.where(counts >= 2 * curve, counts - curve, 0.0)
        below_top = excess[:-1]
        beta = _fit_beta(below_top, first, EM_START, last=BINS - 1) if below_top.sum() > 0 else EM_START
        return cls(beta, 0.5).refit(excess, first, beta_too=False)

    def refit(self, weights: np.ndarray, first: int, beta_too: bool = True) -> "SpikedBeta":
        """M-step from the matches' weights per bin (from ``first``)."""
        w = np.asarray(weights, dtype=np.float64)
        beta = _fit_beta(w[:-1], first, self.beta, last=BINS - 1) if beta_too and w[:-1].sum() > 0 else self.beta
        seen = max(float(self._continuous(beta)[first:].sum()), 1e-12)
        others = float(w[:-1].sum()) / seen
        spike = float(w[-1]) / max(float(w[-1]) + others, 1e-300)
        return SpikedBeta(beta, min(max(spike, 0.0), 1.0))

    def bins(self) -> np.ndarray:
        out = (1 - self.spike) * self._continuous(self.beta)
        out[-1] += self.spike
        return np.maximum(out, 1e-300)

    @staticmethod
    def _continuous(beta: tuple[float, float]) -> np.ndarray:
        p = _beta_bins(*beta)
        p[-1] = 0.0
        return p / max(float(p.sum()), 1e-300)


def _beta_bins(a: float, b: float) -> np.ndarray:
    p = np.diff(special.betainc(a, b, np.r_[lower_edges(), 1.0]))
    return np.maximum(p, 1e-300) / max(float(p.sum()), 1e-300)


def _fit_beta(weights: np.ndarray, first: int, start: tuple[float, float],
              last: int = BINS) -> tuple[float, float]:
    """Beta parameters maximising the binned likelihood of ``weights`` (per bin from
    ``first`` up to ``last``), truncated to those bins, with ``a >= 1`` (``start`` must have
    it): match scores do not pile up at 0. The truncated likelihood does not see the mass
    below ``first``; a few matches high above a high floor (FEBRL 4, 25 of 500 records in a set
    of 2,500, floor 0.745) drew the fit to ``a, b -> 0``, which put nearly all the mass at 0,
    below the floor, and EM then found no matches at all."""
    w = np.asarray(weights, dtype=np.float64)
    if w.sum() <= 0:
        return start

    def loss(theta: np.ndarray) -> float:
        a, b = np.exp(theta)
        if a < 1:
            return np.inf
        p = _beta_bins(a, b)[first:last]
        return -float(np.sum(w * np.log(p / p.sum()))) / float(w.sum())

    found = optimize.minimize(loss, np.log(start), method="Nelder-Mead",
                              options={"xatol": 1e-4, "fatol": 1e-9, "maxiter": 400})
    a, b = np.exp(found.x)
    return float(a), float(b)


def _log_curve(curve: np.ndarray, x: np.ndarray) -> np.ndarray:
    return curve[0] + curve[1] * x + curve[2] * x * x


def _fit_curve(x: np.ndarray, y: np.ndarray, start: np.ndarray | None) -> np.ndarray:
    """Poisson maximum likelihood of ``log U = a + b x + c x^2`` (b, c <= 0: falling from
    the floor) for counts ``y``."""
    total = max(float(y.sum()), 1.0)
    if start is None:
        start = np.array([np.log(total / len(x)), -1.0, 0.0])

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        log_u = np.minimum(_log_curve(theta, x), 700.0)      # a trial step may overshoot
        u = np.exp(log_u)
        g = u - y
        return (float(np.sum(u - y * log_u)) / total,
                np.array([g.sum(), (g * x).sum(), (g * x * x).sum()]) / total)

    found = optimize.minimize(loss, np.asarray(start, dtype=np.float64), jac=True,
                              method="L-BFGS-B", bounds=[(None, None), (None, 0.0), (None, 0.0)])
    return found.x
