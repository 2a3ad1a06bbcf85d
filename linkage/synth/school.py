"""School careers: the last school year of each pupil in Flemish primary or secondary
education (the ``education`` source) and what it implies for adult attainment.

Grades follow the birth year: primary grade 1 in the school year a child turns 6, secondary
grade 1 at 12. A delay (zittenblijven, late entry) shifts the grade; delays are more frequent
for pupils of foreign origin and for late arrivals (domain research 4.4: about 12 % of primary
and 23 % of secondary pupils are behind). Early leavers leave secondary education without a
qualification at 18 or later; their share rises with delay and origin (about 8-12 %).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.synth.population import (EDU_HIGH, EDU_LOW, EDU_MEDIUM, GEN_FIRST, GEN_NONE,
                                      GEN_SECOND, LAST_YEAR, Population)

FIRST_SCHOOL_YEAR = 2015
"""The extract holds pupils whose last school year is 2015-16 or later."""


@dataclass
class SchoolRecords:
    person: np.ndarray        # person index of each pupil
    school_year: np.ndarray   # int, start year
    level: np.ndarray         # "primary" / "secondary"
    track: np.ndarray
    delay: np.ndarray         # int, -1 = not measured (okan)
    early_leaver: np.ndarray  # "1", "0" or "" (still in school, or primary)


def _p(generation: np.ndarray, arrival_age: np.ndarray, belgian: float, second: float,
       first: float, late: float, late_from: int) -> np.ndarray:
    p = np.where(generation == GEN_NONE, belgian, np.where(generation == GEN_SECOND, second, first))
    return np.where((generation == GEN_FIRST) & (arrival_age >= late_from), late, p)


def build_school(pop: Population, coverage: float, rng: np.random.Generator) -> SchoolRecords:
    by = pop.birth_year
    arrival_age = pop.arrival_year - by
    candidates = np.flatnonzero((by >= LAST_YEAR - 18 - 12) & (by <= LAST_YEAR - 6) & (arrival_age < 18))
    n = len(candidates)
    gen, arr, byc = pop.generation[candidates], arrival_age[candidates], by[candidates]

    delay_primary = (rng.random(n) < _p(gen, arr, 0.065, 0.13, 0.18, 0.40, 6)).astype(np.int64)
    delay_primary += (delay_primary > 0) & (rng.random(n) < 0.15)
    extra = (rng.random(n) < _p(gen, arr, 0.09, 0.16, 0.22, 0.50, 12)).astype(np.int64)
    extra += (extra > 0) & (rng.random(n) < 0.2)
    delay = np.minimum(delay_primary + extra, 4)

    p_early = _p(gen, arr, 0.055, 0.12, 0.18, 0.30, 12) * np.where(delay >= 2, 2.2, np.where(delay == 1, 1.3, 0.7))
    early = rng.random(n) < np.clip(p_early, 0, 0.9)
    finish = byc + 17 + delay                              # school year of grade 6 secondary
    leave = np.where(early, byc + 17 + (rng.random(n) * (delay + 1)).astype(np.int64), finish)
    in_school = leave >= LAST_YEAR
    school_year = np.where(in_school, LAST_YEAR, leave)

    grade_primary = school_year - byc - 5 - delay_primary
    grade_secondary = school_year - byc - 11 - delay
    primary = in_school & (grade_secondary < 1)   # includes repeating the sixth grade
    level = np.where(primary, "primary", "secondary").astype(object)

    # newly arrived pupils (12-17) in their reception year: okan, delay not measured
    okan = (gen == GEN_FIRST) & (arr >= 12) & (pop.arrival_year[candidates] >= LAST_YEAR) & in_school
    level[okan] = "secondary"

    track = _tracks(rng, delay, early, gen)
    track[primary] = "primary"
    track[okan] = "okan"
    delay_out = np.where(primary & (grade_primary <= 6), delay_primary, delay)
    delay_out[okan] = -1
    early_out = np.where(in_school | primary, "", np.where(early, "1", "0")).astype(object)

    keep = ((school_year >= FIRST_SCHOOL_YEAR) & (school_year - byc >= 6)
            & ((grade_primary >= 1) | ~primary) & (primary | (grade_secondary >= 1) | okan)
            & (rng.random(n) < coverage))
    _adult_attainment(pop, candidates, early, in_school, rng)
    return SchoolRecords(candidates[keep], school_year[keep], level[keep], track[keep],
                         delay_out[keep], early_out[keep])


def _tracks(rng: np.random.Generator, delay: np.ndarray, early: np.ndarray,
            generation: np.ndarray) -> np.ndarray:
    names = np.array(["ASO", "TSO", "KSO", "BSO", "dbso"], dtype=object)
    by_delay = np.array([[0.50, 0.30, 0.03, 0.15, 0.02],    # on time
                         [0.20, 0.35, 0.03, 0.35, 0.07],    # one year behind
                         [0.05, 0.25, 0.02, 0.48, 0.20]])   # two or more
    probs = by_delay[np.minimum(delay, 2)]
    probs[early] = (0.03, 0.17, 0.02, 0.48, 0.30)
    probs[generation != GEN_NONE] *= (0.8, 1.0, 1.0, 1.3, 1.2)
    cum = np.cumsum(probs, axis=1)
    pick = (cum < (rng.random(len(delay)) * cum[:, -1])[:, None]).sum(axis=1)
    return names[pick]


def _adult_attainment(pop: Population, persons: np.ndarray, early: np.ndarray,
                      in_school: np.ndarray, rng: np.random.Generator) -> None:
    """Young adults' attainment follows their school career: early leavers are low
    educated; qualified leavers are medium, or high once old enough for a degree."""
    done = ~in_school
    age = pop.age[persons]
    p_high = np.where(pop.generation[persons] == GEN_NONE, 0.5, 0.33)
    level = np.where(early, EDU_LOW, np.where((age >= 22) & (rng.random(len(persons)) < p_high),
                                              EDU_HIGH, EDU_MEDIUM))
    pop.education[persons[done]] = level[done]
