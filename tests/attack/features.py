"""The attacker's reading of the public registry: every released figure as a predicate.

A released cell counts the persons whose attributes satisfy a conjunction: the population's
period filter, the measure's cohort (and numerator) conditions, and one category per
dimension. Each conjunct is a :class:`Predicate` over a few payload attributes. Attributes
that one predicate reads together (the four nationality fields, a start and an end date)
form one *feature*; a feature's values are enumerated over representatives and grouped into
*classes*: values no predicate of the releases can tell apart. An atom is one class per
feature; the attacker's unknowns are the persons per atom.

Everything here is public knowledge: the registry, the origin rules and the geography. The
representatives must be complete (every real value falls in the class of some
representative); the model checks that every true value lies in its computed interval, so an
incomplete enumeration shows up as a failed attack, not as a false alarm.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from linkage import geography, origin
from linkage.aggregate import registry
from linkage.aggregate.dimensions import GEOGRAPHY_DATE, ResolvedDimension
from linkage.sources import SOURCES

AttrKey = tuple[str, str]
"""(source, attribute name with the period resolved)."""

NATIONALITY = ("nat_current", "nat_first", "nat_first_father", "nat_first_mother")
MAX_FEATURE_VALUES = 400_000


@dataclass(frozen=True)
class Predicate:
    """A function of a few attributes; ``key`` identifies it so that equal ones are shared."""

    key: Hashable
    attrs: tuple[AttrKey, ...]
    evaluate: Callable[[tuple], Hashable] = field(compare=False, hash=False)


# -- conditions (three-valued, as SQL evaluates them) ----------------------------------------

def _add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _truth(condition, period: int, values: dict[AttrKey, object]) -> bool | None:
    """SQL semantics: a missing attribute makes a comparison unknown (None)."""
    kind = type(condition).__name__

    def value(attr):
        return values[(attr.source, attr.resolve(period))]

    if kind == "Not":
        inner = _truth(condition.condition, period, values)
        return None if inner is None else not inner
    if kind == "AgeBetween":
        born = values[("ksz", "birth_year")]
        if born is None:
            return None
        return condition.low <= period + condition.year_offset - born <= condition.high
    if kind == "WithinMonths":
        start, end = value(condition.start), value(condition.end)
        if end is None:
            return False
        if start is None:
            return None
        return end <= _add_months(start, condition.months)
    v = value(condition.attr)
    if kind == "Known":
        return v is not None
    if v is None:
        return None
    if kind == "OneOf":
        return v in condition.values
    if kind == "AtLeast":
        return v >= condition.minimum
    if kind == "IsTrue":
        return v is True
    if kind == "InPeriod":
        year = period + condition.attr.year_offset
        return v == year if isinstance(v, int) else v.year == year
    raise TypeError(f"the attacker does not know the condition type {kind}; teach features.py")


def _condition_attrs(condition, period: int) -> tuple[AttrKey, ...]:
    return tuple(dict.fromkeys((a.source, a.resolve(period)) for a in condition.attrs()))


def condition_predicate(condition, period: int) -> Predicate:
    attrs = _condition_attrs(condition, period)

    def evaluate(values: tuple) -> bool:
        return _truth(condition, period, dict(zip(attrs, values))) is True

    return Predicate(("condition", condition, period), attrs, evaluate)


def dimension_predicate(dim: ResolvedDimension, period: int, reference_date: dt.date) -> Predicate:
    attrs = tuple((a.source, a.name) for a in dim.attrs)
    key_period = period if dim.uses_period else None
    return Predicate(("dimension", dim.name, key_period, reference_date), attrs,
                     lambda values: dim.categorise(period, tuple(values)))


# -- feature domains ---------------------------------------------------------------------

@dataclass
class Context:
    """What the enumeration needs to know about the releases: periods and reference dates."""

    periods: set[int]
    reference_dates: set[dt.date]


def _date_values(context: Context) -> list[dt.date | None]:
    low, high = min(context.periods) - 2, max(context.periods) + 4
    days = [dt.date(y, m, d) for y in range(low, high + 1) for m in range(1, 13) for d in (1, 28)]
    return [*days, None]


@lru_cache(maxsize=32)
def _nationality_representatives(dates: tuple[dt.date, ...]) -> tuple[str | None, ...]:
    """One NIS code per class of codes that no origin rule or grouping can tell apart on
    these dates (the rules look at a code only through its kind and its groups)."""
    table = origin.country_table()
    groupings = origin.groupings()
    classes: dict[tuple, str] = {}
    for code in table:
        signature = (code.is_missing, code.is_country, code.nis == origin.BELGIUM) + tuple(
            g.group_of_code(code, day) if (code.is_country or g.otherwise_group) else None
            for g in groupings for day in dates)
        classes.setdefault(signature, code.nis)
    if not any(code.is_missing for code in table):
        classes[("missing",)] = None
    # otherwise a missing field (None) behaves exactly as a code of kind "unknown" does
    return tuple(classes.values())


@lru_cache(maxsize=1)
def _municipality_codes() -> tuple[str | None, ...]:
    return (*(m.nis for m in geography.municipalities(GEOGRAPHY_DATE)), None)


def attribute_values(attr: AttrKey, context: Context) -> list:
    """Representatives of every value one attribute can take (None: missing)."""
    source, name = attr
    declared = SOURCES[source].attribute(name)
    if name in NATIONALITY:
        return list(_nationality_representatives(tuple(sorted(context.reference_dates))))
    if name == "municipality":
        return list(_municipality_codes())
    if declared.kind == "category":
        return [*declared.allowed, None]
    if declared.kind == "bool":
        return [True, False, None]
    if declared.kind == "int":
        low = declared.minimum if declared.minimum is not None else 0
        high = declared.maximum if declared.maximum is not None else 120
        return [*range(low, high + 1), None]
    if declared.kind == "date":
        return _date_values(context)
    raise TypeError(f"the attacker cannot enumerate {source}.{name} ({declared.kind})")


@dataclass
class Feature:
    """Attributes read together, and per predicate its output for each class of values."""

    attrs: tuple[AttrKey, ...]
    predicates: list[Predicate]
    outputs: list[np.ndarray]
    """Per predicate: an object array, one output per class."""

    @property
    def n_classes(self) -> int:
        return len(self.outputs[0]) if self.outputs else 1


def build_features(predicates: Iterable[Predicate], context: Context) -> list[Feature]:
    """Group attributes into features and each feature's values into classes."""
    unique = list({p.key: p for p in predicates}.values())
    features = []
    for attrs in _connected_attributes(unique):
        preds = [p for p in unique if set(p.attrs) <= set(attrs)]
        key = (attrs, tuple(p.key for p in preds), tuple(sorted(context.periods)),
               tuple(sorted(context.reference_dates)))
        if key not in _FEATURES:
            _FEATURES[key] = _feature(attrs, preds, context)
        features.append(_FEATURES[key])
    return features


_FEATURES: dict[tuple, Feature] = {}
"""Enumerations are pure functions of the registry: shared by every attack of a session."""


def _feature(attrs: tuple[AttrKey, ...], preds: list[Predicate], context: Context) -> Feature:
    domains = [attribute_values(a, context) for a in attrs]
    size = int(np.prod([len(d) for d in domains]))
    if size > MAX_FEATURE_VALUES:
        raise ValueError(f"feature {attrs} has {size} values to enumerate; too many")
    positions = [[attrs.index(a) for a in p.attrs] for p in preds]
    classes: dict[tuple, int] = {}
    for values in itertools.product(*domains):
        signature = tuple(p.evaluate(tuple(values[i] for i in pos))
                          for p, pos in zip(preds, positions))
        classes.setdefault(signature, len(classes))
    outputs = [np.empty(len(classes), dtype=object) for _ in preds]
    for signature, index in classes.items():
        for out, value in zip(outputs, signature):
            out[index] = value
    return Feature(tuple(attrs), preds, outputs)


def _connected_attributes(predicates: Sequence[Predicate]) -> list[tuple[AttrKey, ...]]:
    parent: dict[AttrKey, AttrKey] = {}

    def find(a: AttrKey) -> AttrKey:
        while parent.setdefault(a, a) != a:
            a = parent[a]
        return a

    for p in predicates:
        for a in p.attrs:
            find(a)
        for a, b in zip(p.attrs, p.attrs[1:]):
            parent[find(a)] = find(b)
    groups: dict[AttrKey, list[AttrKey]] = {}
    for a in parent:
        groups.setdefault(find(a), []).append(a)
    return [tuple(sorted(g)) for g in groups.values()]


def release_predicates(population: str, periods: Sequence[int], measures: Sequence[str],
                       dimensions: Sequence[ResolvedDimension], reference_date: dt.date
                       ) -> dict[int, dict[str, object]]:
    """Per period: the population filter, per measure its cohort and numerator conditions,
    and per dimension its categorising predicate."""
    out = {}
    for period in periods:
        filt = condition_predicate(registry.population(population).period_filter, period)
        per_measure = {}
        for name in measures:
            m = registry.measure(name)
            per_measure[name] = ([condition_predicate(c, period) for c in m.cohort],
                                 [condition_predicate(c, period) for c in m.numerator])
        dims = [dimension_predicate(d, period, reference_date) for d in dimensions]
        out[period] = {"filter": filt, "measures": per_measure, "dimensions": dims}
    return out
