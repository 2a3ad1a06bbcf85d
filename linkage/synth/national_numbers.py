"""Valid Belgian national numbers (INSZ): Rijksregister (RRN) and BIS numbers.

``YYMMDD SSS CC``: birth date (month and day 00 when unknown), a day counter that is odd for
men and even for women, and check digits ``97 - (N mod 97)`` where N is the first nine digits,
prefixed by 2 for persons born in 2000 or later. BIS numbers add 40 to the month (20 when the
sex was unknown at issue). Counters are unique per date code and sex, so no two persons share
a number. A date code with an unknown date (``YY0000``) holds only some 460 persons per sex;
the persons beyond that get a day in the unknown-month code (``YY0001``, ``YY0002``, ...: still a
valid number, month 00 still says "date unknown"), so that populations of Flanders' size, with
many newcomers of unknown birth date per year, can be numbered.
"""

from __future__ import annotations

import numpy as np

from linkage.errors import LinkageError

BIS_ONLY_SHARE = 0.25       # of persons who arrived in the last year: no RRN yet
BIS_BEFORE_RRN_SHARE = 0.5  # of persons who arrived since 2016: had a BIS number first
BIS_SEX_UNKNOWN = 0.1       # of BIS numbers: issued without sex (+20)
UNKNOWN_DATE_SERIALS = 459  # persons per sex a date code of an unknown date holds (offset <= 39)


class TooManyPersonsError(LinkageError):
    """More persons share a birth date than a national-number day counter can hold."""


def check_digits(base9: np.ndarray, born_2000_or_later: np.ndarray) -> np.ndarray:
    return 97 - (base9 + np.where(born_2000_or_later, 2_000_000_000, 0)) % 97


def _date_codes(birth: np.ndarray, uncertain: np.ndarray, month_offset: np.ndarray) -> np.ndarray:
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    month = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    month = np.where(uncertain, 0, month)
    day = np.where(uncertain, 0, day)
    return (year % 100) * 10_000 + (month + month_offset) * 100 + day


def _numbers(rng: np.random.Generator, date_code: np.ndarray, female: np.ndarray,
             born_2000: np.ndarray) -> np.ndarray:
    key = date_code * 2 + female
    order = np.lexsort((rng.random(len(key)), key))
    sorted_key = key[order]
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    run_start = np.repeat(starts, np.diff(np.r_[starts, len(key)]))
    rank = np.empty(len(key), dtype=np.int64)
    rank[order] = np.arange(len(key)) - run_start
    offset = (key * 7919) % 40
    unknown = date_code % 100 == 0                     # day 00: the date is not known
    spill = np.where(unknown, rank // UNKNOWN_DATE_SERIALS, 0)
    rank = np.where(unknown, rank % UNKNOWN_DATE_SERIALS, rank)
    counter = 2 * (offset + rank) + np.where(female, 2, 1)
    if len(counter) and (counter.max() > 998 or spill.max() > 31):
        raise TooManyPersonsError(
            "too many persons share a birth date for unique national numbers; "
            "generate fewer persons (at most about 10 million)"
        )
    base9 = (date_code + spill) * 1000 + counter
    check = check_digits(base9, born_2000)
    return np.array([f"{b:09d}{c:02d}" for b, c in zip(base9.tolist(), check.tolist())], dtype=object)


def assign_numbers(rng: np.random.Generator, birth: np.ndarray, uncertain: np.ndarray,
                   female: np.ndarray, arrival: np.ndarray,
                   born_abroad: np.ndarray, last_year: int) -> tuple[np.ndarray, np.ndarray]:
    """Each person's current national number, and the BIS number it replaced ("" if none).
    Persons who arrived in ``last_year`` may still have only a BIS number."""
    n = len(birth)
    arrival_year = arrival.astype("datetime64[Y]").astype(np.int64) + 1970
    bis_only = born_abroad & (arrival_year >= last_year) & (rng.random(n) < BIS_ONLY_SHARE)
    had_bis = born_abroad & ~bis_only & (arrival_year >= 2016) & (rng.random(n) < BIS_BEFORE_RRN_SHARE)
    bis_offset = np.where(rng.random(n) < BIS_SEX_UNKNOWN, 20, 40)
    born_2000 = birth >= np.datetime64("2000-01-01")

    current_code = _date_codes(birth, uncertain, np.where(bis_only, bis_offset, 0))
    extra = np.flatnonzero(had_bis)
    codes = np.r_[current_code, _date_codes(birth[extra], uncertain[extra], bis_offset[extra])]
    numbers = _numbers(rng, codes, np.r_[female, female[extra]], np.r_[born_2000, born_2000[extra]])
    previous = np.full(n, "", dtype=object)
    previous[extra] = numbers[n:]
    return numbers[:n], previous
