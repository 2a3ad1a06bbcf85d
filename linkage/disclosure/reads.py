"""What decides which cell of a table a person is in: the attributes each part reads.

The joint audit (``joint``) lets a rate's numerator status flip: for every person in a rate's
cohort it adds a *phantom*, "a person like this one without (or with) the status", because an
attacker cannot tell who has the status. That is only true while no release tells it: a table
of persons by integration outcome counts the "completed" persons, a table of outflow to work
within 6 months constrains the status of outflow within 12 months. A phantom must be in the
same cell as its person in every release; it is, when no release classifies persons by an
attribute the status reads, other than through a condition of the rate's own cohort (which the
phantom keeps by construction).

A table's ``Reads`` lists each part of its classification (population and cohort conditions,
dimensions) with the attributes it reads, keyed by a name that is equal for equal parts (a
condition's SQL for the period, so that "position in 2023 known" is one part whether it came
from 2023 or from 2021 plus two years), and, for a rate, the attributes of its numerator status. A release without ``Reads`` (recorded before they existed) is taken to read
everything: no phantoms beside it, which only makes the audit stricter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reads:
    classification: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per part (condition or dimension, keyed by name), the attributes it reads."""
    status: frozenset[str] = frozenset()
    """A rate's numerator status: the attributes it reads (empty for a count)."""
    cohort: frozenset[str] = frozenset()
    """A rate's cohort: the names of its conditions (kept by a phantom)."""

    def to_json(self) -> dict[str, Any]:
        return {"classification": {k: sorted(v) for k, v in sorted(self.classification.items())},
                "status": sorted(self.status), "cohort": sorted(self.cohort)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Reads:
        return cls({k: frozenset(v) for k, v in data["classification"].items()},
                   frozenset(data["status"]), frozenset(data["cohort"]))


def status_can_flip(rate: Reads, rate_measure: str, other: Reads | None, other_measure: str) -> bool:
    """Whether a person of ``rate``'s cohort could have the other status without changing
    cell in the release ``other`` (of numerator measure ``other_measure``, "" for a count)."""
    if other is None:
        return False
    if other_measure and other_measure != rate_measure and other.status & rate.status:
        return False
    return all(not (attrs & rate.status) or part in rate.cohort
               for part, attrs in other.classification.items())
