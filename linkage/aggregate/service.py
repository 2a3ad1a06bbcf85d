"""Answer a validated statistics request: exact counts, then disclosure control, then metadata.

This is the only way the broker turns linked data into something that leaves it: every
measure's leaf counts go through :func:`linkage.disclosure.protect` (primary and secondary
suppression over the table with its margins, the audit, the release ledger), and only the
protected cells are returned. Authorisation is the caller's job (``server/policy.py``);
the caller passes the authorisation's minimum cell size as ``k``.
"""

from __future__ import annotations

import hashlib
from typing import Any

from linkage import disclosure, origin
from linkage.aggregate import registry
from linkage.aggregate.answer import AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable
from linkage.aggregate.compute import LeafTable, LinkedData, compute
from linkage.aggregate.conditions import all_words
from linkage.aggregate.dimensions import GEOGRAPHY_DATE, resolve
from linkage.aggregate.request import AggregateRequest
from linkage.sources import PAYLOAD_VERSION

UNLINKED_NOTE = (
    "Every record of the population source is counted. A record not linked to a source "
    "gets the category 'unknown' in dimensions derived from that source (origin, sex, age and "
    "residence come from KSZ) and is outside the cohort of a rate that needs that source."
)


def sources_read(request: AggregateRequest) -> set[str]:
    """The sources a request reads: population, measures and dimensions (for authorisation)."""
    read = {request.population}
    for name in request.measures:
        for period in request.periods:
            read |= {source for source, _ in registry.measure(name).attributes(period)}
    for ref in request.dimensions:
        read |= {attr.source for attr in registry.dimension_kind(ref.kind).attributes}
    return read


def answer_request(request: AggregateRequest, data: LinkedData, k: int,
                   ledger: "disclosure.ReleaseLedger | None" = None, minimum: int = 2) -> AggregateAnswer:
    """The protected tables of every measure, with the metadata to read them.

    ``k`` is the authorisation's minimum cell size; ``minimum`` the system's, below which
    no ``k`` is accepted."""
    leaves = compute(request, data)
    tables = tuple(_protected(request, data, leaf, max(k, minimum), minimum, ledger)
                   for leaf in leaves.values())
    rules = sorted({str(t.audit.get("rules_version", "")) for t in tables})
    return AggregateAnswer(request.to_dict(), _metadata(request, data, k, rules), tables)


def ledger_population(request: AggregateRequest, measure: registry.Measure) -> str:
    """The release ledger's name for the set of persons a table counts.

    Tables over the same population source, periods and cohort count the same persons, so
    their cells are the same cells to the ledger (published again with the same value,
    suppressed again), whoever asks: ``persons`` and the outflow rates of VDAB share one
    cohort; the employment rate (ages 20-64 with a known position) has its own.
    """
    cohort = all_words(measure.cohort)
    digest = hashlib.sha256(cohort.encode()).hexdigest()[:16]
    periods = ",".join(map(str, request.periods))
    return f"{request.population}/{periods}/{digest}"


def ledger_dimension_name(ref, reference_date) -> str:
    """A dimension's name to the ledger: its key, plus the reference date when its categories
    depend on it (date-aware EU membership), so that 'eu' in 2003 and in 2005 are different
    cells while date-independent classifications stay the same cells on any date."""
    if ref.kind in ("origin_category", "origin_group", "generation"):
        definition = origin.definition(ref.params[0])
        aware = definition.foreign_grouping.date_aware and ref.kind != "generation"
        if ref.kind == "origin_group":
            aware = aware or origin.grouping(ref.params[1]).date_aware
        if aware:
            return f"{ref.key}@{reference_date.isoformat()}"
    return ref.key


def _protected(request: AggregateRequest, data: LinkedData, leaf: LeafTable, k: int, minimum: int,
               ledger: "disclosure.ReleaseLedger | None") -> AnswerTable:
    names = [ledger_dimension_name(ref, request.reference_date) for ref in request.dimensions]
    dims = [disclosure.Dimension(name, d.categories) for name, d in zip(names, leaf.dimensions)]
    m = leaf.measure
    protected = disclosure.protect(
        dims, leaf.counts, k=k, minimum=minimum, numerators=leaf.numerators, ledger=ledger,
        snapshot=data.snapshot or None, population=ledger_population(request, m),
        numerator_measure=m.name,
    )
    cells = tuple(
        AnswerCell(tuple(cell.key), cell.value, cell.numerator if leaf.numerators is not None else None,
                   cell.status, cell.reason)
        for cell in protected.cells
    )
    dimensions = tuple(AnswerDimension(d.name, d.label, d.categories, dict(d.labels))
                       for d in leaf.dimensions)
    return answer_table(m, dimensions, cells, protected.audit.to_json())


def describe(request: AggregateRequest) -> dict[str, Any]:
    """The metadata of an answer that follow from the request and the library alone."""
    population = registry.population(request.population)
    definitions = {}
    groupings = {}
    notes = [UNLINKED_NOTE]
    for ref in request.dimensions:
        if ref.kind in ("origin_category", "origin_group", "generation"):
            definition = origin.definition(ref.params[0])
            definitions[definition.name] = {"version": definition.version,
                                            "fingerprint": definition.fingerprint}
            notes += [f"{definition.name}: {c}" for c in definition.caveats
                      if f"{definition.name}: {c}" not in notes]
        if ref.kind == "origin_group":
            groupings[ref.params[1]] = origin.grouping(ref.params[1]).label
        if ref.kind in ("region", "province", "municipality"):
            notes.append(f"Residence in the municipal boundaries of {GEOGRAPHY_DATE.isoformat()}.")
    return {
        "registry_version": registry.REGISTRY_VERSION,
        "payload_version": PAYLOAD_VERSION,
        "origin_definitions": definitions,
        "origin_groupings": groupings,
        "authorisation": request.authorisation,
        "population_label": population.label,
        "population_definition": f"{population.label} {population.period_words}",
        "notes": notes,
    }


def answer_dimensions(request: AggregateRequest) -> tuple[AnswerDimension, ...]:
    """The request's dimensions as an answer shows them: key, label, categories, names."""
    return tuple(
        AnswerDimension(d.name, d.label, d.categories, dict(d.labels))
        for d in (resolve(ref, request.periods, request.reference_date) for ref in request.dimensions)
    )


def answer_table(measure: registry.Measure, dimensions: tuple[AnswerDimension, ...],
                 cells: tuple[AnswerCell, ...], audit: dict[str, Any]) -> AnswerTable:
    """A measure's protected cells with the words that say what they count."""
    return AnswerTable(
        measure=measure.name, label=measure.label, kind=measure.kind,
        description=measure.description, cohort=all_words(measure.cohort),
        numerator=all_words(measure.numerator) if measure.numerator else "",
        dimensions=dimensions, cells=cells, audit=audit,
    )


def _metadata(request: AggregateRequest, data: LinkedData, k: int, rules: list[str]) -> dict[str, Any]:
    return {**describe(request), "rules_version": ", ".join(rules), "min_cell_size": k,
            "linkage_snapshot": data.snapshot}
