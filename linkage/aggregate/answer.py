"""The answer to a statistics request: protected tables plus metadata, and their renderings.

This is what leaves the broker: for each measure every cell of the table (leaves and
margins, ``Total`` in a dimension), its published value or ``None`` when suppressed, its
status (``published`` or ``suppressed``, never why), and the metadata a reader needs to interpret the figures (definition
and registry versions, disclosure rules, authorisation). It is plain data with a JSON form
(``to_dict``/``from_dict``), so the broker can send it and the command line can render it
as CSV, JSON or a text table without any record-level data.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

TOTAL = "Total"
FORMAT = "linkage-aggregate-answer/1"


@dataclass(frozen=True)
class AnswerDimension:
    name: str
    label: str
    categories: tuple[str, ...]
    """Leaf categories in display order; cells also use ``Total``."""
    labels: Mapping[str, str] = field(default_factory=dict)

    def display(self, category: str) -> str:
        return self.labels.get(category, category)


@dataclass(frozen=True)
class AnswerCell:
    key: tuple[str, ...]
    count: int | None
    """Persons (a person count) or the rate's denominator; None when suppressed."""
    numerator: int | None = None
    status: str = "published"
    """``published`` or ``suppressed``: a hidden cell never says why."""

    @property
    def rate(self) -> float | None:
        if self.count is None or self.numerator is None or self.count == 0:
            return None
        return self.numerator / self.count

    @property
    def suppressed(self) -> bool:
        return self.status != "published"


@dataclass(frozen=True)
class AnswerTable:
    measure: str
    label: str
    kind: str
    """``count`` or ``rate``."""
    description: str
    cohort: str
    numerator: str
    dimensions: tuple[AnswerDimension, ...]
    cells: tuple[AnswerCell, ...]
    audit: Mapping[str, Any] = field(default_factory=dict)

    def cell(self, key: Sequence[str]) -> AnswerCell:
        wanted = tuple(key)
        for cell in self.cells:
            if cell.key == wanted:
                return cell
        raise KeyError(wanted)


@dataclass(frozen=True)
class AggregateAnswer:
    request: Mapping[str, Any]
    metadata: Mapping[str, Any]
    tables: tuple[AnswerTable, ...]
    suppression_reasons: Counter = field(default_factory=Counter, compare=False, repr=False)
    """Hidden cells by internal reason, for the audit log only (not serialised)."""

    def table(self, measure: str) -> AnswerTable:
        for table in self.tables:
            if table.measure == measure:
                return table
        raise KeyError(measure)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "request": dict(self.request),
            "metadata": dict(self.metadata),
            "tables": [
                {
                    "measure": t.measure, "label": t.label, "kind": t.kind,
                    "description": t.description, "cohort": t.cohort, "numerator": t.numerator,
                    "dimensions": [
                        {"name": d.name, "label": d.label, "categories": list(d.categories),
                         "labels": dict(d.labels)}
                        for d in t.dimensions
                    ],
                    "audit": dict(t.audit),
                    "cells": [
                        {"key": list(c.key), "count": c.count, "numerator": c.numerator,
                         "status": c.status}
                        for c in t.cells
                    ],
                }
                for t in self.tables
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "AggregateAnswer":
        if data.get("format") != FORMAT:
            raise ValueError(f"not an aggregate answer (format {data.get('format')!r})")
        tables = tuple(
            AnswerTable(
                measure=t["measure"], label=t["label"], kind=t["kind"],
                description=t["description"], cohort=t["cohort"], numerator=t["numerator"],
                dimensions=tuple(
                    AnswerDimension(d["name"], d["label"], tuple(d["categories"]), dict(d["labels"]))
                    for d in t["dimensions"]
                ),
                cells=tuple(
                    AnswerCell(tuple(c["key"]), c["count"], c["numerator"], c["status"])
                    for c in t["cells"]
                ),
                audit=dict(t["audit"]),
            )
            for t in data["tables"]
        )
        return cls(dict(data["request"]), dict(data["metadata"]), tables)

    @classmethod
    def from_json(cls, text: str) -> "AggregateAnswer":
        return cls.from_dict(json.loads(text))


def to_csv(answer: AggregateAnswer) -> str:
    """One row per measure and cell; dimension columns are named by the request's dimensions."""
    names = [d.name for d in answer.tables[0].dimensions] if answer.tables else []
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["measure", *names, "count", "numerator", "rate", "status"])
    for table in answer.tables:
        for cell in table.cells:
            writer.writerow([
                table.measure, *cell.key,
                "" if cell.count is None else cell.count,
                "" if cell.numerator is None else cell.numerator,
                "" if cell.rate is None else f"{cell.rate:.4f}",
                cell.status,
            ])
    return out.getvalue()


def title(answer: AggregateAnswer, table: AnswerTable) -> str:
    """Two lines: the measure by its dimensions; population, period, origin definition, date."""
    meta, request = answer.metadata, answer.request
    periods = request.get("period")
    period = ", ".join(map(str, periods)) if isinstance(periods, list) else str(periods)
    by = " and ".join(d.label for d in table.dimensions[:2])
    definitions = ", ".join(meta.get("origin_definitions", {}))
    second = [f"{meta.get('population_label', request.get('population'))}, {period}"]
    if definitions:
        second.append(f"origin definition {definitions}")
    second.append(f"reference date {request.get('reference_date')}")
    return f"{table.label}{' by ' + by if by else ''}\n{'; '.join(second)}"


def render_text(answer: AggregateAnswer) -> str:
    """A plain-text rendering, one block per measure, suppressed cells shown as 'x'."""
    blocks = []
    for table in answer.tables:
        header = [d.label for d in table.dimensions] + (
            ["persons", "numerator", "rate"] if table.kind == "rate" else ["persons"]
        ) + ["status"]
        rows = [header]
        for cell in table.cells:
            shown = [d.display(c) for d, c in zip(table.dimensions, cell.key)]
            shown.append("x" if cell.count is None else str(cell.count))
            if table.kind == "rate":
                shown.append("x" if cell.numerator is None else str(cell.numerator))
                shown.append("x" if cell.suppressed else "-" if cell.rate is None else f"{100 * cell.rate:.1f}%")
            shown.append(cell.status)
            rows.append(shown)
        widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
        lines = [title(answer, table), *(
            "  ".join(value.ljust(width) for value, width in zip(row, widths)).rstrip() for row in rows
        )]
        blocks.append("\n".join(lines))
    notes = answer.metadata.get("notes", [])
    footer = "\n".join(f"note: {n}" for n in notes)
    return "\n\n".join(blocks) + ("\n\n" + footer if footer else "") + "\n"
