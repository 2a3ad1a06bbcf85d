"""The age at an event as evidence against a link (``linkage.matching.ages``).

A KSZ record gives the year of birth, an integration record the date of the contract. The
pairs the national numbers confirm show the ages at which newcomers sign (adults); a toddler
who shares an adult's name and a 1 January birth date must not take the adult's link, neither
directly nor through a third source's record.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from linkage.matching import EncodedSet, link
from linkage.matching.ages import MIN_CONFIRMED, SURE_LINKS, TOKEN_PAIRS, AgeCheck, LifeYears, learn, years
from linkage.sources import source_spec

from .helpers import perturb, random_clks

CONFIRMED = MIN_CONFIRMED + 50


def _together(result, a: tuple[int, int], b: tuple[int, int]) -> bool:
    return int(result.group_ids[a[0]][a[1]]) == int(result.group_ids[b[0]][b[1]])


def _register_and_contracts(seed: int, ages: bool = True, tokened: bool = True):
    """KSZ: CONFIRMED adults with national numbers, the adult A (no token in the other
    source) and a toddler T born in 2018 whose CLK is closer to A's contract record than A's
    own. Integration: the confirmed adults' contracts (same numbers) and A's contract, signed
    in 2021 at 31, without a number."""
    rng = np.random.default_rng(seed)
    adults = random_clks(rng, CONFIRMED + 1)
    contract_of_a = perturb(rng, adults[-1:], 0.03)
    toddler = perturb(rng, contract_of_a, 0.01)
    tokens = [rng.bytes(32) if tokened else None for _ in range(CONFIRMED)]
    born = rng.integers(1950, 2000, CONFIRMED).astype(float)
    signed = born + rng.uniform(18, 50, CONFIRMED)
    ksz = EncodedSet("ksz", [f"k{i}" for i in range(CONFIRMED + 2)], np.vstack([adults, toddler]),
                     tokens + [None, None],
                     life=LifeYears(birth=np.append(born, [1990.0, 2018.0])) if ages else LifeYears())
    integration = EncodedSet("integration", [f"i{i}" for i in range(CONFIRMED + 1)],
                             np.vstack([perturb(rng, adults[:CONFIRMED], 0.02), contract_of_a]),
                             tokens + [None],
                             life=LifeYears(event=np.append(signed, 2021.4)) if ages else LifeYears())
    return ksz, integration


def test_a_toddler_namesake_does_not_take_the_adults_integration_record():
    ksz, integration = _register_and_contracts(1)
    adult, toddler, contract = (0, CONFIRMED), (0, CONFIRMED + 1), (1, CONFIRMED)
    without = link([_without_ages(ksz), _without_ages(integration)])
    assert _together(without, toddler, contract)          # the attack the rule stops
    result = link([ksz, integration])
    assert _together(result, adult, contract) and not _together(result, toddler, contract)
    (rule,) = next(p for p in result.quality["pairs"] if p["sources"] == ["ksz", "integration"]
                   )["comparison"]["age_rules"]
    assert rule["confirmed_pairs"] == CONFIRMED and rule["candidates_removed"] >= 1
    assert rule["learnt_from"] == TOKEN_PAIRS
    assert 14 <= rule["low"] <= 18 and 50 <= rule["high"] <= 70


def test_without_tokens_the_rule_is_learnt_from_the_links_the_model_is_sure_of():
    """CLK only: no pair is confirmed, but the first fit links the adults with their contracts
    beyond doubt, and their ages teach the rule that keeps the toddler out."""
    ksz, integration = _register_and_contracts(4, tokened=False)
    adult, toddler, contract = (0, CONFIRMED), (0, CONFIRMED + 1), (1, CONFIRMED)
    without = link([_without_ages(ksz), _without_ages(integration)])
    assert _together(without, toddler, contract)
    result = link([ksz, integration])
    assert _together(result, adult, contract) and not _together(result, toddler, contract)
    (rule,) = next(p for p in result.quality["pairs"] if p["sources"] == ["ksz", "integration"]
                   )["comparison"]["age_rules"]
    assert rule["learnt_from"] == SURE_LINKS and rule["candidates_removed"] >= 1
    assert CONFIRMED - 5 <= rule["confirmed_pairs"] <= CONFIRMED + 1
    assert 14 <= rule["low"] <= 18 and 50 <= rule["high"] <= 70


def test_nor_through_a_job_seeker_record():
    """VDAB knows no year of birth: the toddler's record reaches the contract through a
    job-seeker record that looks like both; the merge is refused, the adult keeps it. (The
    other job seekers, some of the adults without a number, give the match model of VDAB
    against the others something to learn from.)"""
    ksz, integration = _register_and_contracts(2)
    rng = np.random.default_rng(3)
    toddler_clk = ksz.clks[CONFIRMED + 1:CONFIRMED + 2]
    others = perturb(rng, ksz.clks[:100], 0.02)
    vdab = EncodedSet("vdab", ["v0", *(f"v{i + 1}" for i in range(100))],
                      np.vstack([perturb(rng, toddler_clk, 0.005), others]), [None] * 101)
    ksz = EncodedSet(ksz.source, ksz.record_ids, ksz.clks, ksz.exact_tokens,
                     life=LifeYears(birth=ksz.life.birth))
    result = link([ksz, vdab, integration])
    toddler, contract = (0, CONFIRMED + 1), (2, CONFIRMED)
    assert not _together(result, toddler, contract)
    assert result.quality["solver"]["rejected_implausible_age"] >= 1


def test_too_few_confirmed_pairs_make_no_rule():
    assert learn(np.full(MIN_CONFIRMED - 1, 30.0)) is None
    assert learn(np.append(np.full(MIN_CONFIRMED, np.nan), [30.0])) is None
    rule = learn(np.arange(18.0, 18.0 + 2 * MIN_CONFIRMED) % 50 + 18)
    assert rule is not None and rule.low <= 16 and rule.high >= 67
    assert list(rule.plausible(np.array([rule.low - 1, 30.0, np.nan, rule.high + 1]))) == \
        [False, True, True, False]


def test_the_rule_reads_both_directions_and_unknown_years_pass():
    birth = np.array([1990.0, np.nan, np.nan, np.nan])
    event = np.array([np.nan, np.nan, 2020.5, 2020.5])
    confirmed = (np.zeros(MIN_CONFIRMED, dtype=int), np.full(MIN_CONFIRMED, 2))
    check = AgeCheck.learn(birth, event, confirmed)
    assert len(check.rules) == 1 and not check.rules[0][0]
    assert check.allows(0, 3) and check.allows(1, 3)          # 30 at the event; birth unknown
    young = AgeCheck(np.array([2015.0, np.nan, np.nan, np.nan]), event, check.rules)
    assert not young.allows(0, 3)
    keep, reports = young.keep(np.array([0, 1]), np.array([3, 3]))
    assert list(keep) == [False, True] and reports[0]["candidates_removed"] == 1
    # the year of birth in the second set of the pair, the event in the first
    swapped = AgeCheck.learn(np.array([np.nan, np.nan, 1990.0, 2016.0]),
                             np.array([2020.5, 2020.5, np.nan, np.nan]),
                             (np.zeros(MIN_CONFIRMED, dtype=int), np.full(MIN_CONFIRMED, 2)))
    assert len(swapped.rules) == 1 and swapped.rules[0][0]
    assert swapped.allows(1, 2) and not swapped.allows(1, 3)


def test_years_of_dates_ints_and_missing_values():
    assert years([dt.date(2020, 1, 1), None, dt.date(2020, 7, 2)]) == pytest.approx(
        [2020.0, np.nan, 2020.5], abs=0.01, nan_ok=True)
    assert list(years(pa.array([2001, None], pa.int64()))[:1]) == [2001.0]
    assert np.isnan(years([None, None])).all()


def test_the_bundled_sources_declare_the_years():
    ksz = LifeYears.from_payload(source_spec("ksz"), {"birth_year": [1990, None]})
    assert ksz.birth is not None and ksz.event is None and ksz.birth[0] == 1990.0
    contracts = LifeYears.from_payload(source_spec("integration"),
                                       {"contract_date": [dt.date(2021, 1, 1)]})
    assert contracts.event is not None and contracts.birth is None
    assert LifeYears.from_payload(source_spec("integration"), {}) == LifeYears()


def _without_ages(encoded: EncodedSet) -> EncodedSet:
    return EncodedSet(encoded.source, encoded.record_ids, encoded.clks, encoded.exact_tokens)
