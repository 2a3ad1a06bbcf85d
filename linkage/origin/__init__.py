"""Origin ("herkomst") classification: versioned definitions over a person's nationality history.

The rules are data (`data/definitions.toml`, `data/groupings.toml`, `data/countries.csv`);
this package implements the primitives they name. See docs/origin.md.
"""

from linkage.origin.classify import (
    classify,
    classify_codes,
    classify_many,
    definition,
    definitions,
    group_of,
    grouping,
    groupings,
    origin_groups,
    resolve,
)
from linkage.origin.countries import BELGIUM, CountryCode, CountryTable, country_table
from linkage.origin.definitions import Definition
from linkage.origin.errors import OriginError, UnknownCodeError
from linkage.origin.groupings import UNKNOWN_GROUP, Grouping
from linkage.origin.history import NationalityHistory, Origin
from linkage.origin.rules import GENERATIONS

__all__ = [
    "BELGIUM", "GENERATIONS", "UNKNOWN_GROUP", "CountryCode", "CountryTable", "Definition", "Grouping",
    "NationalityHistory", "Origin", "OriginError", "UnknownCodeError", "classify", "classify_codes",
    "classify_many", "country_table", "definition", "definitions", "group_of", "grouping", "groupings",
    "origin_groups", "resolve",
]
