"""How each registered dimension turns a person's attributes into a category.

A requested dimension (``origin_group:sem:sem_regions``) is parsed into a
:class:`DimensionRef` and resolved, for a request, into a :class:`ResolvedDimension`: its
leaf categories in display order (fixed by the registry and the origin and geography
libraries, never by the data, so a table's shape reveals nothing) and a function from the
values of its input attributes to a category. The computation applies that function once
per distinct input tuple, not once per person.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Mapping, Sequence

from linkage import geography, origin
from linkage.aggregate import registry
from linkage.aggregate.conditions import Attr, RegistryError
from linkage.aggregate.labels import category_labels
from linkage.origin import GENERATIONS
from linkage.sources import SOURCES

UNKNOWN = registry.UNKNOWN

NO_PROVINCE = "no_province"
"""The province category of residents of the Brussels-Capital Region, which has none."""

GEOGRAPHY_DATE = _dt.date(2025, 1, 1)
"""Residence is reported in the municipal boundaries in force since this date (the KSZ
extract delivers 2025 codes; older codes are bridged forward over the 2019 and 2025 mergers)."""


@dataclass(frozen=True)
class DimensionRef:
    """A requested dimension: its kind and parameters, defaults filled in."""

    kind: str
    params: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return ":".join((self.kind, *self.params))


@dataclass(frozen=True)
class ResolvedDimension:
    ref: DimensionRef
    label: str
    categories: tuple[str, ...]
    attrs: tuple[Attr, ...]
    categorise: Callable[[int, tuple], str]
    """(period, values of ``attrs``) -> one of ``categories``."""
    uses_period: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    """Display names of categories where the category is a code (municipality NIS codes)."""

    @property
    def name(self) -> str:
        return self.ref.key


def parse_dimension(text: str) -> DimensionRef:
    """Parse ``kind[:param[:param]]``, check the parameters and fill in defaults."""
    kind_name, *params = text.split(":")
    kind = registry.dimension_kind(kind_name)
    if not kind.required <= len(params) <= len(kind.parameters):
        raise RegistryError(
            f"dimension {text!r}: {kind.name} takes "
            + (f"{kind.required} to {len(kind.parameters)}" if kind.parameters else "no")
            + f" parameter(s) ({', '.join(kind.parameters) or 'none'})"
        )
    if kind.name in ("origin_category", "origin_group", "generation"):
        definition = _definition(params[0])
        if kind.name == "origin_group":
            grouping = params[1] if len(params) > 1 else definition.natural_grouping
            _grouping(grouping)
            params = [params[0], grouping]
    elif kind.name == "age_band":
        bands = params[0] if params else registry.DEFAULT_AGE_BANDS
        if bands not in registry.AGE_BAND_SETS:
            raise RegistryError(
                f"unknown age band set {bands!r}; registered sets are {', '.join(registry.AGE_BAND_SETS)}"
            )
        params = [bands]
    return DimensionRef(kind.name, tuple(params))


def resolve(ref: DimensionRef, periods: Sequence[int], reference_date: _dt.date) -> ResolvedDimension:
    """The categories, their display labels and the categorising function of a dimension for one request."""
    resolved = _resolve(ref, periods, reference_date)
    labels = {**category_labels(ref.kind, resolved.categories), **resolved.labels}
    return dataclasses.replace(resolved, labels=labels)


def _resolve(ref: DimensionRef, periods: Sequence[int], reference_date: _dt.date) -> ResolvedDimension:
    kind = registry.dimension_kind(ref.kind)
    if kind.name in ("origin_category", "origin_group", "generation"):
        return _origin_dimension(ref, kind, reference_date)
    if kind.name == "age_band":
        return _age_dimension(ref, kind)
    if kind.name in ("region", "province", "municipality"):
        return _residence_dimension(ref, kind)
    if kind.name == "period":
        labels = tuple(str(p) for p in periods)
        return ResolvedDimension(ref, kind.label, labels, (), lambda period, _: str(period), True)
    if kind.name == "integration_outcome":
        return ResolvedDimension(ref, kind.label, registry.INTEGRATION_OUTCOMES, kind.attributes,
                                 lambda _, values: _integration_outcome(values[0]))
    # The remaining kinds read one category attribute as it is declared.
    (attr,) = kind.attributes
    allowed = SOURCES[attr.source].attribute(attr.name).allowed
    return ResolvedDimension(ref, kind.label, (*allowed, UNKNOWN), kind.attributes,
                             lambda _, values: values[0] if values[0] in allowed else UNKNOWN)


def _integration_outcome(status: str | None) -> str:
    if status is None:
        return "no_trajectory"
    if status == "attest":
        return "completed"
    if status == "exempt":
        return "exempt"
    return "not_completed"


def _age_dimension(ref: DimensionRef, kind: registry.DimensionKind) -> ResolvedDimension:
    bounds = registry.AGE_BAND_SETS[ref.params[0]]
    labels = registry.age_band_labels(ref.params[0])

    def categorise(period: int, values: tuple) -> str:
        birth_year = values[0]
        if birth_year is None or birth_year > period:
            return UNKNOWN
        age = period - birth_year
        band = sum(1 for low in bounds if low <= age) - 1
        return labels[band]

    return ResolvedDimension(ref, f"{kind.label} ({ref.params[0]} bands)", (*labels, UNKNOWN),
                             kind.attributes, categorise, uses_period=True)


def _origin_dimension(ref: DimensionRef, kind: registry.DimensionKind,
                      reference_date: _dt.date) -> ResolvedDimension:
    definition = _definition(ref.params[0])
    name = definition.name

    @lru_cache(maxsize=None)
    def classified(values: tuple) -> origin.Origin:
        return origin.classify(name, origin.NationalityHistory(*_known_codes(values)), reference_date)

    if kind.name == "origin_category":
        categories = tuple(definition.categories)
        return ResolvedDimension(ref, f"Origin ({name})", categories, kind.attributes,
                                 lambda _, values: classified(values).category)
    if kind.name == "generation":
        categories = GENERATIONS
        return ResolvedDimension(ref, f"Generation ({name})", categories, kind.attributes,
                                 lambda _, values: classified(values).generation)
    grouping = _grouping(ref.params[1])

    def group(_: int, values: tuple) -> str:
        found = classified(values)
        return origin.group_of(grouping.name, found.country, reference_date)

    return ResolvedDimension(ref, f"Origin group ({name}, {grouping.name})", tuple(grouping.groups),
                             kind.attributes, group)


def _known_codes(values: tuple) -> tuple:
    """Nationality codes missing from the code table are treated as missing, not as errors:
    one odd code must not stop a table (the payload declaration already checks the form)."""
    table = origin.country_table()
    known = []
    for code in values:
        try:
            known.append(table.normalise(code))
        except origin.UnknownCodeError:
            known.append(None)
    return tuple(known)


def _residence_dimension(ref: DimensionRef, kind: registry.DimensionKind) -> ResolvedDimension:
    level = kind.name
    units = _municipalities()
    labels: dict[str, str] = {}
    if level == "municipality":
        categories = tuple(m.nis for m in units)
        labels = {m.nis: m.name for m in units}
    else:
        categories = tuple(dict.fromkeys(getattr(m, level) or NO_PROVINCE for m in units))
        names = geography.areas()
        labels = {code: names[code].name for code in categories if code in names}
        labels[NO_PROVINCE] = "no province (Brussels-Capital Region)"

    def categorise(_: int, values: tuple) -> str:
        place = _place(values[0])
        if place is None:
            return UNKNOWN
        if level == "municipality":
            return place.nis
        return getattr(place, level) or NO_PROVINCE

    return ResolvedDimension(ref, kind.label, (*categories, UNKNOWN), kind.attributes, categorise,
                             labels=labels)


@lru_cache(maxsize=4096)
def _place(nis: str | None):
    if nis is None:
        return None
    try:
        return geography.municipality(geography.current_code(nis, GEOGRAPHY_DATE), GEOGRAPHY_DATE)
    except geography.GeographyError:
        return None


@lru_cache(maxsize=1)
def _municipalities() -> tuple:
    return tuple(geography.municipalities(GEOGRAPHY_DATE))


def _definition(name: str):
    try:
        return origin.definition(name)
    except origin.OriginError:
        known = ", ".join(d.name for d in origin.definitions())
        raise RegistryError(f"unknown origin definition {name!r}; known definitions are {known}") from None


def _grouping(name: str):
    try:
        return origin.grouping(name)
    except origin.OriginError:
        known = ", ".join(g.name for g in origin.groupings())
        raise RegistryError(f"unknown origin grouping {name!r}; known groupings are {known}") from None
