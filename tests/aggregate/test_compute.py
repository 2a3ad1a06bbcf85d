"""Exact counts against small cases computed by hand."""

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.aggregate.compute import LinkedData, LinkedDataError, compute
from linkage.aggregate.request import validate_request

from .helpers import ksz_person, linked, source_rows

D = dt.date


def request(population, measures, dimensions=(), period=2022, reference_date=D(2025, 12, 31)):
    return validate_request({
        "authorisation": "IVC-24-001", "population": population, "period": period,
        "measures": list(measures), "dimensions": list(dimensions),
        "reference_date": reference_date,
    })


def nonzero(values):
    return {cell: n for cell, n in values.items() if n}


def test_outflow_to_work_counts_calendar_months_and_the_period_filter():
    vdab = [
        # in the 2022 cohort; exit to work 6 months later exactly -> within 6m
        {"entity_id": 1, "registration_date": D(2022, 1, 31), "exit_date": D(2022, 7, 31), "exit_reason": "work"},
        # month-end clamping: 31 Aug + 6 months = 28 Feb
        {"entity_id": 2, "registration_date": D(2022, 8, 31), "exit_date": D(2023, 2, 28), "exit_reason": "work"},
        {"entity_id": 3, "registration_date": D(2022, 8, 31), "exit_date": D(2023, 3, 1), "exit_reason": "work"},
        # left for training: never outflow to work
        {"entity_id": 4, "registration_date": D(2022, 3, 1), "exit_date": D(2022, 4, 1), "exit_reason": "training"},
        # still registered
        {"entity_id": 5, "registration_date": D(2022, 12, 31)},
        # other cohort
        {"entity_id": 6, "registration_date": D(2021, 12, 31), "exit_date": D(2022, 1, 2), "exit_reason": "work"},
    ]
    tables = compute(request("vdab", ["persons", "outflow_to_work_6m", "outflow_to_work_12m"]),
                     linked(vdab=vdab))
    assert tables["persons"].counts == {(): 5}
    assert tables["persons"].numerators is None
    assert (tables["outflow_to_work_6m"].counts, tables["outflow_to_work_6m"].numerators) == ({(): 5}, {(): 2})
    assert tables["outflow_to_work_12m"].numerators == {(): 3}


def test_employment_rate_by_sex_and_age_uses_the_period_position_and_ages_20_to_64():
    ksz = [
        ksz_person(1, "F", 2002, sep_2022="111"),    # age 20: in, at work
        ksz_person(2, "F", 2003, sep_2022="111"),    # age 19: out of the cohort
        ksz_person(3, "M", 1958, sep_2022="121"),    # age 64: in, self-employed
        ksz_person(4, "M", 1957, sep_2022="111"),    # age 65: out
        ksz_person(5, "M", 1980, sep_2022="211"),    # job seeker: in, not at work
        ksz_person(6, "M", 1980, sep_2021="111"),    # no 2022 position: not in the ksz 2022 population
        ksz_person(7, "F", 1990, sep_2022="411"),    # unknown position: still a known code, not at work
    ]
    tables = compute(request("ksz", ["persons", "employment_rate"], ["sex", "age_band:broad"]),
                     linked(ksz=ksz))
    persons = nonzero(tables["persons"].counts)
    assert persons == {("F", "0-24"): 2, ("M", "50-64"): 1, ("M", "65+"): 1, ("M", "25-49"): 1,
                       ("F", "25-49"): 1}
    rate = tables["employment_rate"]
    assert nonzero(rate.counts) == {("F", "0-24"): 1, ("M", "50-64"): 1, ("M", "25-49"): 1, ("F", "25-49"): 1}
    assert nonzero(rate.numerators) == {("F", "0-24"): 1, ("M", "50-64"): 1}
    # every leaf exists, zeros included, in the registry's order
    assert list(rate.counts)[:3] == [("M", "0-24"), ("M", "25-49"), ("M", "50-64")]
    assert len(rate.counts) == 3 * 5


def test_unlinked_population_records_count_as_unknown_and_leave_the_rates():
    vdab = [{"entity_id": e, "registration_date": D(2022, 5, 1), "exit_date": D(2022, 9, 1),
             "exit_reason": "work", "education_level": "low"} for e in (1, 2, 3)]
    ksz = [ksz_person(1, "F", 1990, sep_2022="111"), ksz_person(2, "M", 1990, sep_2022="211"),
           ksz_person(99, "M", 1990, sep_2022="111")]   # 99 is linked to no vdab record
    tables = compute(request("vdab", ["persons", "employment_rate", "outflow_to_work_6m"], ["sex"]),
                     linked(vdab=vdab, ksz=ksz))
    assert nonzero(tables["persons"].counts) == {("F",): 1, ("M",): 1, ("unknown",): 1}
    # employment needs KSZ: the unlinked job seeker is outside the cohort
    assert nonzero(tables["employment_rate"].counts) == {("F",): 1, ("M",): 1}
    assert nonzero(tables["employment_rate"].numerators) == {("F",): 1}
    # outflow needs only VDAB: the unlinked job seeker is in it, with sex unknown
    assert nonzero(tables["outflow_to_work_6m"].numerators) == {("F",): 1, ("M",): 1, ("unknown",): 1}


def test_school_delay_excludes_okan_and_dbso_and_early_leaving_counts_leavers_only():
    education = [
        {"entity_id": 1, "school_year": 2022, "level": "secondary", "track": "ASO", "delay_years": 0},
        {"entity_id": 2, "school_year": 2022, "level": "secondary", "track": "BSO", "delay_years": 2,
         "early_leaver": True},
        {"entity_id": 3, "school_year": 2022, "level": "secondary", "track": "okan", "delay_years": 3},
        {"entity_id": 4, "school_year": 2022, "level": "primary", "track": "primary", "delay_years": 1},
        {"entity_id": 5, "school_year": 2022, "level": "secondary", "track": "TSO", "delay_years": 0,
         "early_leaver": False},
        {"entity_id": 6, "school_year": 2021, "level": "secondary", "track": "BSO", "delay_years": 1,
         "early_leaver": True},
    ]
    tables = compute(request("education", ["school_delay_rate", "early_leaving_rate"], ["school_level"]),
                     linked(education=education))
    delay = tables["school_delay_rate"]
    assert nonzero(delay.counts) == {("primary",): 1, ("secondary",): 3}
    assert nonzero(delay.numerators) == {("primary",): 1, ("secondary",): 1}
    leaving = tables["early_leaving_rate"]
    assert nonzero(leaving.counts) == {("secondary",): 2}
    assert nonzero(leaving.numerators) == {("secondary",): 1}


def test_integration_measures_and_the_cross_source_outcome_dimension():
    integration = [
        {"entity_id": 1, "contract_date": D(2020, 2, 1), "status": "attest", "attest_date": D(2021, 6, 1),
         "nt2_level": "A2", "mo_test_passed": True},
        {"entity_id": 2, "contract_date": D(2020, 3, 1), "status": "attest", "attest_date": D(2022, 3, 2),
         "nt2_level": "B1", "mo_test_passed": True},
        {"entity_id": 3, "contract_date": D(2020, 4, 1), "status": "stopped", "nt2_level": "A1",
         "mo_test_passed": False},
        {"entity_id": 4, "contract_date": D(2020, 5, 1), "status": "exempt"},
    ]
    ksz = [ksz_person(e, "F", 1990, sep_2022=code) for e, code in ((1, "111"), (2, "211"), (3, "111"), (4, "111"))]
    tables = compute(
        request("integration", ["integration_completion_rate", "integration_attest_24m_rate",
                                "nt2_a2_or_higher_rate", "mo_test_pass_rate", "employment_rate_after_2y"],
                ["integration_outcome"], period=2020),
        linked(integration=integration, ksz=ksz))
    assert nonzero(tables["integration_completion_rate"].counts) == {("completed",): 2, ("not_completed",): 1}
    assert nonzero(tables["integration_completion_rate"].numerators) == {("completed",): 2}
    assert nonzero(tables["integration_attest_24m_rate"].numerators) == {("completed",): 1}
    assert nonzero(tables["nt2_a2_or_higher_rate"].numerators) == {("completed",): 2}
    assert nonzero(tables["mo_test_pass_rate"].counts) == {("completed",): 2, ("not_completed",): 1}
    employment = tables["employment_rate_after_2y"]   # position on 31 December 2022
    assert nonzero(employment.counts) == {("completed",): 2, ("not_completed",): 1, ("exempt",): 1}
    assert nonzero(employment.numerators) == {("completed",): 1, ("not_completed",): 1, ("exempt",): 1}


def test_job_seekers_without_a_trajectory_are_their_own_category():
    vdab = [{"entity_id": e, "registration_date": D(2022, 1, 1)} for e in (1, 2)]
    integration = [{"entity_id": 1, "contract_date": D(2020, 1, 1), "status": "ongoing"}]
    tables = compute(request("vdab", ["persons"], ["integration_outcome"]),
                     linked(vdab=vdab, integration=integration))
    assert nonzero(tables["persons"].counts) == {("not_completed",): 1, ("no_trajectory",): 1}


def test_several_periods_need_and_fill_the_period_dimension():
    ksz = [ksz_person(1, sep_2021="111", sep_2022="111"), ksz_person(2, sep_2022="211")]
    tables = compute(request("ksz", ["persons"], ["period", "age_band"], period=[2021, 2022]), linked(ksz=ksz))
    assert nonzero(tables["persons"].counts) == {("2021", "40-49"): 1, ("2022", "40-49"): 2}


def test_margins_are_sums_of_leaves():
    ksz = [ksz_person(i, "MF"[i % 2], 1950 + i, sep_2022="111" if i % 3 else "211") for i in range(40)]
    table = compute(request("ksz", ["employment_rate"], ["sex", "age_band"]), linked(ksz=ksz))["employment_rate"]
    by_sex = table.margin(["sex"])
    for sex in ("M", "F", "unknown"):
        assert by_sex.counts[(sex,)] == sum(n for (s, _), n in table.counts.items() if s == sex)
        assert by_sex.numerators[(sex,)] == sum(n for (s, _), n in table.numerators.items() if s == sex)
    assert table.margin([]).counts[()] == sum(table.counts.values())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["M", "F", None]), st.integers(1930, 2020),
                          st.sampled_from(["111", "211", "311", None])), max_size=40))
def test_every_population_record_lands_in_exactly_one_leaf(people):
    ksz = [ksz_person(i, sex, year, **({"sep_2022": sep} if sep else {})) for i, (sex, year, sep) in enumerate(people)]
    tables = compute(request("ksz", ["persons", "employment_rate"], ["sex", "age_band:five_year"]), linked(ksz=ksz))
    in_population = sum(1 for _, _, sep in people if sep)
    assert sum(tables["persons"].counts.values()) == in_population
    expected_cohort = sum(1 for _, year, sep in people if sep and 20 <= 2022 - year <= 64)
    assert sum(tables["employment_rate"].counts.values()) == expected_cohort
    assert sum(tables["employment_rate"].numerators.values()) == sum(
        1 for _, year, sep in people if sep == "111" and 20 <= 2022 - year <= 64)


def test_linked_data_that_do_not_fit_are_refused():
    req = request("vdab", ["employment_rate"])
    vdab = [{"entity_id": 1, "registration_date": D(2022, 1, 1)}]
    with pytest.raises(LinkedDataError, match="no linked ksz data.*birth_year"):
        compute(req, linked(vdab=vdab))
    twice = linked(vdab=vdab + vdab, ksz=[ksz_person(1, sep_2022="111")])
    with pytest.raises(LinkedDataError, match="vdab: entity ids must be present and unique"):
        compute(req, twice)
    narrow = LinkedData({"vdab": source_rows("vdab", vdab),
                         "ksz": source_rows("ksz", [ksz_person(1)]).drop_columns(["sep_2022"])})
    with pytest.raises(LinkedDataError, match="lack column.*sep_2022"):
        compute(req, narrow)
    mistyped = source_rows("ksz", [ksz_person(1)]).set_column(
        2, "birth_year", pa.array(["1980"], pa.string()))
    with pytest.raises(LinkedDataError, match="ksz.birth_year is string; it is declared as int32"):
        compute(req, LinkedData({"vdab": source_rows("vdab", vdab), "ksz": mistyped}))


def test_residence_bridges_old_codes_and_places_brussels_outside_the_provinces():
    ksz = [
        ksz_person(1, municipality="11002", sep_2022="111"),   # Antwerpen
        ksz_person(2, municipality="11007", sep_2022="111"),   # Borsbeek, merged into Antwerpen in 2025
        ksz_person(3, municipality="12030", sep_2022="111"),   # Puurs, merged in 2019 (Puurs-Sint-Amands)
        ksz_person(4, municipality="21004", sep_2022="111"),   # Brussel
        ksz_person(5, municipality="99999", sep_2022="111"),   # not a municipality code
        ksz_person(6, municipality=None, sep_2022="111"),
    ]
    data = linked(ksz=ksz)
    municipality = nonzero(compute(request("ksz", ["persons"], ["municipality"]), data)["persons"].counts)
    assert municipality == {("11002",): 2, ("12041",): 1, ("21004",): 1, ("unknown",): 2}
    province = nonzero(compute(request("ksz", ["persons"], ["province"]), data)["persons"].counts)
    assert province == {("10000",): 3, ("no_province",): 1, ("unknown",): 2}
    region = compute(request("ksz", ["persons"], ["region"]), data)["persons"]
    assert nonzero(region.counts) == {("02000",): 3, ("04000",): 1, ("unknown",): 2}
    assert region.dimensions[0].labels["02000"].startswith("Vla")
