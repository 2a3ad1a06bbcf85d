"""Classifying persons: the public functions, memoised for millions of persons.

Distinct nationality histories are few (thousands among millions of persons), so results are
cached on (definition, the four codes, reference date).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import cast

from linkage.origin.countries import CountryCode, country_table
from linkage.origin.definitions import Definition, shipped_definitions
from linkage.origin.errors import OriginError, UnknownCodeError
from linkage.origin.groupings import Grouping, shipped_groupings
from linkage.origin.history import NationalityHistory, Origin
from linkage.origin.rules import FIELDS

Codes = tuple[str | None, str | None, str | None, str | None]


def definitions() -> list[Definition]:
    return list(shipped_definitions().values())


def definition(name: str) -> Definition:
    """A definition by name, or an error listing the known ones."""
    try:
        return shipped_definitions()[name]
    except KeyError:
        raise OriginError(
            f"unknown origin definition {name!r}; known definitions: {', '.join(shipped_definitions())}"
        ) from None


def groupings() -> list[Grouping]:
    return list(shipped_groupings().values())


def grouping(name: str) -> Grouping:
    """A grouping by name, or an error listing the known ones."""
    try:
        return shipped_groupings()[name]
    except KeyError:
        raise OriginError(f"unknown grouping {name!r}; known groupings: {', '.join(shipped_groupings())}") from None


def group_of(grouping_name: str, country: str | None, reference_date: dt.date) -> str:
    """The group of an origin country (NIS code; None gives "unknown") on a reference date."""
    return grouping(grouping_name).group_of(country, reference_date)


def resolve(codes: Codes) -> dict[str, CountryCode | None]:
    """The code-table entries of the four fields (NIS or ISO alpha-3 codes; None = missing)."""
    table = country_table()
    values: dict[str, CountryCode | None] = {}
    for field, raw in zip(FIELDS, codes, strict=True):
        try:
            nis = table.normalise(raw)
        except UnknownCodeError as exc:
            raise UnknownCodeError(exc.reason, field) from None
        values[field] = None if nis is None else table.get(nis)
    return values


@lru_cache(maxsize=1 << 16)
def classify_codes(name: str, codes: Codes, reference_date: dt.date) -> Origin:
    """Like `classify`, for the four codes as a tuple (NIS or ISO alpha-3; None = missing)."""
    return definition(name).classify_values(resolve(codes), reference_date)


def classify(name: str, history: NationalityHistory, reference_date: dt.date) -> Origin:
    """The origin of one person under a definition on a reference date."""
    return classify_codes(name, history.as_tuple(), reference_date)


def classify_many(name: str, histories: Iterable[NationalityHistory | Codes],
                  reference_date: dt.date) -> list[Origin]:
    """Classify many persons; each distinct history is classified once."""
    definition(name)
    seen: dict[Codes, Origin] = {}
    result = []
    for history in histories:
        codes = history.as_tuple() if isinstance(history, NationalityHistory) else cast(Codes, tuple(history))
        origin = seen.get(codes)
        if origin is None:
            origin = seen[codes] = classify_codes(name, codes, reference_date)
        result.append(origin)
    return result


def origin_groups(columns: Mapping[str, Sequence[str | None]], reference_date: dt.date,
                  definition_name: str = "sem", grouping_name: str = "sem_regions") -> list[str] | None:
    """Per record, the group of its origin country, from payload ``columns`` holding a
    nationality history (named as ``rules.FIELDS``, like the KSZ extract's); None when they
    do not."""
    if not set(FIELDS) <= set(columns):
        return None
    histories = zip(*(columns[name] for name in FIELDS))
    origins = classify_many(definition_name, (tuple(h) for h in histories), reference_date)
    chosen = grouping(grouping_name)
    return [chosen.group_of(origin.country, reference_date) for origin in origins]
