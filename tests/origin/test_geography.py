"""Municipalities, provinces and regions with the 2019 and 2025 mergers."""

import collections
import datetime as dt

import pytest

from linkage.geography import (
    FLEMISH_REGION,
    GeographyError,
    current_code,
    hierarchy,
    municipalities,
    municipality,
    province_of,
    region_of,
)

D2018, D2019, D2024, D2025 = dt.date(2018, 12, 31), dt.date(2019, 1, 1), dt.date(2024, 12, 31), dt.date(2025, 1, 1)


@pytest.mark.parametrize(("day", "flemish", "belgian"), [
    (D2018, 308, 589), (D2019, 300, 581), (D2024, 300, 581), (D2025, 285, 565)])
def test_municipality_counts_before_and_after_the_mergers(day, flemish, belgian):
    assert len(municipalities(day, FLEMISH_REGION)) == flemish
    assert len(municipalities(day)) == belgian


def test_flemish_municipalities_per_province_in_2025():
    counts = collections.Counter(m.province for m in municipalities(D2025, FLEMISH_REGION))
    assert counts == {"10000": 67, "20001": 63, "30000": 62, "40000": 55, "70000": 38}


@pytest.mark.parametrize(("old", "day", "expected"), [
    ("71022", D2025, "71072"),  # Hasselt + Kortessem
    ("73040", D2025, "71072"),  # Kortessem, in arrondissement Tongeren, into Hasselt
    ("11056", D2025, "46030"),  # Zwijndrecht into Beveren-Kruibeke-Zwijndrecht (East Flanders)
    ("11007", D2025, "11002"),  # Borsbeek into Antwerpen, which keeps its code
    ("44029", D2019, "44084"),  # Knesselare into Aalter (2019)
    ("44011", D2019, "44083"),  # Deinze renumbered on merging with Nevele
    ("44029", dt.date(2026, 6, 1), "44084"),
    ("12030", D2025, "12041"),  # Puurs, 2019
    ("71022", D2024, "71022"),  # still in force the day before
    ("11002", D2025, "11002"),
    ("54007", D2019, "57096"),  # Mouscron renumbered in 2019
])
def test_current_code_bridges_mergers(old, day, expected):
    assert current_code(old, day) == expected


def test_current_code_cannot_split_a_merged_municipality():
    with pytest.raises(GeographyError, match="cannot be split back"):
        current_code("46030", D2024)


def test_municipality_is_date_aware():
    assert municipality("46030", D2025).name == "Beveren-Kruibeke-Zwijndrecht"
    assert municipality("71022", D2024).name == "Hasselt"
    with pytest.raises(GeographyError, match="71022 .*Hasselt.* not on 2025-01-01"):
        municipality("71022", D2025)
    with pytest.raises(GeographyError, match="covers 1995-01-01 onwards"):
        municipality("11002", dt.date(1990, 1, 1))


def test_provinces_as_they_were_while_the_code_was_in_force():
    assert province_of("11056") == "10000"  # Zwijndrecht was in the province of Antwerp
    assert province_of("46030") == "40000"
    assert province_of("21004") is None  # Brussels has no province
    assert region_of("21004") == "04000" and region_of("62063") == "03000" and region_of("11002") == FLEMISH_REGION


@pytest.mark.parametrize("bad", ["1100", "11002x", "99999", 11002])
def test_bad_codes(bad):
    with pytest.raises(GeographyError):
        province_of(bad)


def test_hierarchy_for_a_table_dimension():
    h = hierarchy(D2025)
    assert len(h.categories) == 285 and len(set(h.categories)) == 285
    assert h.parents["46030"] == "40000" and h.parents["40000"] == FLEMISH_REGION
    assert set(h.parents) == set(h.categories) | {"10000", "20001", "30000", "40000", "70000"}
    assert h.names["20001"] == "Vlaams-Brabant" and h.names["11002"] == "Antwerpen"
    before = hierarchy(D2024)
    assert "71022" in before.categories and "71072" not in before.categories
    brussels = hierarchy(D2025, "04000")
    assert len(brussels.categories) == 19 and brussels.parents["21004"] == "04000"
