"""What the attacker holds: released tables, read generically from answer objects or JSON.

A cell is *published* when its status is ``published`` and it carries a count; every other
cell is hidden, whatever its status says. A stated noise bound (``noise_bound`` in the
table, its ``audit`` or the answer's ``metadata``, or ``metadata["perturbation"]["bound"]``)
turns a published value v into the interval [v - bound, v + bound].
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

PUBLISHED = "published"


@dataclass(frozen=True)
class ReleasedCell:
    key: tuple[str, ...]
    count: int | None
    numerator: int | None
    status: str
    reason: str

    @property
    def published(self) -> bool:
        return self.status == PUBLISHED and self.count is not None


@dataclass(frozen=True)
class ReleasedTable:
    measure: str
    kind: str
    dimensions: tuple[str, ...]
    cells: tuple[ReleasedCell, ...]
    bound: int


@dataclass(frozen=True)
class Release:
    """One answer, with who asked it and on which linkage run."""

    requester: str
    run: str
    population: str
    periods: tuple[int, ...]
    dimensions: tuple[str, ...]
    reference_date: dt.date
    k: int
    tables: tuple[ReleasedTable, ...]
    text: str
    """Every word of the answer (labels, reasons, notes) for the label attack."""


def _bound(*places: Mapping[str, Any]) -> int:
    for place in places:
        if not isinstance(place, Mapping):
            continue
        for key in ("noise_bound", "perturbation_bound"):
            if isinstance(place.get(key), (int, float)):
                return int(place[key])
        perturbation = place.get("perturbation")
        if isinstance(perturbation, Mapping) and isinstance(perturbation.get("bound"), (int, float)):
            return int(perturbation["bound"])
    return 0


def _number(value: Any) -> int | None:
    return None if value is None else int(value)


def from_answer(answer: Mapping[str, Any], requester: str, run: str, *, k: int = 5) -> Release:
    """A release from an answer's JSON form (``AggregateAnswer.to_dict()`` or
    ``linkage aggregate --format json``)."""
    request, metadata = answer["request"], answer.get("metadata", {})
    periods = request["period"] if isinstance(request["period"], list) else [request["period"]]
    tables = []
    words = [str(n) for n in metadata.get("notes", [])]
    for t in answer["tables"]:
        cells = tuple(
            ReleasedCell(tuple(c["key"]), _number(c.get("count")), _number(c.get("numerator")),
                         str(c.get("status", "")), str(c.get("reason") or ""))
            for c in t["cells"])
        words += [c.reason for c in cells]
        tables.append(ReleasedTable(t["measure"], t["kind"], tuple(d["name"] for d in t["dimensions"]),
                                    cells, _bound(t, t.get("audit", {}), metadata)))
    return Release(requester, run, request["population"], tuple(int(p) for p in periods),
                   tuple(request["dimensions"]), dt.date.fromisoformat(str(request["reference_date"])),
                   int(metadata.get("min_cell_size", k)), tuple(tables), "\n".join(words))


def releases_of(answers: Sequence[tuple[str, str, Mapping[str, Any]]]) -> list[Release]:
    """(requester, run, answer) triples to releases."""
    return [from_answer(answer, requester, run) for requester, run, answer in answers]
