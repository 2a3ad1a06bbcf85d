"""The synthetic population on the reference date: age, sex, origin, nationality history,
migration, residence and national numbers (person level, the ground truth).

All arrays are indexed by person. Nationality codes are NIS codes as strings, "" where the
Rijksregister does not know them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from linkage.synth import geography
from linkage.synth.countries import (AGE_BANDS, ARRIVAL_PERIODS, BELGIUM, COUNTRIES, PROFILES)
from linkage.synth.national_numbers import assign_numbers

REFERENCE_DATE = dt.date(2025, 1, 1)
LAST_YEAR = REFERENCE_DATE.year - 1     # ages are counted on 1 January: age = LAST_YEAR - birth year

AGE_PYRAMID = (330, 365, 380, 370, 370, 400, 430, 440, 430, 430, 450, 480, 460, 400, 360, 300,
               200, 120, 50, 12, 2)
"""Approximate Flemish population (thousands) per five-year age group 0-4 ... 100-104 [I]."""

FOREIGN_BY_AGE = (0.36, 0.32, 0.33, 0.20, 0.09, 0.04)
"""Relative share of foreign origin per AGE_BANDS band (37.5 % of 0-5 and 3.7 % of 80+ in
2017, domain research 5.1); scaled so that the total matches the configured share."""

FEMALE_BY_AGE = (0.49, 0.49, 0.49, 0.50, 0.54, 0.62)

GEN_NONE, GEN_FIRST, GEN_SECOND = 0, 1, 2
EDU_LOW, EDU_MEDIUM, EDU_HIGH = 0, 1, 2


@dataclass
class Population:
    n: int
    female: np.ndarray         # bool
    birth: np.ndarray          # datetime64[D], the true birth date
    birth_uncertain: np.ndarray  # bool: the Rijksregister has day and month 00
    country: np.ndarray        # int index into COUNTRIES, -1 = Belgian origin
    generation: np.ndarray     # GEN_*
    arrival: np.ndarray        # datetime64[D]: first registration in Belgium (birth if born here)
    nat_current: np.ndarray
    nat_first: np.ndarray
    nat_father: np.ndarray
    nat_mother: np.ndarray
    municipality: np.ndarray   # int index into geography.municipalities()
    postcode: np.ndarray
    previous_postcode: np.ndarray  # an earlier address (used where a source is out of date)
    insz: np.ndarray           # the current national number (RRN, or BIS for some newcomers)
    bis_previous: np.ndarray   # the BIS number an RRN replaced, or ""
    education: np.ndarray      # attained level EDU_* (adults; refined by linkage.synth.school)

    @property
    def birth_year(self) -> np.ndarray:
        return self.birth.astype("datetime64[Y]").astype(np.int64) + 1970

    @property
    def age(self) -> np.ndarray:
        """Age in completed years on the reference date (1 January)."""
        return LAST_YEAR - self.birth_year

    @property
    def arrival_year(self) -> np.ndarray:
        return self.arrival.astype("datetime64[Y]").astype(np.int64) + 1970


def _band(age: np.ndarray) -> np.ndarray:
    return np.searchsorted(AGE_BANDS, age, side="right") - 1


def _pick(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of a (n, k) probability matrix."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(len(probs)) * cum[:, -1]
    return (cum < u[:, None]).sum(axis=1)


def _ages(rng: np.random.Generator, n: int) -> np.ndarray:
    pyramid = np.array(AGE_PYRAMID, dtype=float)
    group = rng.choice(len(pyramid), size=n, p=pyramid / pyramid.sum())
    return group * 5 + rng.integers(0, 5, size=n)


def _country_weights(foreign_share: float) -> tuple[np.ndarray, np.ndarray]:
    """P(foreign | age band) and P(country | foreign, age band), raked so that the
    expected origin mix over all ages equals the countries' shares."""
    pyramid = np.array(AGE_PYRAMID, dtype=float)
    ages = np.arange(len(pyramid) * 5)
    per_age = np.repeat(pyramid / 5, 5)
    band_pop = np.bincount(_band(ages), weights=per_age, minlength=len(AGE_BANDS))
    relative = np.array(FOREIGN_BY_AGE)
    p_foreign = np.clip(relative * foreign_share * band_pop.sum() / (relative * band_pop).sum(), 0, 0.95)
    foreign_pop = band_pop * p_foreign
    target = np.array([c.share for c in COUNTRIES])
    target = target / target.sum()
    age_weight = np.array([PROFILES[c.profile].age_weight for c in COUNTRIES])  # (C, B)
    u = target.copy()
    for _ in range(60):
        cond = u[:, None] * age_weight
        cond = cond / cond.sum(axis=0, keepdims=True)
        implied = (cond * foreign_pop).sum(axis=1) / foreign_pop.sum()
        u *= target / implied
    cond = u[:, None] * age_weight
    return p_foreign, (cond / cond.sum(axis=0, keepdims=True)).T   # (B,), (B, C)


def _arrival_years(rng: np.random.Generator, birth_year: np.ndarray, profile_idx: np.ndarray,
                   profiles: list) -> np.ndarray:
    """Year of first registration for persons born abroad: the profile's migration periods,
    limited to years after birth and mostly before the age of 55."""
    lo = np.maximum(birth_year, 1950)
    hi = np.minimum(LAST_YEAR, np.maximum(birth_year + 55, lo))
    periods = np.array(ARRIVAL_PERIODS)
    start = np.maximum(periods[:, 0][None, :], lo[:, None])
    end = np.minimum(periods[:, 1][None, :], hi[:, None])
    overlap = np.clip(end - start + 1, 0, None).astype(float)
    period_weight = np.array([p.arrival for p in profiles])[profile_idx]
    weights = period_weight * overlap / (periods[:, 1] - periods[:, 0] + 1)
    empty = weights.sum(axis=1) == 0
    weights[empty] = overlap[empty] + 1e-9
    k = _pick(rng, weights)
    rows = np.arange(len(k))
    first, last = start[rows, k], np.maximum(end[rows, k], start[rows, k])
    return first + (rng.random(len(k)) * (last - first + 1)).astype(np.int64)


def _historic(rng: np.random.Generator, codes: np.ndarray, country: np.ndarray,
              year: np.ndarray, probability: float) -> np.ndarray:
    """Replace a code by the predecessor state's (Yugoslavia, USSR, Zaïre, ...) where the
    nationality was registered before that state ended."""
    out = codes.copy()
    draw = rng.random(len(codes))
    for ci, c in enumerate(COUNTRIES):
        if not c.historic:
            continue
        rows = np.flatnonzero((country == ci) & (codes == c.nis) & (draw < probability))
        for code, last_year in sorted(c.historic, key=lambda h: -h[1]):
            out[rows[year[rows] <= last_year]] = code
    return out


def _dates_in_years(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    end = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]")
    length = (end - start).astype(np.int64)
    return start + (rng.random(len(years)) * length).astype(np.int64)


def build_population(n: int, foreign_share: float, rng: np.random.Generator) -> Population:
    age = _ages(rng, n)
    band = _band(age)
    birth_year = LAST_YEAR - age
    birth = _dates_in_years(rng, birth_year)

    p_foreign, p_country = _country_weights(foreign_share)
    foreign = rng.random(n) < p_foreign[band]
    country = np.full(n, -1, dtype=np.int64)
    fidx = np.flatnonzero(foreign)
    country[fidx] = _pick(rng, p_country[band[fidx]])

    profiles = [PROFILES[c.profile] for c in COUNTRIES]
    prof = np.array([list(PROFILES).index(c.profile) for c in COUNTRIES])
    profile_list = list(PROFILES.values())
    cprof = np.where(foreign, prof[np.maximum(country, 0)], -1)

    # sex: older cohorts more women; recent refugee cohorts more men
    p_female = np.array(FEMALE_BY_AGE)[band]
    refugee = cprof == list(PROFILES).index("refugee")
    p_female = np.where(refugee & (age >= 18) & (age < 45), 0.38, p_female)
    female = rng.random(n) < p_female

    # generation and migration
    born_in_be = np.ones(n, dtype=bool)
    p_born_be = np.array([p.born_in_belgium for p in profiles])[np.maximum(country, 0), band]
    born_in_be[fidx] = rng.random(len(fidx)) < p_born_be[fidx]
    generation = np.where(~foreign, GEN_NONE, np.where(born_in_be, GEN_SECOND, GEN_FIRST))
    abroad = np.flatnonzero(generation == GEN_FIRST)
    arrival = birth.copy()
    if len(abroad):
        years = _arrival_years(rng, birth_year[abroad], cprof[abroad], profile_list)
        arrival[abroad] = np.maximum(_dates_in_years(rng, years), birth[abroad] + 1)
        arrival[abroad] = np.minimum(arrival[abroad], np.datetime64(REFERENCE_DATE) - 1)
    arrival_year = arrival.astype("datetime64[Y]").astype(np.int64) + 1970

    nis = np.array([c.nis for c in COUNTRIES] + [BELGIUM], dtype=object)
    own = nis[country]          # country -1 picks BELGIUM (last element)
    nat_first = np.full(n, BELGIUM, dtype=object)
    nat_father = np.full(n, BELGIUM, dtype=object)
    nat_mother = np.full(n, BELGIUM, dtype=object)

    second = generation == GEN_SECOND
    mixed = second & (rng.random(n) < np.array([p.mixed_couple for p in profiles])[np.maximum(country, 0)])
    father_foreign = rng.random(n) < 0.5
    nat_father = np.where(second & (~mixed | father_foreign), own, nat_father)
    nat_mother = np.where(second & (~mixed | ~father_foreign), own, nat_mother)
    # born in Belgium to two foreign parents: Belgian at birth where parents had become
    # Belgian or by the 1985/1991 nationality-code rules, more often for later births
    period = np.where(birth_year >= 1992, 1.0, np.where(birth_year >= 1985, 0.6, 0.2))
    p_bel = np.array([p.belgian_at_birth for p in profiles])[np.maximum(country, 0)] * period
    foreign_at_birth = second & ~mixed & (rng.random(n) >= p_bel)
    first_gen = generation == GEN_FIRST
    nat_first = np.where(foreign_at_birth | first_gen, own, nat_first)
    nat_father = np.where(first_gen, own, nat_father)
    nat_mother = np.where(first_gen, own, nat_mother)

    # naturalisation after five years of residence, ramping up over eight more years
    years_here = LAST_YEAR - arrival_year
    ramp = np.clip((years_here - 5) / 8.0, 0.0, 1.0)
    p_nat = np.array([p.naturalisation for p in profiles])[np.maximum(country, 0)] * ramp
    naturalised = (nat_first != BELGIUM) & (rng.random(n) < p_nat)
    nat_current = np.where(naturalised, BELGIUM, nat_first)

    # historic codes of predecessor states, then unknown parents
    historic_first = _historic(rng, nat_first, country, arrival_year, 0.7)
    # a few registers never updated the current nationality of a dissolved state
    stale = (historic_first != nat_first) & (rng.random(n) < 0.3)
    nat_current = np.where(naturalised, BELGIUM, np.where(stale, historic_first, nat_first))
    nat_first = historic_first
    nat_father = _historic(rng, nat_father, country, birth_year, 0.6)
    nat_mother = _historic(rng, nat_mother, country, birth_year, 0.6)
    u = rng.random(n)
    miss_father = np.select(
        [first_gen, second, birth_year < 1940, birth_year < 1960],
        [u < 0.45, u < 0.06, u < 0.30, u < 0.10], default=u < 0.04)
    miss_mother = np.select(
        [first_gen, second, birth_year < 1940, birth_year < 1960],
        [u < 0.40, u < 0.02, u < 0.25, u < 0.07], default=u < 0.015)
    nat_father = np.where(miss_father, "", nat_father)
    nat_mother = np.where(miss_mother, "", nat_mother)

    uncertain_rate = np.array([c.uncertain_birth_dates for c in COUNTRIES])[np.maximum(country, 0)]
    birth_uncertain = first_gen & (rng.random(n) < uncertain_rate)

    municipality = np.empty(n, dtype=np.int64)
    groups = np.where(foreign, country, -1)
    n_muni = len(geography.municipalities().nis)
    for g in np.unique(groups):
        rows = np.flatnonzero(groups == g)
        iso2 = None if g < 0 else COUNTRIES[g].iso2
        municipality[rows] = rng.choice(n_muni, size=len(rows), p=geography.residence_weights(iso2))
    postcode = geography.sample_postcodes(rng, municipality)
    previous = _previous_postcodes(rng, municipality, postcode)

    insz, bis_previous = assign_numbers(rng, birth, birth_uncertain, female, arrival, first_gen,
                                        LAST_YEAR)
    education = _education(rng, birth_year, generation, cprof, list(PROFILES))

    return Population(
        n=n, female=female, birth=birth, birth_uncertain=birth_uncertain, country=country,
        generation=generation, arrival=arrival, nat_current=nat_current.astype(object),
        nat_first=nat_first.astype(object), nat_father=nat_father.astype(object),
        nat_mother=nat_mother.astype(object), municipality=municipality, postcode=postcode,
        previous_postcode=previous, insz=insz, bis_previous=bis_previous, education=education,
    )


def _previous_postcodes(rng: np.random.Generator, municipality: np.ndarray,
                        postcode: np.ndarray) -> np.ndarray:
    """An earlier address: another postcode of the same municipality (a third of moves) or a
    postcode elsewhere in Flanders, never the current one."""
    n = len(municipality)
    m = geography.municipalities()
    elsewhere = rng.choice(len(m.nis), size=n, p=m.population / m.population.sum())
    same = (rng.random(n) < 0.33) & np.array([len(m.postcodes[k]) > 1 for k in municipality])
    target = np.where(same, municipality, elsewhere)
    previous = geography.sample_postcodes(rng, target)
    clash = np.flatnonzero(previous == postcode)
    for i in clash:  # rare: pick the neighbouring municipality's first postcode
        k = (municipality[i] + 1) % len(m.nis)
        previous[i] = m.postcodes[k][0]
    return previous


EDUCATION_MIX = {
    # profile -> P(low, medium, high) for persons born abroad; Belgian origin and the second
    # generation are set in _education [I, shaped after SEM and LFS patterns]
    "neighbour": (0.15, 0.35, 0.50), "south_eu_old": (0.50, 0.30, 0.20),
    "guest_worker": (0.55, 0.30, 0.15), "eu_east": (0.30, 0.45, 0.25),
    "refugee": (0.55, 0.25, 0.20), "balkan_exsoviet": (0.40, 0.40, 0.20),
    "africa": (0.40, 0.33, 0.27), "asia": (0.30, 0.30, 0.40), "latam": (0.30, 0.40, 0.30),
}


def _education(rng: np.random.Generator, birth_year: np.ndarray, generation: np.ndarray,
               cprof: np.ndarray, profile_names: list[str]) -> np.ndarray:
    n = len(birth_year)
    probs = np.tile(np.array([0.18, 0.42, 0.40]), (n, 1))
    probs[birth_year < 1960] = (0.45, 0.35, 0.20)
    guest = profile_names.index("guest_worker")
    probs[(generation == GEN_SECOND)] = (0.25, 0.42, 0.33)
    probs[(generation == GEN_SECOND) & (cprof == guest)] = (0.35, 0.42, 0.23)
    for k, name in enumerate(profile_names):
        probs[(generation == GEN_FIRST) & (cprof == k)] = EDUCATION_MIX[name]
    return _pick(rng, probs)
