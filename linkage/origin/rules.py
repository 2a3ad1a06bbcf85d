"""The rule primitives that origin definitions name: schemes, missing-value policies, generation.

A definition (see definitions.py) supplies the parameters: which values count as foreign,
which fields are criteria, the country precedence and the category names. Everything here
works on resolved codes (`CountryCode`, or None for a missing value); a code of kind
"unknown" (such as 999 "undetermined") is treated exactly like a missing value.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeGuard

from linkage.origin.countries import BELGIUM, CountryCode

FIELDS: tuple[str, ...] = ("nat_current", "nat_first", "nat_first_father", "nat_first_mother")
SCHEMES: tuple[str, ...] = ("by_current_nationality", "binary")
MISSING_POLICIES: tuple[str, ...] = ("undeterminable", "not_foreign")

NON_BELGIAN = "non_belgian"
UNDETERMINABLE = "undeterminable"
UNKNOWN = "unknown"

GENERATIONS: tuple[str, ...] = (
    "none", "first", "second_two_parents", "second_one_parent", "second_one_parent_other_unknown", "unknown",
)

Values = Mapping[str, CountryCode | None]
IsForeign = Callable[[CountryCode], bool]


def known(value: CountryCode | None) -> TypeGuard[CountryCode]:
    return value is not None and not value.is_missing


def is_belgian(value: CountryCode | None) -> bool:
    return value is not None and value.nis == BELGIUM


def generation(values: Values) -> str:
    """Migration generation by Belgian nationality, the same under every definition.

    first: own first nationality not Belgian (immigrants and naturalised persons, but also
    children born here with a foreign first nationality: this is a nationality proxy);
    second_*: own first nationality Belgian and one or two parents' first nationality not.
    """
    first = values["nat_first"]
    if not known(first):
        return "unknown"
    if not is_belgian(first):
        return "first"
    parents = (values["nat_first_father"], values["nat_first_mother"])
    foreign = sum(known(p) and not is_belgian(p) for p in parents)
    missing = sum(not known(p) for p in parents)
    if foreign == 2:
        return "second_two_parents"
    if foreign == 1:
        return "second_one_parent" if missing == 0 else "second_one_parent_other_unknown"
    return "none" if missing == 0 else "unknown"


def _first_country(values: Values, precedence: Sequence[str], accept: Callable[[CountryCode], bool]) -> str | None:
    for field in precedence:
        value = values[field]
        if known(value) and value.is_country and accept(value):
            return value.nis
    return None


def _reference_country(values: Values, precedence: Sequence[str]) -> str | None:
    """For a person not of foreign origin: the first non-Belgian country, else Belgium."""
    return _first_country(values, precedence, lambda v: not is_belgian(v)) or _first_country(
        values, precedence, is_belgian
    )


def by_current_nationality(values: Values, is_foreign: IsForeign, missing: str, precedence: Sequence[str],
                           reference: str, foreign: str) -> tuple[str, str | None]:
    """Foreign origin if any of the four values is foreign; split by the current nationality."""
    current = values["nat_current"]
    if any(known(v) and is_foreign(v) for v in values.values()):
        if not known(current):
            return UNKNOWN, None
        category = foreign if is_belgian(current) else NON_BELGIAN
        return category, _first_country(values, precedence, is_foreign)
    if all(known(v) for v in values.values()) or (missing == "not_foreign" and any(map(known, values.values()))):
        return reference, _reference_country(values, precedence)
    if is_belgian(current) or is_belgian(values["nat_first"]):
        return UNDETERMINABLE, None
    return UNKNOWN, None


def binary(values: Values, criteria: Sequence[str], is_foreign: IsForeign, missing: str,
           precedence: Sequence[str], reference: str, foreign: str) -> tuple[str, str | None]:
    """Foreign origin if any criterion is foreign, else the reference category."""
    looked_at = [values[field] for field in criteria]
    if any(known(v) and is_foreign(v) for v in looked_at):
        return foreign, _first_country(values, precedence, is_foreign)
    if not any(known(v) for v in looked_at):
        return UNKNOWN, None
    if all(known(v) for v in looked_at) or missing == "not_foreign":
        return reference, _reference_country(values, precedence)
    return UNDETERMINABLE, None
