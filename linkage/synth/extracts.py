"""One source's extract: the persons it holds, their identifiers as that register has them
(corrupted per ``SourceNoise``), its formats, duplicates and opaque record references.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from linkage.synth import variants
from linkage.synth.config import SourceNoise
from linkage.synth.names import TRANSLITERATION_FACTOR, PersonNames
from linkage.synth.population import GEN_FIRST, LAST_YEAR, Population

IDENTIFIER_COLUMNS = ("record_id", "insz", "given_names", "surname", "birth_date", "sex", "postcode")

DATE_STYLES = {
    # source -> birth-date styles with their shares; the encoder normalises them
    "ksz": (("iso", 1.0),),
    "vdab": (("dd/mm/yyyy", 1.0),),
    "integration": (("dd.mm.yyyy", 0.6), ("d/m/yyyy", 0.4)),
    "education": (("yyyymmdd", 1.0),),
}
INSZ_FORMATTED = {"ksz": 0.0, "vdab": 1.0, "integration": 0.5, "education": 0.0}
"""Share of national numbers written as YY.MM.DD-SSS.CC instead of eleven digits."""
UPPER_SURNAME = {"ksz": 0.0, "vdab": 0.0, "integration": 0.3, "education": 1.0}
"""Share of records whose surname is in capitals (school administrations, machine-readable
zones of foreign documents)."""
KNOWS_REPLACED = {"ksz"}
"""Sources that hold, beside a person's national-register number, the BIS number it replaced
(KSZ copies the Rijksregister, which keeps that history): column ``replaced_insz``."""
RECENT_ARRIVAL_YEARS = 2
"""Persons who arrived this recently miss a national number three times as often."""


def _newcomers(pop: Population, person: np.ndarray) -> np.ndarray:
    """Persons born abroad who arrived in the last :data:`RECENT_ARRIVAL_YEARS` years."""
    return (pop.generation[person] == GEN_FIRST) & (pop.arrival_year[person] > LAST_YEAR - RECENT_ARRIVAL_YEARS)


@dataclass
class SourceRecords:
    person: np.ndarray        # person index per record
    payload_row: np.ndarray   # row of the source's payload arrays per record
    columns: dict[str, np.ndarray]   # identifier columns, in IDENTIFIER_COLUMNS order (and replaced_insz)


def _record_ids(rng: np.random.Generator, n: int, prefix: str) -> np.ndarray:
    """Opaque references: random, unique within the source, unrelated to the person."""
    ids = rng.integers(0, 2**48, size=n, dtype=np.int64)
    while len(np.unique(ids)) < n:
        _, first = np.unique(ids, return_index=True)
        dup = np.setdiff1d(np.arange(n), first)
        ids[dup] = rng.integers(0, 2**48, size=len(dup), dtype=np.int64)
    return np.array([f"{prefix}{x:012x}" for x in ids.tolist()], dtype=object)


def _apply(rows: np.ndarray, values: np.ndarray, change) -> None:
    for i in rows:
        values[i] = change(values[i])


def _corrupt_names(noise: SourceNoise, given: np.ndarray, surname: np.ndarray,
                   given_family: np.ndarray, surname_family: np.ndarray,
                   rng: np.random.Generator, r: random.Random) -> None:
    n = len(given)

    def rows(rate) -> np.ndarray:
        return np.flatnonzero(rng.random(n) < rate)

    several = np.array([" " in g for g in given])
    _apply(np.intersect1d(rows(noise.first_given_only), np.flatnonzero(several)), given, variants.first_given)
    _apply(rows(noise.surname_part_dropped), surname, lambda s: variants.drop_surname_part(s, r))
    if noise.particle_dropped:
        _apply(rows(noise.particle_dropped), surname, variants.drop_particles)
    if noise.surname_doubled:
        doubled = rows(noise.surname_doubled)
        others = surname[rng.integers(0, n, size=len(doubled))]
        for i, other in zip(doubled.tolist(), others.tolist()):
            surname[i] = variants.double_surname(surname[i], other, r)
    factor = np.vectorize(TRANSLITERATION_FACTOR.get, otypes=[float])
    for values, fam in ((surname, surname_family), (given, given_family)):
        for i in rows(noise.transliteration * factor(fam)):
            values[i] = variants.transliterate(values[i], fam[i], r)
    _apply(rows(noise.particle_restyled), surname, lambda s: variants.restyle_particles(s, r))
    dropped = rows(noise.diacritics_dropped)
    _apply(dropped, surname, variants.drop_diacritics)
    _apply(dropped, given, variants.drop_diacritics)
    _apply(rows(noise.typo_surname), surname, lambda s: variants.typo(s, r))
    _apply(rows(noise.typo_given), given, lambda s: variants.typo(s, r))
    swap = rows(noise.names_swapped)
    given[swap], surname[swap] = surname[swap], given[swap].copy()


def _date_parts(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    return year, month, day


def _birth_dates(noise: SourceNoise, pop: Population, person: np.ndarray, style_shares,
                 rng: np.random.Generator) -> np.ndarray:
    n = len(person)
    year, month, day = _date_parts(pop.birth[person])
    jan1 = pop.birth_uncertain[person] & (rng.random(n) < noise.birth_jan1)
    if noise.newcomer_jan1:
        jan1 |= _newcomers(pop, person) & (rng.random(n) < noise.newcomer_jan1)
    month, day = np.where(jan1, 1, month), np.where(jan1, 1, day)
    swap = (rng.random(n) < noise.day_month_swapped) & (day <= 12) & (day != month)
    month, day = np.where(swap, day, month), np.where(swap, month, day)
    typo = rng.random(n) < noise.date_typo
    in_year = rng.random(n) < 0.5
    year = np.where(typo & in_year, year + np.where(rng.random(n) < 0.5, 1, -1), year)
    day = np.where(typo & ~in_year, np.where(day >= 28, day - 1, day + 1), day)
    day = np.where((month == 2) & (day == 29) & ~((year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))), 28, day)
    if noise.date_impossible:
        month, day = _impossible(month, day, rng.random(n) < noise.date_impossible, rng)

    styles = [s for s, _ in style_shares]
    style = rng.choice(len(styles), size=n, p=[p for _, p in style_shares])
    formats = {
        "iso": "{0:04d}-{1:02d}-{2:02d}", "dd/mm/yyyy": "{2:02d}/{1:02d}/{0:04d}",
        "dd.mm.yyyy": "{2:02d}.{1:02d}.{0:04d}", "d/m/yyyy": "{2}/{1}/{0:04d}",
        "yyyymmdd": "{0:04d}{1:02d}{2:02d}",
    }
    patterns = [formats[s] for s in styles]
    return np.array([patterns[k].format(y, m, d) for k, y, m, d in
                     zip(style.tolist(), year.tolist(), month.tolist(), day.tolist())], dtype=object)


def _impossible(month: np.ndarray, day: np.ndarray, chosen: np.ndarray,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Keying errors that give no real date: the day's digits typed into the month (day 14
    becomes month 14), or day 31 typed for a month of 30 days or February."""
    into_month = chosen & (day > 12) & (rng.random(len(day)) < 0.5)
    month, day = np.where(into_month, day, month), np.where(into_month, month, day)
    short = np.isin(month, (2, 4, 6, 9, 11))
    day = np.where(chosen & ~into_month & short, 31, day)
    return month, day


def _national_numbers(noise: SourceNoise, pop: Population, person: np.ndarray,
                      formatted_share: float, rng: np.random.Generator) -> np.ndarray:
    n = len(person)
    insz = pop.insz[person].copy()
    previous = pop.bis_previous[person]
    stale = (previous != "") & (rng.random(n) < noise.insz_bis_stale)
    insz[stale] = previous[stale]
    wrong = rng.random(n) < noise.insz_wrong
    insz[wrong] = pop.insz[rng.integers(0, pop.n, size=int(wrong.sum()))]
    recent = pop.arrival_year[person] > LAST_YEAR - RECENT_ARRIVAL_YEARS
    rate = noise.insz_missing * np.where(recent, 3.0, 1.0)
    if noise.newcomer_insz_missing:
        rate = np.where(_newcomers(pop, person), np.maximum(rate, noise.newcomer_insz_missing), rate)
    missing = rng.random(n) < rate
    insz[missing] = ""
    formatted = np.flatnonzero((rng.random(n) < formatted_share) & ~missing)
    insz[formatted] = [f"{x[0:2]}.{x[2:4]}.{x[4:6]}-{x[6:9]}.{x[9:11]}" for x in insz[formatted]]
    return insz


def _replaced(insz: np.ndarray, pop: Population, who: np.ndarray) -> np.ndarray:
    """The BIS number each record's register number replaced, where the record holds the
    person's current number, else ``""``."""
    current = np.array([x.replace(".", "").replace("-", "") for x in insz], dtype=object) == pop.insz[who]
    return np.where(current, pop.bis_previous[who], "").astype(object)


def build_records(source: str, person: np.ndarray, pop: Population, names: PersonNames,
                  noise: SourceNoise, rng: np.random.Generator) -> SourceRecords:
    """Records of ``person`` (one per person, plus duplicates) with corrupted identifiers,
    in random order."""
    r = random.Random(int(rng.integers(0, 2**63)))
    rows = np.arange(len(person))
    duplicated = rows[rng.random(len(person)) < noise.duplicate]
    payload_row = np.r_[rows, duplicated]
    payload_row = payload_row[rng.permutation(len(payload_row))]
    who = person[payload_row]
    n = len(who)

    given = names.given[who].copy()
    surname = names.surname[who].copy()
    _corrupt_names(noise, given, surname, names.given_family[who], names.surname_family[who], rng, r)
    upper = np.flatnonzero(rng.random(n) < UPPER_SURNAME[source])
    surname[upper] = [s.upper() for s in surname[upper]]

    female = pop.female[who] ^ (rng.random(n) < noise.sex_wrong)
    moved = rng.random(n) < noise.moved
    postcode = np.where(moved, pop.previous_postcode[who], pop.postcode[who])
    insz = _national_numbers(noise, pop, who, INSZ_FORMATTED[source], rng)
    columns = {
        "record_id": _record_ids(rng, n, source[0].upper()),
        "insz": insz,
        **({"replaced_insz": _replaced(insz, pop, who)} if source in KNOWS_REPLACED else {}),
        "given_names": given,
        "surname": surname,
        "birth_date": _birth_dates(noise, pop, who, DATE_STYLES[source], rng),
        "sex": np.where(female, "F", "M").astype(object),
        "postcode": postcode,
    }
    return SourceRecords(who, payload_row, columns)
