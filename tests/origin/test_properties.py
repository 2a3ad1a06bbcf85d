"""Properties that must hold for every nationality history under every definition."""

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.origin import NationalityHistory, classify, country_table, definitions, group_of, grouping
from linkage.origin.rules import GENERATIONS

NAMES = [d.name for d in definitions()]
CODES = sorted(code.nis for code in country_table())
code = st.one_of(st.none(), st.sampled_from(["150"] * 5 + CODES))
history = st.builds(NationalityHistory, code, code, code, code)
dates = st.dates(min_value=dt.date(1958, 1, 1), max_value=dt.date(2040, 12, 31))


@given(st.sampled_from(NAMES), dates)
def test_all_belgian_history_is_belgian_origin_under_every_definition(name, on):
    origin = classify(name, NationalityHistory("150", "150", "150", "150"), on)
    d = next(d for d in definitions() if d.name == name)
    assert origin.category == d.reference_category
    assert origin.country == "150"
    assert origin.generation == "none"


@settings(max_examples=300)
@given(st.sampled_from(NAMES), history, dates)
def test_origin_is_well_formed(name, h, on):
    d = next(d for d in definitions() if d.name == name)
    origin = classify(name, h, on)
    assert origin.category in d.categories
    assert origin.generation in GENERATIONS
    # the origin country is always one of the four inputs (or not known)
    assert origin.country is None or origin.country in h.as_tuple()
    if origin.category in d.foreign_categories:
        assert origin.country is not None and origin.country != "150"
        assert grouping(d.foreign_grouping.name).group_of(origin.country, on) == d.foreign_group
    for g in (d.natural_grouping, "sem_regions", "eu"):
        assert group_of(g, origin.country, on) in grouping(g).groups


@settings(max_examples=300)
@given(history, dates)
def test_sem_foreign_origin_iff_a_known_value_is_not_belgian(h, on):
    table = country_table()
    origin = classify("sem", h, on)
    foreign = any(v is not None and not table.get(v).is_missing and v != "150" for v in h.as_tuple())
    if h.nat_current is not None and not table.get(h.nat_current).is_missing:
        assert (origin.category in ("belgian_foreign_origin", "non_belgian")) == foreign
    if origin.country is not None and origin.category != "belgian_belgian_origin":
        # the father's first nationality wins whenever it is a foreign country
        father = h.nat_first_father
        if father is not None and table.get(father).is_country and father != "150":
            assert origin.country == father


@settings(max_examples=200)
@given(st.sampled_from(NAMES), history, dates)
def test_an_undetermined_code_is_the_same_as_an_empty_cell(name, h, on):
    with_code = NationalityHistory(*("999" if v is None else v for v in h.as_tuple()))
    assert classify(name, with_code, on) == classify(name, h, on)


@settings(max_examples=200)
@given(st.sampled_from(NAMES), history, dates)
def test_iso_alpha3_gives_the_same_origin_as_nis(name, h, on):
    table = country_table()

    def iso(v):
        return table.get(v).iso3 or v if v is not None else None

    def key(origin):  # an ISO code stands for the preferred one of several NIS aliases
        return origin.category, origin.generation, origin.country and table.get(origin.country).key

    assert key(classify(name, NationalityHistory(*map(iso, h.as_tuple())), on)) == key(classify(name, h, on))
