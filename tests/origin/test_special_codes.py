"""Stateless and refugee codes: a nationality that is not Belgian but names no country.

The shipped table has no such codes yet (see docs/origin.md); a table that adds them must be
classified like this.
"""

import dataclasses
import datetime as dt

import pytest

from linkage.origin import OriginError, country_table, definition, grouping
from linkage.origin.rules import FIELDS

ON = dt.date(2024, 1, 1)


def _code(nis, kind="country"):
    base = country_table().get(nis)
    return base if kind == "country" else dataclasses.replace(base, nis="990", key="stateless", kind=kind,
                                                                 iso2="", iso3="", successors=())


def _classify(name, *codes):
    return definition(name).classify_values(dict(zip(FIELDS, codes, strict=True)), ON)


@pytest.mark.parametrize("kind", ["stateless", "refugee"])
def test_stateless_person_is_foreign_without_an_origin_country(kind):
    other, be = _code("150", kind), _code("150")
    origin = _classify("sem", other, other, be, be)
    assert (origin.category, origin.country, origin.generation) == ("non_belgian", None, "first")
    # the country comes from the next foreign value in the precedence
    origin = _classify("sem", be, be, other, _code("354"))
    assert (origin.category, origin.country) == ("belgian_foreign_origin", "354")
    assert _classify("serv_eu15", other, other, be, be).category == "non_eu15_origin"


def test_stateless_is_in_the_rest_group_and_not_in_a_region():
    stateless = _code("150", "stateless")
    assert grouping("belgium").group_of_code(stateless, ON) == "foreign"
    assert grouping("eu").group_of_code(stateless, ON) == "non_eu"
    with pytest.raises(OriginError, match="no group for a stateless person"):
        grouping("sem_regions").group_of_code(stateless, ON)
