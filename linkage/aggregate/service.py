"""Answer a validated statistics request: exact counts, then disclosure control, then metadata.

This is the only way the broker turns linked data into something that leaves it: every
measure's leaf counts go through :func:`linkage.disclosure.protect` (primary and secondary
suppression over the table with its margins, the audit, the release ledger), and only the
protected cells are returned. Authorisation is the caller's job (``server/policy.py``);
the caller passes the authorisation's minimum cell size as ``k``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from typing import Any

from linkage import disclosure, origin
from linkage.aggregate import registry
from linkage.aggregate.answer import AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable
from linkage.aggregate.compute import LinkedData, evaluate
from linkage.aggregate.plan import Plan, plan
from linkage.aggregate.conditions import all_words
from linkage.aggregate.dimensions import GEOGRAPHY_DATE, resolve
from linkage.aggregate.request import AggregateRequest
from linkage.disclosure.background import BackgroundAudits
from linkage.sources import PAYLOAD_VERSION

AUDIT_METHOD = ("primary and secondary suppression per table, then a joint LP audit over "
                "the persons of every release on the same people (docs/disclosure.md)")
UNLINKED_NOTE = (
    "Every record of the population source is counted. A record not linked to a source "
    "gets the category 'unknown' in dimensions derived from that source (origin, sex, age and "
    "residence come from KSZ) and is outside the cohort of a rate that needs that source."
)


def answer_request(request: AggregateRequest | Plan, data: LinkedData, k: int,
                   ledger: "disclosure.PersonLedger | disclosure.ReleaseLedger | None" = None, minimum: int = 2,
                   deadline: float | None = None, audits: BackgroundAudits | None = None,
                   wait: float = 0.0, audit_limit: float | None = None) -> AggregateAnswer:
    """The protected tables of every measure, with the metadata to read them.

    ``k`` is the authorisation's minimum cell size; ``minimum`` the system's, below which
    no ``k`` is accepted. With a ``ledger`` the tables are audited jointly with every
    earlier release on the same persons and recorded; an identical request is answered
    from the ledger. Cells say ``published`` or ``suppressed``, nothing more; the answer's
    ``suppression_reasons`` (counts, not serialised) are for the audit log. Past ``deadline``
    (``time.monotonic()``), or ``audit_limit`` seconds after the audit got its turn on the
    ledger, the audit stops with ``AuditUnfinished`` and records nothing.

    With ``audits`` (the broker's) the computation and audit run there, keyed by the request's
    fingerprint, and the caller waits at most ``wait`` seconds: past them ``AuditPending``
    (retryable); the same request asked again joins that audit, or is answered from the ledger
    once it has passed."""
    resolved = request if isinstance(request, Plan) else plan(request)
    request = resolved.request
    k = max(k, minimum)
    if isinstance(ledger, disclosure.ReleaseLedger):
        ledger = ledger.persons
    fingerprint = request_fingerprint(request, data, k)
    if ledger is not None:
        earlier = ledger.answer(fingerprint)
        if earlier is not None:
            return AggregateAnswer.from_json(earlier.decode())
        if audits is not None:
            return audits.run(fingerprint, lambda: _protected(resolved, data, k, ledger, minimum, fingerprint,
                                                              deadline, audit_limit), wait)
    return _protected(resolved, data, k, ledger, minimum, fingerprint, deadline, audit_limit)


def _protected(resolved: Plan, data: LinkedData, k: int, ledger: "disclosure.PersonLedger | None",
               minimum: int, fingerprint: str, deadline: float | None,
               audit_limit: float | None) -> AggregateAnswer:
    """The request's tables computed and protected (with ``ledger``: audited and recorded)."""
    request = resolved.request
    evaluated = evaluate(resolved, data)
    leaves = {name: e.leaf for name, e in evaluated.items()}
    inputs = [disclosure.TableInput(
        tuple(disclosure.Dimension(d.name, d.categories) for d in e.leaf.dimensions),
        e.leaf.counts, e.membership, e.leaf.numerators,
        resolved.statuses.get(name, ""), resolved.reads[name])
        for name, e in evaluated.items()]

    def render(released) -> bytes:
        return _answer(request, data, k, leaves, released, {}).to_json().encode()

    if ledger is None:
        released = disclosure.release_alone(inputs, k, minimum)
        return _answer(request, data, k, leaves, released, {})
    released, _, stats = disclosure.release_tables(inputs, k, minimum, ledger, fingerprint, render,
                                                   deadline, audit_limit)
    return _answer(request, data, k, leaves, released, stats)


def request_fingerprint(request: AggregateRequest, data: LinkedData, k: int) -> str:
    """Identity of a request for the ledger: the request, the run and the threshold."""
    body = json.dumps([request.to_dict(), data.snapshot, k], sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def _answer(request, data, k, leaves, released, stats) -> AggregateAnswer:
    tables, reasons = [], Counter()
    for leaf, table in zip(leaves.values(), released):
        rate = leaf.numerators is not None
        cells = tuple(
            AnswerCell(key, None if table.suppressed[c] else int(table.values[0, c]),
                       None if table.suppressed[c] or not rate else int(table.values[1, c]),
                       table.status(c))
            for c, key in enumerate(table.keys))
        dimensions = tuple(AnswerDimension(d.name, d.label, d.categories, dict(d.labels))
                           for d in leaf.dimensions)
        audit = {"passed": True, "rules_version": disclosure.RULES_VERSION,
                 "method": AUDIT_METHOD, "joint_releases": stats.get("joint_releases", 0)}
        tables.append(answer_table(leaf.measure, dimensions, cells, audit))
        reasons.update(table.reasons)
    answer = AggregateAnswer(request.to_dict(), _metadata(request, data, k,
                                                          [disclosure.RULES_VERSION]),
                             tuple(tables))
    answer.suppression_reasons.update(reasons)
    return answer


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
