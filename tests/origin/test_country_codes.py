"""The NIS nationality code table against ISO 3166 (pycountry), both ways."""

import dataclasses

import pycountry
import pytest

from linkage.origin import CountryTable, OriginError, UnknownCodeError, country_table


USER_ASSIGNED = {"XKX"}
"""Kosovo: not in ISO 3166 (nor pycountry); XK/XKX are the codes the EU and registers use."""


def test_iso_codes_agree_with_pycountry():
    for code in country_table():
        if code.iso3 in USER_ASSIGNED:
            assert pycountry.countries.get(alpha_3=code.iso3) is None
            assert code.iso2 == code.key and code.kind == "country"
        elif code.kind == "country" and code.iso3:
            iso = pycountry.countries.get(alpha_3=code.iso3)
            assert iso is not None and iso.alpha_2 == code.iso2 == code.key, code.nis
        elif code.kind == "historic" and code.iso3:
            assert pycountry.historic_countries.get(alpha_3=code.iso3) is not None, code.nis


def test_nis_to_iso_to_nis_round_trips_for_preferred_codes():
    table = country_table()
    for code in table:
        if code.iso3:
            assert table.normalise(code.iso3) == table.preferred[code.key].nis
            if code.preferred:
                assert table.normalise(code.iso3) == code.nis


def test_every_current_iso_state_with_a_code_maps_back():
    table = country_table()
    mapped = {code.iso3 for code in table if code.kind == "country" and code.iso3}
    for iso3 in mapped:
        nis = table.normalise(iso3.lower())
        assert table.get(nis).iso3 == iso3


def test_historic_states_have_successors_and_states_do_not():
    for code in country_table():
        assert bool(code.successors) == (code.kind == "historic"), code.nis


@pytest.mark.parametrize(("nis", "iso3"), [
    ("150", "BEL"), ("129", "NLD"), ("354", "MAR"), ("262", "TUR"), ("139", "POL"), ("131", "SUN"),
    ("169", "YUG"), ("104", "DDR"), ("130", "CSK"), ("364", "ZAR"), ("132", "SCG"),
])
def test_known_codes(nis, iso3):
    table = country_table()
    assert table.get(nis).iso3 == iso3
    assert table.normalise(iso3) == nis


def test_aliases_share_a_key_and_resolve_to_the_preferred_code():
    table = country_table()
    assert table.get("122").key == table.get("139").key == "PL"
    assert table.get("172").key == table.get("131").key == "SUHH"
    assert table.normalise("POL") == "139"


def test_unknown_codes_are_missing_values():
    table = country_table()
    assert table.get("999").is_missing and table.get("711").is_missing
    assert not table.get("999").is_country


def test_kosovo_is_read_from_its_nis_and_its_common_iso_codes():
    table = country_table()
    assert table.normalise("153") == table.normalise("XKX") == table.normalise("xk") == "153"
    assert table.get("153").name_en == "Kosovo"


def test_every_current_state_is_read_from_its_alpha2_code():
    table = country_table()
    for code in table:
        if code.kind == "country" and code.iso2:
            assert table.normalise(code.iso2) == table.normalise(code.iso3) == table.preferred[code.key].nis
    assert table.normalise("be") == "150" and table.normalise(" MA ") == "354"


def test_the_eu_codes_for_greece_and_the_united_kingdom_are_read():
    table = country_table()
    assert table.normalise("EL") == table.normalise("GRC")
    assert table.normalise("UK") == table.normalise("GBR")


@pytest.mark.parametrize("raw", ["CS", "YU", "SU", "DD", "QZ"])
def test_two_letter_codes_of_former_or_no_states_are_refused(raw):
    with pytest.raises(UnknownCodeError, match="alpha-2") as err:
        country_table().normalise(raw)
    assert raw not in str(err.value)


@pytest.mark.parametrize("raw", ["000", "998", "XYZ", "1A5", "1500", "B E", "15O", "zq", "Q"])
def test_bad_codes_give_a_clear_error_without_the_value(raw):
    with pytest.raises(UnknownCodeError) as err:
        country_table().normalise(raw)
    assert raw not in str(err.value)
    assert "code" in str(err.value)


def test_empty_cells_are_missing():
    table = country_table()
    assert table.normalise("") is None and table.normalise("  ") is None and table.normalise(None) is None
    assert table.normalise(" 150 ") == "150"


def test_table_rejects_two_preferred_codes_for_one_key():
    rows = list(country_table())
    duplicate = dataclasses.replace(rows[0], nis="998")
    with pytest.raises(OriginError, match="two preferred"):
        CountryTable([*rows, duplicate], "test")


def test_table_rejects_an_unknown_successor():
    rows = list(country_table())
    broken = [dataclasses.replace(r, successors=("QQ",)) if r.nis == "131" else r for r in rows]
    with pytest.raises(OriginError, match="QQ"):
        CountryTable(broken, "test")
