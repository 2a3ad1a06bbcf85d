"""Age at an event: a plausibility rule learnt from the pairs the national numbers confirm.

One source knows the person's year of birth (KSZ, from the register); another dealt with the
person at a known date (a civic-integration contract, a job-seeker registration, a school
year). Together they say how old the person was then. The pairs the exact tokens confirm show
which ages occur (newcomers sign an integration contract as adults, pupils are 2 to 25), so a
candidate pair whose age lies beyond nearly all of them by more than a margin is a namesake (a
toddler with the same name and a 1 January birth date, say) and does not link. The range is
learnt per pair of sets and per run, never fixed. Where the tokens confirm too few pairs
(CLK only), it is learnt from the links the match model is sure of in a first fit
(``engine._age_rules_from_links``); with too few of those either there is no rule. Which
attribute plays which part is declared with the source (``role`` in ``linkage/sources/data``);
a CLK file without payload has no ages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from linkage.sources.attributes import BIRTH_YEAR, EVENT, SourceSpec

MIN_CONFIRMED = 100
"""Confirmed pairs with both years needed to learn a range."""
TAIL = 0.001
"""The share of confirmed pairs the range may leave out on each side (a wrong number that
happens to confirm a pair gives any age)."""
TOKEN_PAIRS = "pairs the national numbers confirm"
SURE_LINKS = "links the match model is sure of"
"""What a range was learnt from: the confirmed pairs, or, where the tokens confirm too few
(CLK only), the candidates the first fit of the match model links with near certainty."""
MARGIN = 2.0
"""Years beyond the range still plausible: a year of birth against a date is a year apart
either way, and the confirmed pairs are a sample."""


@dataclass(frozen=True)
class LifeYears:
    """Per record of one set, its year of birth and the (fractional) year of its event, NaN
    where unknown; ``None`` where the set does not have the attribute."""

    birth: np.ndarray | None = None
    event: np.ndarray | None = None

    @classmethod
    def from_payload(cls, spec: SourceSpec, payload: Mapping[str, Sequence | pa.Array | pa.ChunkedArray]
                     ) -> LifeYears:
        """The years of the attributes ``spec`` gives the roles, from payload columns (lists
        of values or Arrow arrays); an absent column gives ``None``."""
        found = []
        for role in (BIRTH_YEAR, EVENT):
            attribute = spec.with_role(role)
            column = payload.get(attribute.name) if attribute is not None else None
            found.append(None if column is None else years(column))
        return cls(*found)


def years(values: Sequence | pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Whole years (ints) or dates as fractional years (1 July 2020 is about 2020.5), NaN
    for a missing value."""
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(list(values))
    if pa.types.is_date(array.type):
        days = array.cast(pa.date32()).to_numpy(zero_copy_only=False).astype("datetime64[D]")
        year = days.astype("datetime64[Y]")
        fraction = (days - year.astype("datetime64[D]")).astype(float) / 365.25
        out = year.astype(float) + 1970.0 + fraction
        out[np.isnat(days)] = np.nan
        return out
    if pa.types.is_null(array.type):
        return np.full(len(array), np.nan)
    return array.cast(pa.float64()).to_numpy(zero_copy_only=False)


@dataclass(frozen=True)
class AgeRange:
    """The ages at the event that the confirmed pairs show, widened by ``MARGIN``."""

    low: float
    high: float
    confirmed: int
    learnt_from: str = TOKEN_PAIRS

    def plausible(self, ages):
        """Per age, whether it lies in the range (an unknown age always does)."""
        return np.logical_not((ages < self.low) | (ages > self.high))

    def report(self, removed: int) -> dict:
        return {"low": round(self.low, 1), "high": round(self.high, 1), "learnt_from": self.learnt_from,
                "confirmed_pairs": self.confirmed, "candidates_removed": removed}


def learn(ages: np.ndarray, learnt_from: str = TOKEN_PAIRS) -> AgeRange | None:
    """The range of the confirmed pairs' ages, or None when too few are known."""
    known = ages[~np.isnan(ages)]
    if len(known) < MIN_CONFIRMED:
        return None
    low, high = np.quantile(known, [TAIL, 1 - TAIL])
    return AgeRange(math.floor(low) - MARGIN, math.ceil(high) + MARGIN, int(len(known)), learnt_from)


@dataclass(frozen=True)
class AgeCheck:
    """The age rules of one pair of sets: per direction that the sets allow (the year of
    birth from the first set and the event from the second, or the other way round), the
    range learnt from the confirmed pairs."""

    birth: np.ndarray
    event: np.ndarray
    """Per record of every set (global ids), NaN where unknown."""
    rules: tuple[tuple[bool, AgeRange], ...]
    """(whether the year of birth comes from the second set, the range)."""

    @classmethod
    def learn(cls, birth: np.ndarray, event: np.ndarray, confirmed: tuple[np.ndarray, np.ndarray],
              learnt_from: str = TOKEN_PAIRS) -> AgeCheck:
        """``confirmed``: the pairs the tokens confirm, or ``learnt_from`` says what they
        are (records of the first set, of the second)."""
        rules = []
        for swapped in (False, True):
            rule = learn(_ages(birth, event, *confirmed, swapped), learnt_from)
            if rule is not None:
                rules.append((swapped, rule))
        return cls(birth, event, tuple(rules))

    def keep(self, ga: np.ndarray, gb: np.ndarray) -> tuple[np.ndarray, list[dict]]:
        """Per candidate pair (records of the first set, of the second), whether its ages are
        plausible; and a report per rule."""
        keep = np.ones(len(ga), dtype=bool)
        reports = []
        for swapped, rule in self.rules:
            ok = rule.plausible(_ages(self.birth, self.event, ga, gb, swapped))
            reports.append(rule.report(int((~ok).sum())))
            keep &= ok
        return keep, reports


    def allows(self, first: int, second: int) -> bool:
        """Whether one pair (a record of the first set, one of the second) is plausible."""
        return all(bool(rule.plausible(_ages(self.birth, self.event, first, second, swapped)))
                   for swapped, rule in self.rules)


def _ages(birth: np.ndarray, event: np.ndarray, first, second, swapped: bool):
    return event[first] - birth[second] if swapped else event[second] - birth[first]
