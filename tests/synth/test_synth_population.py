"""The population looks like Flanders: origin shares, generations, nationality history,
coverage of the sources and payload consistent with each person."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from linkage.synth.countries import BY_NIS

FOREIGN_TARGET = 0.26


def foreign_origin(p: dict[str, str]) -> bool:
    """The four-criteria definition (integration decree): any of the four not Belgian."""
    values = (p["nat_current"], p["nat_first"], p["nat_first_father"], p["nat_first_mother"])
    return any(v not in ("", "150") for v in values)


def age(p: dict[str, str]) -> int:
    return 2024 - int(p["birth_date"][:4])


def test_foreign_origin_share_and_its_age_gradient(large):
    persons = large.rows("persons")
    share = sum(map(foreign_origin, persons)) / len(persons)
    assert abs(share - FOREIGN_TARGET) < 0.015
    young = [foreign_origin(p) for p in persons if age(p) < 6]
    old = [foreign_origin(p) for p in persons if age(p) >= 80]
    assert sum(young) / len(young) > 0.30
    assert sum(old) / len(old) < 0.08


def test_largest_origins_are_those_of_flanders(large):
    origins = Counter(p["origin_country"] for p in large.rows("persons") if p["origin_country"] != "150")
    top = [BY_NIS[code].iso2 for code, _ in origins.most_common(6)]
    assert top[:3] == ["NL", "MA", "TR"]
    assert {"IT", "PL", "RO"} <= set(top)
    for code in ("306", "261", "251", "349", "143", "106", "111", "109"):   # CD SY AF ER UA BG FR ES
        assert origins[code] > 0, BY_NIS[code].name


def test_statbel_three_way_typology_is_plausible(large):
    persons = large.rows("persons")
    n = len(persons)
    non_belgian = sum(p["nat_current"] != "150" for p in persons) / n
    naturalised = sum(p["nat_current"] == "150" and p["nat_first"] != "150" for p in persons) / n
    second = sum(p["nat_current"] == "150" and p["nat_first"] == "150" and foreign_origin(p)
                 for p in persons) / n
    assert 0.08 < non_belgian < 0.15
    assert 0.04 < naturalised < 0.10
    assert 0.04 < second < 0.10


def test_generations_and_nationality_history_agree(large):
    for p in large.rows("persons"):
        if p["generation"] == "none":
            assert p["origin_country"] == "150"
            assert {p["nat_current"], p["nat_first"]} == {"150"}
        if p["generation"] == "first":
            assert p["arrival_date"] and p["arrival_date"] > p["birth_date"]
            assert p["nat_first"] != "150"
        else:
            assert p["arrival_date"] == ""
        if p["nat_current"] != "150":
            assert p["nat_first"] == p["nat_current"] or p["nat_first"] not in BY_NIS


def test_unknown_fathers_more_often_than_unknown_mothers(large):
    persons = large.rows("persons")
    fathers = sum(p["nat_first_father"] == "" for p in persons)
    mothers = sum(p["nat_first_mother"] == "" for p in persons)
    assert fathers > mothers > 0


def test_historic_codes_appear_for_older_cohorts_only(large):
    historic = {"169", "131", "130", "132", "359", "364"}
    with_historic = [p for p in large.rows("persons")
                     if historic & {p["nat_first"], p["nat_first_father"], p["nat_first_mother"]}]
    assert with_historic
    for p in with_historic:
        if "169" in (p["nat_first_father"], p["nat_first_mother"]):
            assert int(p["birth_date"][:4]) <= 1991


def test_sources_cover_the_right_people(large):
    persons = large.persons()
    for source in ("ksz", "vdab", "integration", "education"):
        person_of = large.person_of(source)
        covered = {person_of[r["record_id"]] for r in large.rows(source)}
        people = [persons[i] for i in covered]
        if source == "ksz":
            assert len(covered) > 0.99 * len(persons)
        if source == "vdab":
            assert all(17 <= age(p) <= 72 for p in people)
            share_foreign = sum(map(foreign_origin, people)) / len(people)
            assert share_foreign > FOREIGN_TARGET + 0.05
        if source == "integration":
            assert all(p["generation"] == "first" for p in people)
            non_eu = sum(not BY_NIS[p["origin_country"]].eu for p in people)
            assert non_eu > 0.9 * len(people)
        if source == "education":
            assert all(6 <= age(p) <= 32 for p in people)


def test_socio_economic_positions_fit_age(large):
    for p in large.rows("persons"):
        a = age(p)
        code = p["ksz_sep_2024"]
        if a < 18:
            assert code == "341"
        if a >= 67:
            assert code[0] in "134"


def test_employment_gap_by_origin(large):
    def rate(group):
        adults = [p for p in group if 20 <= age(p) <= 64]
        return sum(p["ksz_sep_2024"].startswith("1") for p in adults) / len(adults)

    persons = large.rows("persons")
    belgian = [p for p in persons if p["origin_country"] == "150"]
    maghreb = [p for p in persons if p["origin_country"] in ("354", "351", "357")]
    assert 0.72 < rate(belgian) < 0.84
    assert rate(belgian) - rate(maghreb) > 0.12


def test_vdab_spells_are_consistent(large):
    persons = large.persons()
    person_of = large.person_of("vdab")
    for r in large.rows("vdab"):
        p = persons[person_of[r["record_id"]]]
        registered = dt.date.fromisoformat(r["registration_date"])
        assert registered >= dt.date.fromisoformat(p["birth_date"]).replace(day=1) + dt.timedelta(days=17 * 365)
        if p["arrival_date"]:
            assert registered >= dt.date.fromisoformat(p["arrival_date"])
        assert (r["exit_date"] == "") == (r["exit_reason"] == "")
        if r["exit_date"]:
            assert dt.date.fromisoformat(r["exit_date"]) > registered
        if r["exit_reason"] == "work":   # at work at the end of the year of exit
            assert p[f"ksz_sep_{r['exit_date'][:4]}"].startswith("1")


def test_integration_trajectories_are_consistent(large):
    for r in large.rows("integration"):
        if r["status"] == "attest":
            assert r["attest_date"] > r["contract_date"]
            assert r["nt2_level"] in ("A2", "B1", "B2", "C1") and r["mo_test_passed"] == "1"
        else:
            assert r["attest_date"] == ""
        assert r["contract_date"] < "2025-01-01"


def test_school_delay_and_early_leaving_follow_research_levels(large):
    persons = large.persons()
    person_of = large.person_of("education")
    rows = [(r, persons[person_of[r["record_id"]]]) for r in large.rows("education")]

    def delayed(level, foreign=None):
        sel = [int(r["delay_years"]) > 0 for r, p in rows
               if r["level"] == level and r["school_year"] == "2024" and r["track"] != "okan"
               and (foreign is None or (p["origin_country"] != "150") == foreign)]
        return sum(sel) / len(sel)

    assert 0.08 < delayed("primary") < 0.18
    assert 0.17 < delayed("secondary") < 0.30
    assert delayed("secondary", True) > delayed("secondary", False) + 0.08
    leavers = [(r["early_leaver"] == "1", p["origin_country"] != "150") for r, p in rows if r["early_leaver"]]
    overall = sum(e for e, _ in leavers) / len(leavers)
    assert 0.06 < overall < 0.13
    for r, p in rows:
        assert 6 <= int(r["school_year"]) - int(p["birth_date"][:4]) <= 24
        if r["level"] == "primary":
            assert r["track"] == "primary" and r["early_leaver"] == ""


def test_calibration_report_summarises_the_directory(small, capsys):
    from linkage.synth.calibration import main, report

    figures = report(small.outdir)
    assert figures["persons"] == 6000
    assert figures["vdab_records"] == len(small.rows("vdab"))
    assert figures["ksz_postcode_differs"] == 0.0 and figures["vdab_postcode_differs"] > 0
    assert 0.2 < figures["foreign_origin_4_criteria"] < 0.32
    assert main([str(small.outdir)]) == 0
    assert "employment_20_64_belgian_origin" in capsys.readouterr().out
    assert main([str(small.outdir / "nothing")]) == 2
