"""Conditions over payload attributes: the vocabulary measures and cohorts are written in.

A measure's cohort (denominator) and numerator are data built from these few condition
types, never free SQL, so that the registry can be validated against the payload
declarations in :mod:`linkage.sources` and described in words in every answer. Each
condition compiles to a DuckDB SQL predicate for one period; the period is a constant in
the compiled text (a request over several periods compiles once per period).

In the compiled SQL each source's payload table is aliased by the source name, so an
attribute is written ``"ksz"."birth_year"``. A missing attribute (NULL: the record is
missing it, or the person has no linked record in that source) makes every condition on it
false: such a person is outside the cohort and outside the numerator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Union

from linkage.errors import LinkageError
from linkage.sources import SOURCES, Attribute


class RegistryError(LinkageError, ValueError):
    """The measure and dimension registry, or a request against it, is not valid."""


@dataclass(frozen=True)
class Attr:
    """A payload attribute of a source; ``{year}`` in the name is the period plus an offset."""

    source: str
    name: str
    year_offset: int = 0

    def resolve(self, period: int) -> str:
        return self.name.format(year=period + self.year_offset)

    def declaration(self, period: int) -> Attribute:
        """The payload declaration this attribute refers to in ``period``, or a clear error."""
        spec = SOURCES.get(self.source)
        if spec is None:
            raise RegistryError(f"unknown source {self.source!r} in the registry")
        name = self.resolve(period)
        try:
            return spec.attribute(name)
        except KeyError:
            raise RegistryError(
                f"{self.source} does not deliver {name!r} (needed for period {period}); "
                f"its payload is {', '.join(a.name for a in spec.payload)}"
            ) from None

    def sql(self, period: int) -> str:
        return f'"{self.source}"."{self.resolve(period)}"'

    def words(self) -> str:
        offset = f" (period {self.year_offset:+d} years)" if self.year_offset else ""
        return f"{self.source}.{self.name.replace('{year}', '<year>')}{offset}"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class OneOf:
    attr: Attr
    values: tuple[str, ...]

    def sql(self, period: int) -> str:
        return f"{self.attr.sql(period)} IN ({', '.join(_quote(v) for v in self.values)})"

    def check(self, period: int) -> None:
        declared = _expect_kind(self.attr, period, ("category", "str"))
        unknown = [v for v in self.values if declared.allowed and v not in declared.allowed]
        if unknown:
            raise RegistryError(f"{self.attr.words()} has no value(s) {', '.join(unknown)}")

    def attrs(self) -> tuple[Attr, ...]:
        return (self.attr,)

    def words(self) -> str:
        return f"{self.attr.words()} is one of {', '.join(self.values)}"


@dataclass(frozen=True)
class AtLeast:
    attr: Attr
    minimum: int

    def sql(self, period: int) -> str:
        return f"{self.attr.sql(period)} >= {int(self.minimum)}"

    def check(self, period: int) -> None:
        _expect_kind(self.attr, period, ("int",))

    def attrs(self) -> tuple[Attr, ...]:
        return (self.attr,)

    def words(self) -> str:
        return f"{self.attr.words()} is at least {self.minimum}"


@dataclass(frozen=True)
class Known:
    attr: Attr

    def sql(self, period: int) -> str:
        return f"{self.attr.sql(period)} IS NOT NULL"

    def check(self, period: int) -> None:
        self.attr.declaration(period)

    def attrs(self) -> tuple[Attr, ...]:
        return (self.attr,)

    def words(self) -> str:
        return f"{self.attr.words()} is known"


@dataclass(frozen=True)
class IsTrue:
    attr: Attr

    def sql(self, period: int) -> str:
        return f"{self.attr.sql(period)} IS TRUE"

    def check(self, period: int) -> None:
        _expect_kind(self.attr, period, ("bool",))

    def attrs(self) -> tuple[Attr, ...]:
        return (self.attr,)

    def words(self) -> str:
        return f"{self.attr.words()} is yes"


@dataclass(frozen=True)
class InPeriod:
    """A date attribute falls in the calendar year, or an int attribute equals the year."""

    attr: Attr

    def sql(self, period: int) -> str:
        year = period + self.attr.year_offset
        column = self.attr.sql(period)
        if SOURCES[self.attr.source].attribute(self.attr.resolve(period)).kind == "int":
            return f"{column} = {year}"
        return f"{column} BETWEEN DATE '{year:04d}-01-01' AND DATE '{year:04d}-12-31'"

    def check(self, period: int) -> None:
        _expect_kind(self.attr, period, ("date", "int"))

    def attrs(self) -> tuple[Attr, ...]:
        return (self.attr,)

    def words(self) -> str:
        return f"{self.attr.words()} in the period year"


@dataclass(frozen=True)
class AgeBetween:
    """Age reached on 31 December of the period year (plus offset): that year minus birth year."""

    low: int
    high: int
    year_offset: int = 0

    @property
    def birth_year(self) -> Attr:
        return Attr("ksz", "birth_year")

    def sql(self, period: int) -> str:
        year = period + self.year_offset
        return f"({year} - {self.birth_year.sql(period)}) BETWEEN {int(self.low)} AND {int(self.high)}"

    def check(self, period: int) -> None:
        _expect_kind(self.birth_year, period, ("int",))
        if not 0 <= self.low <= self.high:
            raise RegistryError(f"age range {self.low}-{self.high} is empty")

    def attrs(self) -> tuple[Attr, ...]:
        return (self.birth_year,)

    def words(self) -> str:
        when = f"period {self.year_offset:+d} years" if self.year_offset else "the period year"
        return f"aged {self.low}-{self.high} on 31 December of {when}"


@dataclass(frozen=True)
class WithinMonths:
    """``end`` is known and at most ``months`` calendar months after ``start``."""

    start: Attr
    end: Attr
    months: int

    def sql(self, period: int) -> str:
        end = self.end.sql(period)
        return f"({end} IS NOT NULL AND {end} <= {self.start.sql(period)} + INTERVAL {int(self.months)} MONTH)"

    def check(self, period: int) -> None:
        _expect_kind(self.start, period, ("date",))
        _expect_kind(self.end, period, ("date",))

    def attrs(self) -> tuple[Attr, ...]:
        return (self.start, self.end)

    def words(self) -> str:
        return f"{self.end.words()} within {self.months} months of {self.start.words()}"


@dataclass(frozen=True)
class Not:
    condition: "Condition"

    def sql(self, period: int) -> str:
        # NULL stays NULL (false in a filter): an unknown attribute never satisfies a negation.
        return f"(NOT ({self.condition.sql(period)}))"

    def check(self, period: int) -> None:
        self.condition.check(period)

    def attrs(self) -> tuple[Attr, ...]:
        return self.condition.attrs()

    def words(self) -> str:
        return f"not ({self.condition.words()})"


Condition = Union[OneOf, AtLeast, Known, IsTrue, InPeriod, AgeBetween, WithinMonths, Not]


def all_sql(conditions: Iterable[Condition], period: int) -> str:
    """The conjunction of conditions as one predicate; TRUE when there are none."""
    parts = [f"({c.sql(period)})" for c in conditions]
    return " AND ".join(parts) if parts else "TRUE"


def all_words(conditions: Iterable[Condition]) -> str:
    parts = [c.words() for c in conditions]
    return "; ".join(parts) if parts else "everyone"


def _expect_kind(attr: Attr, period: int, kinds: tuple[str, ...]) -> Attribute:
    declared = attr.declaration(period)
    if declared.kind not in kinds:
        raise RegistryError(
            f"{attr.words()} is declared as {declared.kind}; this condition needs {' or '.join(kinds)}"
        )
    return declared
