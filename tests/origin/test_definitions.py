"""Golden cases: each definition on hand-checked nationality histories."""

import datetime as dt

import pytest

from linkage.origin import NationalityHistory as H
from linkage.origin import Origin, OriginError, classify, classify_many, definition, definitions

ON = dt.date(2024, 1, 1)
BE, NL, IT, PL, MA, TR, GB = "150", "129", "128", "139", "354", "262", "112"
USSR, YUGOSLAVIA, GDR, CZECHOSLOVAKIA, BELGIAN_CONGO, UNDETERMINED = "131", "169", "104", "130", "359", "999"

# (history, expected Origin) per definition; country is a NIS code
SEM = [
    (H(BE, BE, BE, BE), Origin("belgian_belgian_origin", BE, "none")),
    # naturalised: own first nationality Moroccan, now Belgian
    (H(BE, MA, MA, MA), Origin("belgian_foreign_origin", MA, "first")),
    # father's first nationality takes precedence over the mother's and the person's own
    (H(BE, BE, TR, MA), Origin("belgian_foreign_origin", TR, "second_two_parents")),
    (H(BE, BE, BE, MA), Origin("belgian_foreign_origin", MA, "second_one_parent")),
    (H(BE, BE, MA, BE), Origin("belgian_foreign_origin", MA, "second_one_parent")),
    # father Belgian-born, mother unknown: the father does not give a country, the mother is missing
    (H(BE, NL, BE, None), Origin("belgian_foreign_origin", NL, "first")),
    (H(PL, PL, PL, PL), Origin("non_belgian", PL, "first")),
    # a non-Belgian born Belgian of Belgian parents: foreign origin by the current nationality alone
    (H(NL, BE, BE, BE), Origin("non_belgian", NL, "none")),
    # parents' historic nationalities are origin countries in their own right
    (H(BE, BE, USSR, None), Origin("belgian_foreign_origin", USSR, "second_one_parent_other_unknown")),
    (H(BE, BE, BE, YUGOSLAVIA), Origin("belgian_foreign_origin", YUGOSLAVIA, "second_one_parent")),
    (H(BE, BELGIAN_CONGO, BELGIAN_CONGO, BE), Origin("belgian_foreign_origin", BELGIAN_CONGO, "first")),
    # missing parents: Belgian origin cannot be assigned (SEM keeps them apart)
    (H(BE, BE, None, None), Origin("undeterminable", None, "unknown")),
    (H(BE, BE, BE, None), Origin("undeterminable", None, "unknown")),
    # a known "undetermined" code is the same as a missing value
    (H(BE, BE, BE, UNDETERMINED), Origin("undeterminable", None, "unknown")),
    (H(None, BE, BE, BE), Origin("undeterminable", None, "none")),
    (H(None, None, BE, BE), Origin("unknown", None, "unknown")),
    (H(None, None, None, None), Origin("unknown", None, "unknown")),
    # foreign parent but the person's current nationality is unknown: cannot tell Belgian from non-Belgian
    (H(None, None, MA, None), Origin("unknown", None, "unknown")),
]

STATBEL = [
    (H(BE, BE, BE, BE), Origin("belgian_belgian_background", BE, "none")),
    (H(BE, MA, MA, MA), Origin("belgian_foreign_background", MA, "first")),
    # Statbel looks at the person's own nationalities before the parents'
    (H(BE, IT, TR, MA), Origin("belgian_foreign_background", IT, "first")),
    (H(BE, BE, TR, MA), Origin("belgian_foreign_background", TR, "second_two_parents")),
    (H(BE, BE, BE, MA), Origin("belgian_foreign_background", MA, "second_one_parent")),
    (H(PL, PL, PL, PL), Origin("non_belgian", PL, "first")),
    # missing counts as not foreign: a Belgian with unknown parents has a Belgian background
    (H(BE, BE, None, None), Origin("belgian_belgian_background", BE, "unknown")),
    (H(BE, None, None, None), Origin("belgian_belgian_background", BE, "unknown")),
    (H(None, BE, BE, BE), Origin("belgian_belgian_background", BE, "none")),
    (H(None, None, None, None), Origin("unknown", None, "unknown")),
]

SERV_EU15 = [
    (H(BE, BE, BE, BE), Origin("eu15_origin", BE, "none")),
    # an Italian-origin Belgian is of EU15 origin, with Italy as origin country
    (H(BE, BE, IT, BE), Origin("eu15_origin", IT, "second_one_parent")),
    (H(BE, BE, IT, MA), Origin("non_eu15_origin", MA, "second_two_parents")),
    # Poland is outside the EU15 whatever the reference date
    (H(PL, PL, PL, PL), Origin("non_eu15_origin", PL, "first")),
    # the UK stays in the fixed EU15 after Brexit
    (H(GB, GB, GB, GB), Origin("eu15_origin", GB, "first")),
    # the GDR's successor is Germany, which is in the EU15
    (H(BE, BE, GDR, BE), Origin("eu15_origin", GDR, "second_one_parent")),
    (H(BE, BE, CZECHOSLOVAKIA, BE), Origin("non_eu15_origin", CZECHOSLOVAKIA, "second_one_parent")),
    (H(BE, BE, None, BE), Origin("undeterminable", None, "unknown")),
    (H(None, None, None, None), Origin("unknown", None, "unknown")),
]

NON_EU_FIRST = [
    (H(BE, BE, MA, MA), Origin("eu_first_nationality", BE, "second_two_parents")),
    (H(BE, MA, MA, MA), Origin("non_eu_first_nationality", MA, "first")),
    (H(BE, None, MA, MA), Origin("unknown", None, "unknown")),
]


@pytest.mark.parametrize(("name", "cases"), [
    ("sem", SEM), ("statbel", STATBEL), ("serv_eu15", SERV_EU15), ("non_eu_first_nationality", NON_EU_FIRST),
])
def test_golden_cases(name, cases):
    for history, expected in cases:
        assert classify(name, history, ON) == expected, history


def test_pole_changes_eu_status_on_accession_day():
    pole = H(BE, PL, PL, PL)
    before = classify("non_eu_first_nationality", pole, dt.date(2004, 4, 30))
    after = classify("non_eu_first_nationality", pole, dt.date(2004, 5, 1))
    assert before.category == "non_eu_first_nationality"
    assert after.category == "eu_first_nationality"


def test_briton_leaves_eu_on_1_february_2020():
    briton = H(BE, GB, GB, GB)
    assert classify("non_eu_first_nationality", briton, dt.date(2020, 1, 31)).category == "eu_first_nationality"
    assert classify("non_eu_first_nationality", briton, dt.date(2020, 2, 1)).category == "non_eu_first_nationality"


def test_gdr_joins_on_reunification_day():
    east_german = H(BE, GDR, GDR, GDR)
    def category(day):
        return classify("non_eu_first_nationality", east_german, day).category

    assert category(dt.date(1990, 10, 2)) == "non_eu_first_nationality"
    assert category(dt.date(1990, 10, 3)) == "eu_first_nationality"


def test_iso_alpha3_input_is_the_same_as_nis():
    assert classify("sem", H("BEL", "MAR", "MAR", "TUR"), ON) == classify("sem", H(BE, MA, MA, TR), ON)


def test_classify_many_matches_classify_and_accepts_tuples():
    histories = [H(BE, BE, BE, BE), (BE, MA, MA, MA), H(PL, PL, PL, PL), (BE, MA, MA, MA)]
    result = classify_many("sem", histories, ON)
    expected = [classify("sem", h if isinstance(h, H) else H(*h), ON) for h in histories]
    assert result == expected


def test_unknown_definition_lists_the_known_ones():
    with pytest.raises(OriginError) as err:
        definition("vesoc")
    for d in definitions():
        assert d.name in str(err.value)


def test_definition_metadata_carries_caveats():
    serv = definition("serv_eu15")
    assert any("Grandparents" in caveat for caveat in serv.caveats)
    assert serv.reference_category == "eu15_origin"
    assert serv.foreign_categories == ("non_eu15_origin",)
    assert definition("sem").foreign_categories == ("belgian_foreign_origin", "non_belgian")
    assert len({d.fingerprint for d in definitions()}) == len(definitions())
