"""Labour-market careers: the KSZ socio-economic position on 31 December of each SEP year and
the VDAB job-seeker registration that follows from it.

Each person has a latent propensity to work that persists from year to year (a Gaussian
AR(1) process thresholded at the person's employment probability), so the yearly positions
form careers and the VDAB registrations and their outflow agree with the KSZ positions.
Employment probabilities are calibrated on the origin gaps of domain research 5.3 (Belgian
origin about 80 % at 20-64, Maghreb and sub-Saharan origin in the mid-50s, recent refugees
lower, women of some origins lower).

The three-digit codes are those of ``linkage.sources.SEP_CODES``; the generator gives them
this meaning [I] (only the first digit matters for the indicators): 111 wage earner, 112 wage
earner and self-employed, 121-123 self-employed, 131-133 helper; 211 job seeker after
full-time work, 212 after part-time work, 213 after studies, 221 exempted job seeker, 222 job
seeker without unemployment benefit; 311 social integration income (leefloon), 321 pension,
322 unemployment with company supplement (SWT), 331 incapacity for work, 332 disability
allowance, 341 child benefit entitled child (pupils, students), 351 full career break; 411
other or unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from linkage.sources import SEP_YEARS
from linkage.synth.countries import COUNTRIES, PROFILES
from linkage.synth.population import EDU_MEDIUM, GEN_FIRST, GEN_SECOND, Population

BELGIAN_EMPLOYMENT = 0.80
BELGIAN_UNEMPLOYMENT_SHARE = 0.15
AGE_CORRECTION = 1.12
"""Employment rates per origin are for ages 20-64 as a whole; the age profile (students,
early retirement) lowers them, this factor brings the 20-64 average back."""
BELGIAN_FEMALE_FACTOR = 0.93
PERSISTENCE = 0.9

WORK, JOBSEEKER, INACTIVE = 1, 2, 3


CODES = np.array(["", "111", "112", "121", "122", "123", "131", "132", "133", "211", "212",
                  "213", "221", "222", "311", "321", "322", "331", "332", "341", "351", "411"],
                 dtype=object)
"""The codes used; careers hold indices into this table (0 = no position: not yet resident)."""
_C = {code: k for k, code in enumerate(CODES)}


@dataclass
class Careers:
    state: np.ndarray      # (n, years) WORK/JOBSEEKER/INACTIVE, 0 = not resident yet
    sep: np.ndarray        # (n, years) uint8 index into CODES

    def codes(self, year_index: int) -> np.ndarray:
        """The SEP code strings of one year ("" where the person was not resident)."""
        return CODES[self.sep[:, year_index]]


@dataclass
class VdabRecords:
    person: np.ndarray
    registration_date: np.ndarray   # datetime64[D]
    exit_date: np.ndarray           # datetime64[D], NaT while registered
    exit_reason: np.ndarray         # object, "" while registered
    education_level: np.ndarray     # object


def _profile_value(pop: Population, attribute: str, belgian: float) -> np.ndarray:
    values = np.array([getattr(PROFILES[c.profile], attribute) for c in COUNTRIES] + [belgian])
    value = values[pop.country]            # -1 picks the Belgian value
    second = pop.generation == GEN_SECOND
    return np.where(second, (value + belgian) / 2, value)


def _p_work(pop: Population, year: int, base: np.ndarray, sex: np.ndarray,
            edu: np.ndarray) -> np.ndarray:
    age = year - pop.birth_year
    here = year - pop.arrival_year
    newcomer = np.select([here < 1, here < 2, here < 4], [0.25, 0.5, 0.8], default=1.0)
    newcomer = np.where(pop.generation == GEN_FIRST, newcomer, 1.0)
    by_age = np.select([age < 18, age < 20, age < 25, age < 55, age < 60, age < 65],
                       [0.0, 0.2, 0.65, 1.0, 0.85, 0.5], default=0.025)
    p = base * sex * edu * newcomer * by_age * AGE_CORRECTION
    return np.clip(np.where(age >= 65, 0.025, p), 0.0, 0.97)


def build_careers(pop: Population, rng: np.random.Generator) -> Careers:
    n, years = pop.n, len(SEP_YEARS)
    base = _profile_value(pop, "employment", BELGIAN_EMPLOYMENT)
    female_factor = _profile_value(pop, "female_employment", BELGIAN_FEMALE_FACTOR)
    sex = np.where(pop.female, female_factor, 1 + (1 - female_factor) * 0.6)
    edu = np.array([0.78, 1.0, 1.12])[pop.education]
    p_js = _profile_value(pop, "unemployment_share", BELGIAN_UNEMPLOYMENT_SHARE)
    work_code = rng.choice(np.array([_C[c] for c in ("111", "112", "121", "122", "123", "131", "132", "133")]),
                           size=n, p=[0.80, 0.03, 0.10, 0.03, 0.01, 0.02, 0.005, 0.005])
    state = np.zeros((n, years), dtype=np.int8)
    sep = np.zeros((n, years), dtype=np.uint8)
    z_work = rng.standard_normal(n)
    z_js = rng.standard_normal(n)
    noise = np.sqrt(1 - PERSISTENCE ** 2)
    for k, year in enumerate(SEP_YEARS):
        if k:
            z_work = PERSISTENCE * z_work + noise * rng.standard_normal(n)
            z_js = 0.7 * z_js + np.sqrt(1 - 0.49) * rng.standard_normal(n)
        age = year - pop.birth_year
        here = year - pop.arrival_year
        present = pop.arrival <= np.datetime64(dt.date(year, 12, 31))
        working = ndtr(z_work) < _p_work(pop, year, base, sex, edu)
        js_share = p_js * np.where((pop.generation == GEN_FIRST) & (here < 4), 1.3, 1.0)
        js_share = js_share * np.where(age >= 60, 0.4, 1.0)
        seeking = ~working & (age >= 18) & (age < 65) & (ndtr(z_js) < js_share)
        st = np.where(working, WORK, np.where(seeking, JOBSEEKER, INACTIVE))
        state[:, k] = np.where(present, st, 0)
        sep[:, k] = np.where(present, _codes(rng, st, age, here, pop, work_code), 0)
    return Careers(state, sep)


def _codes(rng: np.random.Generator, state: np.ndarray, age: np.ndarray, here: np.ndarray,
           pop: Population, work_code: np.ndarray) -> np.ndarray:
    n = len(state)
    u = rng.random(n)
    newcomer = (pop.generation == GEN_FIRST) & (here < 4)
    seeker = np.select(
        [newcomer & (u < 0.7), u < 0.5, u < 0.55, (age < 30) & (u < 0.70), u < 0.75],
        [_C["222"], _C["211"], _C["212"], _C["213"], _C["221"]], default=_C["222"])
    young = np.select([u < 0.75, u < 0.85, u < 0.90], [_C["341"], _C["311"], _C["331"]], default=_C["411"])
    leefloon = np.where(newcomer, 0.5, 0.15)
    incapacity = leefloon + np.where(age >= 45, 0.5, 0.35)
    adult = np.select(
        [u < leefloon, u < incapacity, u < incapacity + 0.07,
         pop.female & (age < 50) & (u < incapacity + 0.12)],
        [_C["311"], _C["331"], _C["332"], _C["351"]], default=_C["411"])
    nearly_retired = np.select([u < 0.35, u < 0.60, u < 0.85], [_C["321"], _C["322"], _C["331"]],
                               default=_C["411"])
    retired = np.select([u < 0.93, u < 0.95], [_C["321"], _C["311"]], default=_C["411"])
    inactive = np.select([age < 18, age < 25, age < 60, age < 65],
                         [_C["341"], young, adult, nearly_retired], default=retired)
    return np.where(state == WORK, work_code, np.where(state == JOBSEEKER, seeker, inactive))


def _random_dates(rng: np.random.Generator, start: np.ndarray, end: np.ndarray | np.datetime64) -> np.ndarray:
    span = np.maximum((end - start).astype(np.int64), 0)
    return start + (rng.random(len(start)) * (span + 1)).astype(np.int64)


def _year_start(years: np.ndarray) -> np.ndarray:
    return (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")


def build_vdab(pop: Population, careers: Careers, rng: np.random.Generator,
               integration_contract: np.ndarray) -> VdabRecords:
    """One registration per person: the last spell as job seeker without work.

    Spells come from the yearly positions (a job seeker on 31 December), from short spells
    between two jobs that no year-end position shows, and from newcomers whose integration
    contract (from 2022) includes registering with VDAB (``integration_contract``: the
    contract date per person, NaT if none).
    """
    years = np.array(SEP_YEARS)
    js = careers.state == JOBSEEKER
    any_js = js.any(axis=1)
    last = np.where(any_js, len(years) - 1 - np.argmax(js[:, ::-1], axis=1), -1)
    # start of the run of job-seeker years that ends in `last`
    first = last.copy()
    for k in range(len(years) - 1, 0, -1):
        extend = any_js & (first == k) & js[:, k - 1]
        first = np.where(extend, k - 1, first)

    persons = np.flatnonzero(any_js)
    start_year = years[first[persons]]
    earliest = np.maximum(_year_start(start_year) - 180, pop.arrival[persons])
    adult = pop.birth[persons] + 18 * 365 + 5
    reg = _random_dates(rng, np.maximum(earliest, adult), _year_start(start_year + 1) - 1)
    last_k = last[persons]
    ongoing = last_k == len(years) - 1
    next_state = careers.state[persons, np.minimum(last_k + 1, len(years) - 1)]
    exit_year = years[np.minimum(last_k + 1, len(years) - 1)]
    exit_date = _random_dates(rng, np.maximum(_year_start(exit_year), reg + 30), _year_start(exit_year + 1) - 31)
    u = rng.random(len(persons))
    reason = np.where(next_state == WORK, "work",
                      np.select([u < 0.6, u < 0.85, u < 0.98], ["inactive", "training", "other"], default="moved"))
    exit_date = np.where(ongoing, np.datetime64("NaT"), exit_date)
    reason = np.where(ongoing, "", reason).astype(object)

    # short spells between jobs (a job seeker for some months inside one year)
    workers = careers.state == WORK
    both = workers[:, :-1] & workers[:, 1:]       # at work at the end of year k and k + 1
    between = ~any_js & both.any(axis=1) & (pop.age < 65) & (rng.random(pop.n) < 0.06)
    b = np.flatnonzero(between)
    cum = np.cumsum(both[b], axis=1)
    b_k = (cum < np.ceil(rng.random(len(b)) * cum[:, -1])[:, None]).sum(axis=1)
    b_year = years[1 + b_k]
    b_reg = _random_dates(rng, np.maximum(_year_start(b_year), pop.arrival[b]), _year_start(b_year) + 240)
    b_exit = b_reg + 30 + (rng.random(len(b)) * 90).astype(np.int64)

    # newcomers registered as part of their integration trajectory (since 2022)
    contract = integration_contract
    eligible = (~any_js & ~between & ~np.isnat(contract)
                & (contract >= np.datetime64("2022-03-01")) & (pop.age < 65) & (rng.random(pop.n) < 0.6))
    c = np.flatnonzero(eligible)
    c_reg = contract[c] + (rng.random(len(c)) * 90).astype(np.int64)
    c_reg = np.minimum(c_reg, np.datetime64(f"{years[-1]}-12-31"))
    c_state = careers.state[c, -1]
    last_day = np.datetime64(f"{years[-1]}-12-31")
    c_exit = _random_dates(rng, np.maximum(c_reg + 30, _year_start(np.full(len(c), years[-1]))), last_day)
    c_exit = np.where((c_state == WORK) & (c_exit <= last_day), c_exit, np.datetime64("NaT"))
    c_reason = np.where(np.isnat(c_exit), "", "work").astype(object)

    person = np.r_[persons, b, c]
    return VdabRecords(
        person=person,
        registration_date=np.r_[reg, b_reg, c_reg],
        exit_date=np.r_[exit_date, b_exit, c_exit],
        exit_reason=np.r_[reason, np.full(len(b), "work", dtype=object), c_reason],
        education_level=_education_level(pop, person, rng),
    )


def _education_level(pop: Population, person: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """VDAB's education level; diplomas from outside the EU are often not recognised."""
    level = np.array(["low", "medium", "high"], dtype=object)[pop.education[person]]
    eu = np.array([c.eu for c in COUNTRIES] + [True])[pop.country[person]]
    arrived_adult = (pop.arrival_year[person] - pop.birth_year[person]) >= 18
    unrecognised = ((pop.generation[person] == GEN_FIRST) & ~eu & arrived_adult
                    & (pop.education[person] >= EDU_MEDIUM) & (rng.random(len(person)) < 0.5))
    level[unrecognised] = "foreign_unrecognised"
    return level

