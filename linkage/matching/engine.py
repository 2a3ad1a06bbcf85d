"""``link``: exact tokens first, then CLK similarity, then greedy clustering.

1. Check the inputs (same CLK length, same linkage fingerprint, distinct sources, tokens of
   32 bytes, unique record ids).
2. Estimate how similar unrelated records are from a random sample of cross-set pairs; its
   99th percentile is the *unrelated bound* used to veto contradicted links.
3. Link on exact tokens (:mod:`.tokens`).
4. For every pair of sets, compare the records that may still link (those whose group lacks
   the other set) and keep candidate pairs above a floor (:mod:`.candidates`), except pairs
   whose groups hold different national-register numbers (:mod:`.tokens`, rule 3).
5. Unless a threshold is given, fit a calibrated match model per pair of sets
   (:mod:`.match_model`, its non-matches counted from certain non-matches where tokens
   exist, :mod:`.hard_negatives`, presumed where there are none: the pairs that are not
   mutual best, and the mutual-best ones that their records' other candidates show to be
   namesakes, :mod:`.extremes`) and keep the candidates whose posterior match probability is at least
   ``match_model.ACCEPT`` (:func:`_match_probability`); with a threshold, the candidates
   scoring at least that. Where the tokens confirm too few pairs to learn an age rule
   (:mod:`.ages`), it is learnt from the links this fit is sure of, and the models are fitted
   again without the candidates it finds implausible (:func:`_age_rules_from_links`).
6. Merge groups greedily, best pair first, one record per set per group (:mod:`.solver`).
"""

from __future__ import annotations

import math
import numbers
import time
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from itertools import combinations
from typing import Callable, Sequence

import numpy as np

from linkage.matching import candidates as candidate_search
from linkage.matching.ages import SURE_LINKS, AgeCheck
from linkage.matching import extremes, hard_negatives, match_model
from linkage.matching.hard_negatives import NonmatchSample
from linkage.matching import kernel
from linkage.matching.errors import MatchingError
from linkage.matching.model import EncodedSet, LinkResult
from linkage.matching.records import Records
from linkage.matching.solver import solve
from linkage.matching.linkage_error import Assignment, PairLinks, assign, estimated_recall
from linkage.matching.match_model import TOKEN_PAIRS, mutual_best
from linkage.matching.tokens import link_tokens

Progress = Callable[[str, float], None]

RANDOM_PAIRS = 20_000
"""Random cross-set pairs per set pair sampled to describe unrelated records."""
UNRELATED_QUANTILE = 0.99
FLOOR_RANGE = (0.5, 0.7)
CANDIDATE_BUDGET_PER_RECORD = 10
SCORE_EPSILON = 1e-7
"""Scores are float32; a pair whose exact Dice equals the threshold must still pass."""
SURE = 0.99
"""Match probability of the candidates an age rule is learnt from where the tokens confirm too
few pairs (:func:`_age_rules_from_links`)."""
SEED = 20240601
HISTOGRAM_BIN = 0.01
"""Bin width of the score histograms in the run's quality figures."""


def link(
    sets: Sequence[EncodedSet],
    threshold: float | None = None,
    progress: Progress | None = None,
    *,
    blocking: str = "auto",
    token_veto: bool = True,
    strata: Sequence[np.ndarray | None] | None = None,
    executor: Executor | None = None,
    exhaustive_limit: int | None = None,
) -> LinkResult:
    """Link records across ``sets``; see the module docstring for the steps.

    ``blocking``: ``"auto"`` (exhaustive comparison when affordable, else Hamming LSH),
    ``"none"`` or ``"lsh"``. ``token_veto=False`` trusts every exact-token link.
    ``strata``: per set, a label per record (an origin group) or None; the estimated recall
    of each pair of sets (:mod:`.linkage_error`) is also given per label.
    ``executor``: where the partitions of exhaustive comparisons run (a Dask cluster's
    executor; default: this process), with the same result. ``exhaustive_limit``: the
    comparisons per pair of sets ``auto`` makes exhaustively before it blocks (default
    :func:`.candidates.brute_force_limit`; more when a cluster shares the work).
    """
    report = progress or (lambda stage, fraction: None)
    clock, timings = time.perf_counter(), {}

    def lap(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[name] = round(now - clock, 3)
        clock = now

    _check(sets, threshold, blocking)
    names = [s.source for s in sets]
    records = Records.from_clks([np.asarray(s.clks) for s in sets])
    set_of = np.repeat(np.arange(len(sets)), np.diff(records.offsets))
    pairs = [(p, q) for p, q in combinations(range(len(sets)), 2)
             if len(sets[p].record_ids) and len(sets[q].record_ids)]
    rng = np.random.default_rng(SEED)

    report("sampling unrelated pairs", 0.0)
    random_scores = {pq: _random_scores(records, *pq, rng) for pq in pairs}
    pooled = np.concatenate(list(random_scores.values())) if pairs else np.zeros(0)
    unrelated = float(np.quantile(pooled, UNRELATED_QUANTILE)) if len(pooled) else 0.0
    lap("preparation")

    report("exact tokens", 0.0)
    tokens = link_tokens([s.exact_tokens for s in sets], names, records,
                         unrelated if token_veto else None, [s.replaced_tokens for s in sets])
    report("exact tokens", 1.0)
    lap("exact_tokens")

    search = Search(blocking, executor, exhaustive_limit)
    births, events = [s.life.birth for s in sets], [s.life.event for s in sets]
    life = None if all(b is None for b in births) or all(e is None for e in events) else \
        (_per_record(births, records.offsets), _per_record(events, records.offsets))
    similar = _similarity(records, tokens, set_of, pairs, names, random_scores, threshold, search,
                          report, life)
    lap("similarity")

    report("match model", 0.0)
    fit = _fit(records, similar, pairs, set_of)
    if life is not None:
        aged = _age_rules_from_links(similar, pairs, fit, life)
        if aged is not None:
            similar, fit = aged, _fit(records, aged, pairs, set_of)
    ga, gb, sc = similar.ga, similar.gb, similar.scores
    best, links, assignments = fit.best, fit.links, fit.assignments
    # token-confirmed pairs are cleaner than the open records (docs/matching.md)
    models = {pq: assignments[pq].calibrated(m) if m.method == TOKEN_PAIRS else m for pq, m in fit.models.items()}
    if threshold is None:
        keep = np.zeros(len(sc), dtype=bool)
        for pq, span in zip(pairs, similar.spans):
            keep[span] = _match_probability(models[pq], assignments[pq], sc[span], best[span]) >= match_model.ACCEPT
        lowest = _lowest(sc[keep])
        chosen = 1.0 if lowest is None else lowest
        origin = "automatic"
        rationale = {"method": "model", "reason": (
            f"a calibrated match model per pair of sources links a candidate pair when it is a "
            f"match with probability at least {match_model.ACCEPT}; the lowest score linked: {chosen:.3f}")}
    else:
        chosen, origin = float(threshold), "given"
        rationale = {"method": "given", "reason": "threshold given by the caller"}
        keep = sc >= chosen - SCORE_EPSILON

    accepted = {pq: _lowest(sc[span][keep[span]]) for pq, span in zip(pairs, similar.spans)}
    decided = {pq: "threshold" if threshold is not None else
               "record model" if models[pq].nonmatch_known else "pair model" for pq in pairs}
    lap("match_model")

    report("clustering", 0.0)
    solution = solve(tokens.cluster, set_of, (ga[keep], gb[keep], sc[keep]), records,
                     min(unrelated, chosen), similar.register, _plausible(similar.ages, set_of))
    group_ids = _number_groups(solution.cluster)
    report("clustering", 1.0)
    lap("clustering")
    estimates = {pq: estimated_recall(assignments[pq], links[pq], solution.cluster, names,
                                      strata or [], records.offsets) for pq in models}
    lap("linkage_error")

    quality = {
        "threshold": {"value": chosen, "origin": origin, **rationale},
        "unrelated_bound": {"value": round(unrelated, 4), "quantile": UNRELATED_QUANTILE,
                            "sampled_pairs": int(len(pooled))},
        "sets": _set_summary(names, sets, tokens.stats, group_ids, set_of),
        "pairs": _pair_summary(names, pairs, similar.reports, models, estimates, group_ids,
                               tokens.cluster, set_of, accepted, decided),
        "groups": _group_sizes(group_ids),
        "token_groups": tokens.stats["token_groups"],
        "token_vetoed_records": tokens.stats["vetoed_records"],
        "replaced_numbers_read": tokens.stats["replaced_numbers_read"],
        "solver": solution.stats,
        "candidate_score_histogram": _score_histogram(sc, similar.floor),
        "mutual_best_score_histogram": _score_histogram(sc[best], similar.floor),
        "seconds": timings,
    }
    split = [group_ids[records.offsets[k]:records.offsets[k + 1]] for k in range(len(sets))]
    return LinkResult(split, chosen, origin, quality)


@dataclass
class _Similar:
    """Candidate pairs of all set pairs, in global record ids, and what the threshold needs."""

    ga: np.ndarray
    gb: np.ndarray
    scores: np.ndarray
    floor: float
    """The highest candidate floor used (scores below it are not all known)."""
    reports: dict
    register: np.ndarray
    """Per starting group (global id of its smallest record), its register number or -1."""
    links: list[PairLinks]
    ages: dict[tuple[int, int], AgeCheck]
    """Per set pair with an age rule, the rule (:mod:`.ages`)."""
    spans: list[slice]
    """Per set pair, its candidates and open records, and where its candidates lie in the
    concatenated arrays above."""
    nonmatches: dict[tuple[int, int], NonmatchSample | None]
    """Per set pair, its certain non-matches (:mod:`.hard_negatives`), None without tokens."""


@dataclass(frozen=True)
class Search:
    """How candidates are searched: ``blocking`` (auto, none, lsh), where partitions run, and
    the exhaustive budget per pair of sets (``None``: the kernel's default)."""

    blocking: str
    executor: Executor | None = None
    exhaustive_limit: int | None = None


def _similarity(records, tokens, set_of, pairs, names, random_scores, threshold, search: Search,
                report: Progress, life: tuple[np.ndarray, np.ndarray] | None) -> _Similar:
    """Compare, for each set pair, the records that may still link (see the module docstring),
    and drop the candidates whose age at an event is implausible (:mod:`.ages`; ``life``:
    per record, the year of birth and of the event, NaN where unknown; None when no set has
    one or the other)."""
    has = np.zeros((len(names), records.total), dtype=bool)
    for k in range(len(names)):
        has[k, tokens.cluster[set_of == k]] = True
    register = np.full(records.total, -1, dtype=np.int64)
    np.maximum.at(register, tokens.cluster, tokens.register)
    group_register = register[tokens.cluster]
    """Per record, the register number its group holds (-1: none): two differ, no link."""

    found, reports, floors, links, spans, start, rules, known = [], {}, [], [], [], 0, {}, {}
    for step, (p, q) in enumerate(pairs):
        report(f"similarity {names[p]}-{names[q]}", step / len(pairs))
        left = _open_records(records, tokens, has, p, q)
        right = _open_records(records, tokens, has, q, p)
        floor = _floor(random_scores[(p, q)], len(left), len(right), threshold)
        cands, compared = _search(records, tokens, has, p, q, left, right, floor, search, group_register)
        counted = known[(p, q)] = _hard_negatives(records, tokens, has, (p, q), (left, right), cands.floor,
                                                  search, compared)
        ages = None if life is None else AgeCheck.learn(*life, _confirmed(tokens.cluster, set_of, p, q))
        age_rules: list[dict] = []
        if ages is not None and ages.rules:
            rules[(p, q)] = ages
            plausible, age_rules = ages.keep(records.offsets[p] + cands.ia, records.offsets[q] + cands.ib)
        if age_rules and not plausible.all():
            cands = replace(cands, ia=cands.ia[plausible], ib=cands.ib[plausible],
                            scores=cands.scores[plausible])
        floors.append(cands.floor)
        found.append((records.offsets[p] + cands.ia, records.offsets[q] + cands.ib, cands.scores))
        links.append(PairLinks(p, q, *found[-1], records.offsets[p] + left, records.offsets[q] + right,
                               tokens.cluster, tokens.excluded, set_of, cands.histogram, tokens.tokened))
        spans.append(slice(start, start + len(cands.scores)))
        start = spans[-1].stop
        reports[(p, q)] = {
            "method": cands.method, "left": int(len(left)), "right": int(len(right)),
            "scored": int(cands.scored), "floor": cands.floor, "above_floor": int(cands.above_floor),
            "best_per_record": candidate_search.BEST_PER_RECORD, "candidates": len(cands.scores),
            "register_conflicts": int(cands.vetoed),
            **({"age_rules": age_rules} if age_rules else {}),
            **({"certain_nonmatches": counted.summary()} if counted is not None else {}),
        }
    report("similarity", 1.0)
    return _Similar(
        np.concatenate([f[0] for f in found]) if found else np.zeros(0, np.int64),
        np.concatenate([f[1] for f in found]) if found else np.zeros(0, np.int64),
        np.concatenate([f[2] for f in found]) if found else np.zeros(0, np.float32),
        max(floors, default=FLOOR_RANGE[0]),
        reports,
        register,
        links,
        rules,
        spans,
        known,
    )


def _lowest(scores: np.ndarray) -> float | None:
    """The lowest of ``scores`` rounded down to 3 decimals (as printed), None when there is none."""
    return math.floor(float(scores.min()) * 1e3) / 1e3 if len(scores) else None


def _match_probability(model: match_model.PairModel, assignment: Assignment, scores: np.ndarray,
                       mutual: np.ndarray) -> np.ndarray:
    """Per candidate of a pair of sets, the probability that it is a match; a candidate is
    linked where it reaches ``ACCEPT``. Where the non-matches were counted (certain
    non-matches) or presumed (:func:`_presumed`, without token pairs), that
    is the record-level model's (:func:`.linkage_error.assign`: given the record's other
    candidates and how many look-alikes it has), and 0 where the pair model found the
    candidates to be non-matches only (``NO_MATCHES``: two sources that share nobody); else
    the pair model's, by score and mutual best."""
    if model.method == match_model.NO_MATCHES:
        return np.zeros(len(scores))
    if model.nonmatch_known:
        return assignment.weight
    return model.posterior(scores, mutual)


@dataclass(frozen=True)
class _Fit:
    """The match models of every pair of sets, fitted on their candidates."""

    best: np.ndarray
    """Per candidate (all pairs of sets, concatenated), whether it is mutual best."""
    links: dict[tuple[int, int], PairLinks]
    models: dict[tuple[int, int], match_model.PairModel]
    assignments: dict[tuple[int, int], Assignment]


def _fit(records: Records, similar: _Similar, pairs: list[tuple[int, int]], set_of: np.ndarray) -> _Fit:
    """The pair model and the record-level model of each pair of sets (:func:`_fit_model`,
    :func:`.linkage_error.assign`)."""
    best = mutual_best(similar.ga, similar.gb, similar.scores, set_of)
    links = dict(zip(pairs, similar.links))
    models = {pq: _fit_model(records, links[pq], similar.reports[pq], similar.nonmatches[pq], best[span])
              for pq, span in zip(pairs, similar.spans)}
    return _Fit(best, links, models, {pq: assign(models[pq], links[pq]) for pq in pairs})


def _age_rules_from_links(similar: _Similar, pairs: list[tuple[int, int]], fit: _Fit,
                          life: tuple[np.ndarray, np.ndarray]) -> _Similar | None:
    """Where the tokens confirmed too few pairs to learn an age rule (CLK only), learn it
    from the candidates the first fit is sure of (match probability at least ``SURE``) and
    drop the implausible candidates; None where no pair gains a rule.

    Without tokens, namesakes of another generation compete with a record's partner: a pupil
    with a grandparent's name, a newcomer with a toddler's. Their ages at the event are ones
    the sure links never show (held-out rates, development seed, 200k, a provider's plain
    schema CLK only: F1 ksz-education 0.9930 -> 0.9959, ksz-vdab 0.9883 -> 0.9904)."""
    masks, learnt, reports = [], {}, dict(similar.reports)
    for pq, span in zip(pairs, similar.spans):
        mask = np.ones(span.stop - span.start, dtype=bool)
        if pq not in similar.ages:
            scores = similar.scores[span]
            sure = _match_probability(fit.models[pq], fit.assignments[pq], scores, fit.best[span]) >= SURE
            ga, gb = similar.ga[span], similar.gb[span]
            ages = AgeCheck.learn(*life, (ga[sure], gb[sure]), SURE_LINKS)
            if ages.rules:
                mask, rules = ages.keep(ga, gb)
                learnt[pq] = ages
                reports[pq] = {**reports[pq], "age_rules": rules}
        masks.append(mask)
    if not learnt:
        return None
    spans, start = [], 0
    for mask in masks:
        spans.append(slice(start, start + int(mask.sum())))
        start = spans[-1].stop
    kept = np.concatenate(masks)
    pair_links = [replace(one, ga=one.ga[mask], gb=one.gb[mask], scores=one.scores[mask])
                  for one, mask in zip(similar.links, masks)]
    return replace(similar, ga=similar.ga[kept], gb=similar.gb[kept], scores=similar.scores[kept],
                   links=pair_links, spans=spans, reports=reports, ages={**similar.ages, **learnt})


def _hard_negatives(records: Records, tokens, has: np.ndarray, pair: tuple[int, int],
                    opened: tuple[np.ndarray, np.ndarray], floor: float, search: Search,
                    compared: int) -> NonmatchSample | None:
    """The non-match curve of a pair of sets from certain non-matches (:mod:`.hard_negatives`):
    a sample of the records the token join linked, of the side with fewer open records,
    against the other side's open records. None without enough linked records."""
    side = 0 if len(opened[0]) <= len(opened[1]) else 1
    mine, other = pair[side], pair[1 - side]
    lo, hi = records.offsets[mine], records.offsets[mine + 1]
    linked = np.flatnonzero(~tokens.excluded[lo:hi] & has[other, tokens.cluster[lo:hi]])
    chosen = hard_negatives.sample(linked, len(opened[side]))
    if chosen is None or not len(opened[1 - side]) or not compared:
        return None
    found = candidate_search.find(_rows(records.words[mine], chosen), _rows(records.words[other], opened[1 - side]),
                                  records.clk_bits, floor, search.blocking, executor=search.executor,
                                  exhaustive_limit=search.exhaustive_limit)
    first = int(match_model.bin_of(np.array([floor]))[0])
    return hard_negatives.nonmatch_sample(found.histogram, first, len(chosen), len(opened[1 - side]), compared)


def _fit_model(records: Records, links: PairLinks, comparison: dict,
               known: NonmatchSample | None, mutual: np.ndarray) -> match_model.PairModel:
    """The match model of one pair of sets, from its candidates, the pairs its exact tokens
    confirm and, where counted, its certain non-matches; where not, the non-matches presumed
    (:func:`.match_model.fit`, :func:`_presumed`; ``mutual``: per candidate, whether it is
    mutual best)."""
    token_scores = records.scores(*_confirmed(links.by_token, links.set_of, links.p, links.q))
    presumed = None if known is not None or match_model.learns_from_tokens(token_scores) else \
        _presumed(links, comparison, mutual)
    return match_model.fit(links.histogram, comparison["floor"], comparison["left"], comparison["right"],
                           token_scores, None if known is None else known.expected, presumed)


def _presumed(links: PairLinks, comparison: dict, mutual: np.ndarray) -> np.ndarray:
    """Per score bin, the pairs above the floor that may be presumed non-matches: those that
    are not mutual best, and the mutual-best pairs that are a record's best candidate (of the
    side with fewer open records) with the probability that this is only the record's largest
    unrelated score (:mod:`.extremes`): where two sets share few persons, most mutual-best
    pairs are such namesakes."""
    scores = np.asarray(links.scores)
    side = 0 if comparison["left"] <= comparison["right"] else 1
    best = extremes.BestCandidates.of(links.ga if side == 0 else links.gb, scores, comparison["floor"])
    others = np.maximum(links.histogram - match_model.histogram(scores[mutual]), 0)
    return others + best.nonmatches(mutual[best.candidate])


def _confirmed(by_token: np.ndarray, set_of: np.ndarray, p: int, q: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs the exact tokens confirm between sets ``p`` and ``q`` (global ids)."""
    in_p, in_q = np.flatnonzero(set_of == p), np.flatnonzero(set_of == q)
    holder = np.full(len(by_token), -1, dtype=np.int64)      # per token group, its record of p
    holder[by_token[in_p]] = in_p
    partner = holder[by_token[in_q]]
    confirmed = partner >= 0
    return partner[confirmed], in_q[confirmed]


def _plausible(rules: dict[tuple[int, int], AgeCheck], set_of: np.ndarray):
    """Whether two records may be one person by the age rule of their sets (None: no rule)."""
    if not rules:
        return None

    def plausible(x: int, y: int) -> bool:
        sx, sy = int(set_of[x]), int(set_of[y])
        rule = rules.get((sx, sy)) if sx < sy else rules.get((sy, sx))
        return rule is None or (rule.allows(x, y) if sx < sy else rule.allows(y, x))
    return plausible


def _per_record(columns: Sequence[np.ndarray | None], offsets: np.ndarray) -> np.ndarray:
    """One value per record of every set (global ids): a set's column, or NaN without one."""
    out = np.full(int(offsets[-1]), np.nan)
    for k, column in enumerate(columns):
        if column is not None:
            out[offsets[k]:offsets[k + 1]] = column
    return out


def _check(sets: Sequence[EncodedSet], threshold: float | None, blocking: str) -> None:
    if threshold is not None and not (isinstance(threshold, numbers.Real)
                                      and math.isfinite(threshold) and 0 < threshold <= 1):
        raise MatchingError(f"threshold {threshold!r} is outside (0, 1]; give a Dice score such as 0.8")
    if blocking not in ("auto", "none", "lsh"):
        raise MatchingError(f"blocking {blocking!r} is not one of auto, none, lsh")
    if len(sets) < 2:
        raise MatchingError("linking needs at least two encoded sets")
    names = [s.source for s in sets]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise MatchingError(
            f"source {duplicated[0]!r} is given more than once; link each source once "
            "(records of one source are never linked to each other)"
        )
    widths = {s.source: (np.asarray(s.clks).shape[1] * 8 if np.ndim(s.clks) == 2 else None) for s in sets}
    for s in sets:
        clks = np.asarray(s.clks)
        if clks.ndim != 2 or clks.dtype != np.uint8:
            raise MatchingError(f"{s.source}: CLKs must be an (records, bytes) uint8 array")
        if not (len(s.record_ids) == len(s.exact_tokens) == clks.shape[0]):
            raise MatchingError(f"{s.source}: record ids, CLKs and exact tokens differ in number")
        if s.replaced_tokens is not None and len(s.replaced_tokens) != clks.shape[0]:
            raise MatchingError(f"{s.source}: record ids and replaced-number tokens differ in number")
        if len(set(s.record_ids)) != len(s.record_ids):
            row = _first_duplicate(s.record_ids)
            raise MatchingError(f"{s.source}: row {row + 1}: record id repeats an earlier row; "
                                "record ids must be unique within a source")
    if len(set(widths.values())) > 1:
        listing = ", ".join(f"{name} {bits} bits" for name, bits in widths.items())
        raise MatchingError(f"CLKs differ in length ({listing}); encode all sources with the same schema")
    prints = {s.source: s.fingerprint for s in sets if s.fingerprint}
    if len(set(prints.values())) > 1 or (prints and len(prints) < len(sets)):
        listing = ", ".join(f"{s.source} {s.fingerprint or '(none)'}" for s in sets)
        raise MatchingError(
            f"the inputs were encoded with different linkage configurations ({listing}); "
            "encode every source with the same schema, secret and normalisation"
        )


def _first_duplicate(ids: Sequence[str]) -> int:
    seen = set()
    for row, rid in enumerate(ids):
        if rid in seen:
            return row
        seen.add(rid)
    return -1


def _random_scores(records: Records, p: int, q: int, rng: np.random.Generator) -> np.ndarray:
    n_p, n_q = len(records.words[p]), len(records.words[q])
    count = min(RANDOM_PAIRS, n_p * n_q)
    ia = rng.integers(0, n_p, count)
    ib = rng.integers(0, n_q, count)
    return records.scores(ia + records.offsets[p], ib + records.offsets[q])


def _search(records: Records, tokens, has: np.ndarray, p: int, q: int, left: np.ndarray,
            right: np.ndarray, floor: float, search: Search, group_register: np.ndarray
            ) -> tuple[candidate_search.Candidates, int]:
    """Candidates between the open records of sets ``p`` and ``q`` (local ids in the result),
    leaving out the pairs whose groups hold different register numbers (``group_register``),
    and the number of pairs of records compared.

    Two records whose groups both hold a record of the same third set are never compared:
    linking them would put two records of that set in one cluster, which the solver refuses
    anyway. So the records of each side are split by which third sets their groups hold, and
    each part of ``left`` is compared only with the part of ``right`` it shares none with
    (a person already joined to the register by a token is not compared again, in another
    pair of sets, with someone else the register already holds)."""
    third = [k for k in range(len(has)) if k not in (p, q)]

    def holds(local: np.ndarray, offset: int) -> np.ndarray:
        groups = tokens.cluster[offset + local]
        return sum((has[k, groups].astype(np.int64) << bit) for bit, k in enumerate(third)) if third \
            else np.zeros(len(local), dtype=np.int64)

    held_left, held_right = holds(left, records.offsets[p]), holds(right, records.offsets[q])
    parts, compared = [], 0
    for mask in np.unique(held_left):
        a, b = left[held_left == mask], right[(held_right & mask) == 0]
        compared += len(a) * len(b)
        if len(a) and len(b):
            veto = candidate_search.RegisterVeto(group_register[records.offsets[p] + a],
                                                 group_register[records.offsets[q] + b])
            found = candidate_search.find(_rows(records.words[p], a), _rows(records.words[q], b),
                                          records.clk_bits, floor, search.blocking, veto=veto,
                                          executor=search.executor, exhaustive_limit=search.exhaustive_limit)
            parts.append((a[found.ia], b[found.ib], found))
    if not parts:
        return candidate_search.Candidates(*kernel.empty_pairs(), floor, "all pairs", 0,
                                           np.zeros(match_model.BINS, dtype=np.int64), 0), 0
    methods = {found.method for _, _, found in parts}
    return candidate_search.Candidates(
        np.concatenate([ia for ia, _, _ in parts]),
        np.concatenate([ib for _, ib, _ in parts]),
        np.concatenate([found.scores for _, _, found in parts]),
        floor, min(methods, key=candidate_search.METHODS.index), sum(found.scored for _, _, found in parts),
        np.sum([found.histogram for _, _, found in parts], axis=0), sum(found.above_floor for _, _, found in parts),
        sum(found.vetoed for _, _, found in parts),
    ), compared


def _open_records(records: Records, tokens, has: np.ndarray, p: int, q: int) -> np.ndarray:
    """Local ids of set ``p`` that may still link to set ``q``: not set aside as duplicates
    and in a group without a record of ``q``."""
    lo, hi = records.offsets[p], records.offsets[p + 1]
    open_ = ~tokens.excluded[lo:hi] & ~has[q, tokens.cluster[lo:hi]]
    return np.flatnonzero(open_).astype(np.int64)


def _rows(words: np.ndarray, local: np.ndarray) -> np.ndarray:
    return words if len(local) == len(words) else np.ascontiguousarray(words[local])


def _floor(random_scores: np.ndarray, n_left: int, n_right: int, threshold: float | None) -> float:
    """Lowest score kept as a candidate: the random-pair quantile above which about
    ``CANDIDATE_BUDGET_PER_RECORD`` unrelated pairs per record are expected, within FLOOR_RANGE,
    whose top is raised to the unrelated pairs' ``UNRELATED_QUANTILE`` where that lies higher.

    Dense encodings put most unrelated pairs above 0.7 (a schema with more bits per n-gram:
    FEBRL 4 with 1.3x the bits of clkhash's example, 77 % of the bits set). A floor of 0.7 then
    lies within the unrelated pairs, whose count no longer falls from the floor up as the
    non-match curve assumes, and the match model found no matches at all: nothing was linked."""
    comparisons = max(1, n_left * n_right)
    budget = CANDIDATE_BUDGET_PER_RECORD * (n_left + n_right)
    floor = FLOOR_RANGE[0]
    top = FLOOR_RANGE[1]
    if len(random_scores):
        top = max(top, float(np.quantile(random_scores, UNRELATED_QUANTILE)))
        if budget < comparisons:
            floor = float(np.quantile(random_scores, 1 - budget / comparisons))
    floor = min(max(floor, FLOOR_RANGE[0]), top)
    if threshold is not None:
        floor = min(floor, float(threshold))
    return round(floor, 3)


def _number_groups(cluster: np.ndarray) -> np.ndarray:
    """Group ids 0, 1, ... in order of each group's first record."""
    if len(cluster) == 0:
        return np.zeros(0, dtype=np.int64)
    _, first, inverse = np.unique(cluster, return_index=True, return_inverse=True)
    rank = np.empty(len(first), dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    return rank[inverse.reshape(-1)]


def _set_summary(names, sets, token_stats, group_ids, set_of) -> list[dict]:
    sizes = np.bincount(group_ids) if len(group_ids) else np.zeros(0, np.int64)
    linked = sizes[group_ids] > 1
    out = []
    for k, name in enumerate(names):
        token = token_stats["per_set"][name]
        out.append({
            "source": name,
            "records": len(sets[k].record_ids),
            "with_token": token["with_token"],
            "duplicate_tokens_set_aside": token["duplicates_set_aside"],
            "token_vetoed": token["vetoed"],
            "linked": int(np.sum(linked[set_of == k])),
        })
    return out


def _pair_summary(names, pairs, pair_reports, models, estimates, group_ids, token_cluster,
                  set_of, accepted, decided) -> list[dict]:
    """Per set pair: groups holding both sets, split by how the two records were joined, the
    match model, who decided its links and the lowest score accepted, and the recall the
    model estimates."""
    groups = int(group_ids.max()) + 1 if len(group_ids) else 0
    member = np.full((len(names), groups), -1, dtype=np.int64)
    member[set_of, group_ids] = np.arange(len(group_ids))
    out = []
    for p, q in pairs:
        both = (member[p] >= 0) & (member[q] >= 0)
        same_token = token_cluster[member[p][both]] == token_cluster[member[q][both]]
        out.append({
            "sources": [names[p], names[q]],
            "linked": int(both.sum()),
            "exact": int(same_token.sum()),
            "similarity": int((~same_token).sum()),
            "comparison": pair_reports[(p, q)],
            **({"model": {**models[(p, q)].summary(), "links_decided_by": decided[(p, q)],
                          "lowest_score_accepted": accepted[(p, q)]},
                "estimated_recall": estimates[(p, q)]}
               if (p, q) in models else {}),
        })
    return out


def _group_sizes(group_ids: np.ndarray) -> dict:
    sizes = np.bincount(group_ids) if len(group_ids) else np.zeros(0, np.int64)
    by_size = np.bincount(sizes)
    return {"total": int(len(sizes)),
            "by_size": {str(size): int(n) for size, n in enumerate(by_size) if size and n}}


def _score_histogram(scores: np.ndarray, floor: float) -> dict:
    """Counts in bins of ``HISTOGRAM_BIN`` from the bin holding ``floor`` up to 1."""
    first = int(np.floor(floor / HISTOGRAM_BIN + 1e-9))
    bins = int(round(1 / HISTOGRAM_BIN)) - first
    index = np.floor(np.asarray(scores[scores >= floor], dtype=float) / HISTOGRAM_BIN + 1e-9)
    counts = np.bincount(np.clip(index.astype(int) - first, 0, bins - 1), minlength=bins)
    return {"start": round(first * HISTOGRAM_BIN, 4), "bin_width": HISTOGRAM_BIN,
            "counts": counts.tolist()}
