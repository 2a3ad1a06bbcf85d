"""The attacks: sets of requests by several requesters that relate releases through the
persons they count. Each says what the attacker holds and what it expects to learn; the
expectation of the defence is always the same: nothing (see docs/disclosure_attacks.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tests.attack.service import Ask

KSZ_2022 = {"population": "ksz", "period": 2022, "measures": ["persons"],
            "reference_date": dt.date(2023, 12, 31)}
ORIGIN = "origin_group:sem"
COARSE = "origin_group:sem:belgian_eu_noneu"
BROAD = "age_band:broad"


@dataclass(frozen=True)
class Scenario:
    asks: tuple[Ask, ...]
    holds: str
    learns: str
    use_labels: bool = False
    broken_today: bool = False
    """The defence does not hold against it yet (measured): the test is ``xfail(strict=True)``
    until it lands, so that the mark must go the day it does."""


def _ksz(requester: str, dimensions: list[str], run: str = "run-1", **changes) -> Ask:
    return Ask(requester, {**KSZ_2022, "dimensions": dimensions, **changes}, run)


def _rate(requester: str, measure: str, dimensions: list[str], **changes) -> Ask:
    return _ksz(requester, dimensions, measures=[measure], **changes)


VDAB_2021 = {"population": "vdab", "period": 2021, "reference_date": dt.date(2024, 12, 31)}
INTEGRATION = {"population": "integration", "period": [2021, 2022, 2023, 2024],
               "reference_date": dt.date(2024, 12, 31)}

SCENARIOS: dict[str, Scenario] = {
    "labels_and_reasons": Scenario(
        (_ksz("a", [ORIGIN, "sex"]), _rate("a", "employment_rate", [ORIGIN, "sex"])),
        "one person table and one rate table, with every status and reason",
        "primary = 1..k-1, 'rate 0%' = numerator 0, 'rate 100%' = complement 0",
        use_labels=True),
    "five_vs_ten_year_bands": Scenario(
        (_ksz("a", [COARSE, "sex", "age_band:five_year"]),
         _ksz("b", [COARSE, "sex", "age_band:ten_year"])),
        "persons by five-year bands (requester a) and by ten-year bands (requester b)",
        "a five-year band = its ten-year band minus the other five-year half"),
    "nested_cohort_denominators": Scenario(
        (_ksz("a", [ORIGIN, "age_band:labour"]),
         _rate("b", "employment_rate", [ORIGIN, "age_band:labour"])),
        "persons by labour-age bands, and the employment rate by the same bands",
        "a rate's denominator is the person count of its band (the cohort is everyone 20-64)"),
    "numerator_and_cohort_vs_counts": Scenario(
        (Ask("a", {**INTEGRATION, "measures": ["persons"], "dimensions": ["integration_outcome", "period"]}),
         Ask("b", {**INTEGRATION, "measures": ["integration_completion_rate"], "dimensions": ["period"]})),
        "integration persons by outcome, and the completion rate (another requester)",
        "exempt = persons - completion denominator; completed = the rate's numerator"),
    "origin_groupings_of_one_definition": Scenario(
        (_ksz("a", [ORIGIN, "sex", BROAD]), _ksz("b", ["origin_group:sem:eu15", "sex", BROAD]),
         _ksz("c", ["origin_category:sem", "sex", BROAD]), _ksz("d", ["generation:sem", "sex", BROAD])),
        "the same persons by sem regions, EU15, origin category and generation",
        "groups of one grouping as differences of groups of another (same origin country)"),
    "origin_definitions": Scenario(
        (_ksz("a", [ORIGIN, "sex", BROAD]), _ksz("b", ["origin_group:statbel:sem_regions", "sex", BROAD]),
         _ksz("c", ["origin_group:serv_eu15:sem_regions", "sex", BROAD])),
        "the same persons under the sem, Statbel and SERV definitions",
        "persons classified differently by two definitions, as differences"),
    "reference_dates_one_day_apart": Scenario(
        (_ksz("a", ["origin_group:sem:eu", "sex", BROAD], period=2019,
              reference_date=dt.date(2020, 1, 31)),
         _ksz("b", ["origin_group:sem:eu", "sex", BROAD], period=2019,
              reference_date=dt.date(2020, 2, 1))),
        "EU vs non-EU origin on 31 January and on 1 February 2020 (the United Kingdom left)",
        "persons of British origin per sex and age: EU on one date minus EU on the next"),
    "overlapping_period_lists": Scenario(
        (_ksz("a", ["period", ORIGIN, "sex", BROAD], period=[2022, 2023]),
         _ksz("b", [ORIGIN, "sex", BROAD], period=2023)),
        "persons for 2022-2023 by period, and for 2023 alone",
        "the 2023 cells are the same persons under two ledger names"),
    "pooled_vs_per_period": Scenario(
        (_ksz("a", ["period", ORIGIN, BROAD], period=[2022, 2023]),
         _ksz("b", [ORIGIN, "sex", BROAD], period=2022), _ksz("c", [ORIGIN, "sex", BROAD], period=2023)),
        "a two-period table without sex, and each period by sex",
        "per-period margins of the pooled table fix cells of the single-period tables"),
    "one_extra_dimension": Scenario(
        (_ksz("a", [ORIGIN, "sex"]), _ksz("b", [ORIGIN, "sex", "province"])),
        "a table and the same table split by region",
        "the region split's margins are the first table's cells"),
    "filters_differing_by_one_condition": Scenario(
        tuple(Ask(r, {**VDAB_2021, "measures": [m], "dimensions": [COARSE, "sex"]})
              for r, m in (("a", "outflow_to_work_6m"), ("b", "outflow_to_work_12m"),
                           ("c", "outflow_to_work_18m"))),
        "outflow to work within 6, 12 and 18 months, same job seekers",
        "persons who found work between 6 and 12 (12 and 18) months, as numerator differences"),
    "complementary_populations": Scenario(
        (_ksz("a", [ORIGIN, "sex"]), _rate("b", "employment_rate", [ORIGIN, "sex"])),
        "all residents, and the employment-rate cohort (ages 20-64) of the same residents",
        "residents under 20 or over 64 as person count minus denominator"),
    "repeated_requests": Scenario(
        tuple(_ksz(r, [ORIGIN, "sex", BROAD]) for r in ("a", "b", "c")),
        "the same request by three requesters",
        "nothing if answers are identical; averaging if noise differs between answers"),
    "two_requesters_split_a_table": Scenario(
        (_ksz("a", [ORIGIN, "sex"]), _ksz("b", [ORIGIN, BROAD]),
         _ksz("c", ["sex", BROAD])),
        "the three two-way margins of origin x sex x age, asked by three requesters",
        "cells hidden in one margin fixed by another"),
    "geography_levels": Scenario(
        (_ksz("a", ["province", ORIGIN]), _ksz("b", ["region", ORIGIN, "sex"])),
        "persons by province, and by region and sex",
        "a region is a sum of provinces: hidden provinces by difference"),
    "two_runs_with_newcomers": Scenario(
        (_ksz("a", [ORIGIN, "sex", BROAD], run="run-1"), _ksz("b", [ORIGIN, "sex", BROAD], run="run-2")),
        "the same table on this year's run and on next year's (a few newcomers)",
        "the newcomers' origin and sex, as next year's cell minus this year's"),
    # -- relations beyond the five (added with the second round of the attacker) --
    "numerator_flag_as_population": Scenario(
        (_ksz("a", ["integration_outcome", ORIGIN]),
         Ask("b", {**INTEGRATION, "measures": ["integration_completion_rate"],
                  "dimensions": ["period", ORIGIN]})),
        "residents by civic-integration outcome, and the completion rate over contracts 2021-2024",
        "the 'completed' residents and the rate's numerator count nearly the same persons"),
    "rate_denominators_across_measures": Scenario(
        (_ksz("a", [COARSE, "sex", "age_band:five_year"]),
         _ksz("b", [COARSE, "sex"], measures=["employment_rate", "employment_rate_after_2y"],
              period=2021, reference_date=dt.date(2024, 12, 31))),
        "persons by five-year bands, and two employment rates whose cohorts are ages 20-64 in "
        "different years (one request)",
        "persons aged 18-19 or 63-64 as the difference of the two denominators and the bands"),
    "municipality_province_region": Scenario(
        (_ksz("a", ["municipality", COARSE]), _ksz("b", ["province", COARSE, "sex"]),
         _ksz("c", ["region", COARSE])),
        "persons by municipality, by province and sex, and by region",
        "a province is the sum of its municipalities: one hidden municipality by difference"),
    "one_country_apart_groupings": Scenario(
        (_ksz("a", ["origin_group:sem:eu15", "sex", "age_band:five_year"]),
         _ksz("b", ["origin_group:sem:eu", "sex", "age_band:five_year"]),
         _ksz("c", ["origin_category:sem", "sex", BROAD])),
        "the same persons by EU15, EU and the sem origin category",
        "persons whose origin is in the EU but not in EU15, as differences of published groups"),
    "overlapping_period_lists_split": Scenario(
        (_ksz("a", ["period", ORIGIN, "sex"], period=[2021, 2022]),
         _ksz("b", ["period", ORIGIN, BROAD], period=[2022, 2023]),
         _ksz("c", ["sex", BROAD], period=2022)),
        "2021-2022 by origin and sex, 2022-2023 by origin and age, 2022 by sex and age",
        "the shared year's three two-way margins, each from a different period list"),
    "two_runs_different_tables": Scenario(
        (_ksz("a", [ORIGIN, "sex"], run="run-1"), _ksz("b", [ORIGIN, BROAD], run="run-1"),
         _ksz("c", [ORIGIN, "sex", BROAD], run="run-2")),
        "two margins on this year's run, the full table on next year's",
        "next year's cells minus this year's margins: the newcomers and this year's hidden cells"),
    "repeated_requests_tiny_changes": Scenario(
        (_ksz("a", [ORIGIN, "sex", BROAD]), _ksz("b", ["sex", ORIGIN, BROAD]),
         _ksz("c", [ORIGIN, "sex", BROAD], reference_date=dt.date(2024, 1, 1)),
         _ksz("d", [ORIGIN, "sex", BROAD], period=[2022])),
        "one table asked four ways: dimensions reordered, reference date one day later, the "
        "period as a one-year list",
        "nothing if the same persons get the same figures; averaging if any noise differs"),
    "one_status_from_two_periods": Scenario(
        (_rate("a", "employment_rate", [ORIGIN, "sex", BROAD], period=2023),
         _rate("b", "employment_rate_after_2y", [ORIGIN, "sex", BROAD], period=2021)),
        "the employment rate of 2023, and the employment rate two years after 2021 (the same "
        "position at the end of 2023, for the 2021 population)",
        "the persons of 2023 who were not in the 2021 population, and their status, as "
        "differences of the two rates' cohorts and numerators"),
}
