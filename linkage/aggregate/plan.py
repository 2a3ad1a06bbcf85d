"""A validated request resolved once against the registry: what every later step consumes.

Authorisation needs the sources a request reads; computing needs the population, the
measures and the dimensions resolved for the periods and reference date; protection needs,
per measure, what decides which cell a person is in (``linkage.disclosure.Reads``). They all
come from one :class:`Plan`, made by :func:`plan`, so a request enters the registry once and
the linked data are read in one pass (``compute.evaluate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from linkage import disclosure
from linkage.aggregate import registry
from linkage.aggregate.conditions import Attr
from linkage.aggregate.dimensions import ResolvedDimension, resolve
from linkage.aggregate.request import AggregateRequest


@dataclass(frozen=True)
class Plan:
    request: AggregateRequest
    population: registry.Population
    measures: tuple[registry.Measure, ...]
    dimensions: tuple[ResolvedDimension, ...]
    sources: frozenset[str]
    """Every source the request reads: population, measures and dimensions (for authorisation)."""
    reads: Mapping[str, disclosure.Reads]
    """Per measure, what decides a person's cell in its table."""
    statuses: Mapping[str, str]
    """Per rate measure, its numerator status by name (see ``status_name``)."""


def plan(request: AggregateRequest) -> Plan:
    """Resolve a validated request against the registry."""
    population = registry.population(request.population)
    measures = tuple(registry.measure(name) for name in request.measures)
    kinds = [registry.dimension_kind(ref.kind) for ref in request.dimensions]
    dimensions = tuple(resolve(ref, request.periods, request.reference_date) for ref in request.dimensions)
    sources = {request.population}
    for measure in measures:
        for period in request.periods:
            sources |= {source for source, _ in measure.attributes(period)}
    for kind in kinds:
        sources |= {attr.source for attr in kind.attributes}
    classification: dict[str, frozenset[str]] = {}
    for period in request.periods:
        classification[population.period_filter.sql(period)] = _names(population.period_filter.attrs(), period)
        for ref, kind in zip(request.dimensions, kinds, strict=True):
            classification[f"dimension {ref.key}@{period}"] = _names(kind.attributes, period)
    reads = {m.name: _reads(m, population, classification, request.periods) for m in measures}
    statuses = {m.name: status_name(m, request.periods) for m in measures if m.kind == "rate"}
    return Plan(request, population, measures, dimensions, frozenset(sources), reads, statuses)


def status_name(measure: registry.Measure, periods: Iterable[int]) -> str:
    """A rate's numerator status named by its conditions' SQL for each period. Two rates with
    one name state the same fact of a person (the employment rate of 2023 and the employment
    rate two years after 2021 both read the end-2023 position), so the release ledger lets a
    person's status flip in both at once or in neither."""
    return " | ".join(sorted({condition.sql(period) for period in periods
                              for condition in measure.numerator}))


def _names(attributes: Iterable[Attr], period: int) -> frozenset[str]:
    return frozenset(f"{a.source}.{a.resolve(period)}" for a in attributes)


def _reads(measure: registry.Measure, population: registry.Population,
           classification: Mapping[str, frozenset[str]], periods: Iterable[int]) -> disclosure.Reads:
    """A condition is named by its SQL for the period: one predicate, one name, whatever
    offsets produced it ("position in 2023 known" from 2023, or from 2021 plus two years)."""
    parts, cohort, status = dict(classification), set(), set()
    for period in periods:
        for condition in (population.period_filter, *measure.cohort):
            name = condition.sql(period)
            parts[name] = _names(condition.attrs(), period)
            cohort.add(name)
        for condition in measure.numerator:
            status |= _names(condition.attrs(), period)
    rate = measure.kind == "rate"
    return disclosure.Reads(parts, frozenset(status), frozenset(cohort) if rate else frozenset())
