"""Groupings: explicit country sets, date-aware EU membership, historic states, validation."""

import copy
import datetime as dt

import pytest

from linkage.origin import OriginError, country_table, group_of, grouping, groupings
from linkage.origin.groupings import groupings_document, parse_groupings

ON = dt.date(2024, 1, 1)


@pytest.mark.parametrize(("country", "day", "expected"), [
    ("139", dt.date(2004, 4, 30), "non_eu"),  # Poland, the day before accession
    ("139", dt.date(2004, 5, 1), "eu"),
    ("112", dt.date(2020, 1, 31), "eu"),  # United Kingdom, last day of membership
    ("112", dt.date(2020, 2, 1), "non_eu"),
    ("104", dt.date(1990, 10, 2), "non_eu"),  # GDR before reunification
    ("104", dt.date(1990, 10, 3), "eu"),
    ("146", dt.date(2013, 6, 30), "non_eu"),  # Croatia
    ("146", dt.date(2013, 7, 1), "eu"),
    ("150", dt.date(1957, 12, 31), "non_eu"),  # before the EEC existed
    ("150", dt.date(1958, 1, 1), "eu"),
    ("130", dt.date(2004, 5, 1), "eu"),  # Czechoslovakia: both successors are members
    ("130", dt.date(2004, 4, 30), "non_eu"),
    ("131", ON, "non_eu"),  # USSR: only some successors are members
    ("169", ON, "non_eu"),  # Yugoslavia: Slovenia and Croatia only
])
def test_eu_membership_is_date_aware(country, day, expected):
    assert group_of("eu", country, day) == expected


def test_belgian_eu_noneu_keeps_belgium_apart():
    assert group_of("belgian_eu_noneu", "150", ON) == "belgium"
    assert group_of("belgian_eu_noneu", "129", ON) == "eu_other"
    assert group_of("belgian_eu_noneu", "354", ON) == "non_eu"


def test_statbel_neighbours_include_the_uk_after_brexit():
    assert group_of("statbel_origin4", "112", dt.date(2024, 1, 1)) == "neighbours"
    assert group_of("statbel_origin4", "104", dt.date(1985, 1, 1)) == "neighbours"  # GDR via Germany
    assert group_of("statbel_origin4", "139", dt.date(2024, 1, 1)) == "eu_other"
    assert group_of("statbel_origin4", "139", dt.date(2000, 1, 1)) == "non_eu"


@pytest.mark.parametrize(("country", "expected"), [
    ("150", "belgium"), ("112", "eu14"), ("129", "eu14"), ("139", "eu13"), ("146", "eu13"),
    ("262", "candidates"), ("152", "candidates"), ("145", "other_europe"), ("153", "other_europe"),
    ("354", "maghreb"), ("351", "maghreb"), ("306", "other_africa"), ("352", "other_africa"),
    ("261", "near_middle_east"), ("251", "near_middle_east"), ("218", "far_east_oceania"),
    ("611", "far_east_oceania"), ("513", "south_central_america"), ("402", "north_america"),
    # historic states: by their successors' shared region, or the stated policy
    ("104", "eu14"), ("130", "eu13"), ("132", "candidates"), ("131", "other_europe"),
    ("169", "other_europe"), ("359", "other_africa"), ("364", "other_africa"),
])
def test_sem_regions(country, expected):
    assert group_of("sem_regions", country, ON) == expected


def test_sem_regions_are_fixed_lists():
    sem = grouping("sem_regions")
    assert not sem.date_aware
    assert group_of("sem_regions", "112", dt.date(2030, 1, 1)) == "eu14"  # the UK stays in EU14
    assert {c.key for c in sem.members("eu13", ON)} == {
        "BG", "CY", "CZ", "EE", "HR", "HU", "LT", "LV", "MT", "PL", "RO", "SI", "SK", "CSHH"}


def test_every_country_has_exactly_one_group_in_every_grouping():
    table = country_table()
    for g in groupings():
        for day in g.check_dates():
            placed = [c.key for group in g.groups for c in g.members(group, day)]
            assert sorted(placed) == sorted(table.keys()), (g.name, day)


def test_unknown_country_is_in_the_unknown_group():
    for g in groupings():
        assert g.group_of(None, ON) == "unknown"
        assert g.group_of("999", ON) == "unknown"


def _doc():
    return copy.deepcopy(groupings_document())


def test_a_country_in_two_lists_is_rejected():
    doc = _doc()
    doc["groupings"]["sem_regions"]["rules"][2]["countries"].append("NL")  # NL also in eu14
    with pytest.raises(OriginError, match="NL is listed in both eu14 and eu13"):
        parse_groupings(doc, country_table())


def test_a_country_missing_from_every_list_is_rejected():
    doc = _doc()
    doc["groupings"]["sem_regions"]["rules"][-1]["countries"].remove("US")
    with pytest.raises(OriginError, match="places no group for country US"):
        parse_groupings(doc, country_table())


def test_a_historic_state_with_divided_successors_needs_a_placement():
    doc = _doc()
    del doc["groupings"]["sem_regions"]["historic"]["SUHH"]
    with pytest.raises(OriginError, match="SUHH"):
        parse_groupings(doc, country_table())


def test_an_unknown_country_key_is_rejected():
    doc = _doc()
    doc["groupings"]["eu15"]["rules"][0]["countries"].append("ZZ")
    with pytest.raises(OriginError, match="ZZ not in the code table"):
        parse_groupings(doc, country_table())


def test_unknown_grouping_lists_the_known_ones():
    with pytest.raises(OriginError, match="sem_regions"):
        grouping("continents")
