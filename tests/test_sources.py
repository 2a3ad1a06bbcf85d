"""Payload declarations: each kind parses what it should and refuses the rest clearly."""

import datetime as dt

import pytest

from linkage.sources import SOURCES, PayloadError, source_spec


def attr(source, name):
    return source_spec(source).attribute(name)


@pytest.mark.parametrize("raw, expected", [("2022-03-01", dt.date(2022, 3, 1)), ("", None), ("  ", None)])
def test_dates(raw, expected):
    assert attr("vdab", "registration_date").parse(raw) == expected


@pytest.mark.parametrize("raw", ["01/03/2022", "2022-13-01", "yesterday"])
def test_bad_dates_say_the_expected_form(raw):
    with pytest.raises(PayloadError, match="use YYYY-MM-DD"):
        attr("vdab", "registration_date").parse(raw)


def test_categories_list_the_allowed_values():
    assert attr("integration", "nt2_level").parse("B1") == "B1"
    with pytest.raises(PayloadError, match="A1, A2"):
        attr("integration", "nt2_level").parse("Z9")


def test_bools_and_ints():
    assert attr("integration", "mo_test_passed").parse("1") is True
    assert attr("integration", "mo_test_passed").parse("nee") is False
    with pytest.raises(PayloadError, match="yes/no"):
        attr("integration", "mo_test_passed").parse("maybe")
    assert attr("education", "delay_years").parse("2") == 2
    with pytest.raises(PayloadError, match="above 10"):
        attr("education", "delay_years").parse("11")
    with pytest.raises(PayloadError, match="not a whole number"):
        attr("ksz", "birth_year").parse("19x0")


def test_nationality_accepts_nis_and_iso_codes_and_stores_nis():
    nationality = attr("ksz", "nat_first_father")
    assert nationality.parse("150") == "150"
    assert nationality.parse("mar") == nationality.parse("MAR") == nationality.parse("MA") == "354"
    assert nationality.parse("be") == nationality.parse("BEL") == "150"
    assert nationality.parse("XKX") == nationality.parse("XK")
    with pytest.raises(PayloadError, match="ISO 3166 alpha-3"):
        nationality.parse("QQQ")
    with pytest.raises(PayloadError, match="alpha-2"):
        nationality.parse("ZZ")
    with pytest.raises(PayloadError, match="not a nationality code"):
        nationality.parse("B")
    with pytest.raises(PayloadError, match="not in the NIS"):
        nationality.parse("777")


def test_unknown_source_names_the_known_ones():
    with pytest.raises(PayloadError, match="education, integration, ksz, vdab"):
        source_spec("police")


def test_no_source_declares_an_identifier():
    identifying = {"name", "surname", "given_names", "birth_date", "insz", "postcode", "record_id"}
    for spec in SOURCES.values():
        assert identifying.isdisjoint(a.name for a in spec.payload)
