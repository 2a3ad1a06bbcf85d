"""What ``protect`` returns, and how it is rendered to rows for CSV and JSON output."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from linkage.disclosure.table import Dimension

RULES_VERSION = "disclosure-rules/1"
PUBLISHED, PRIMARY, SECONDARY = "published", "primary", "secondary"
SUPPRESSED = "suppressed"
"""The only status a hidden cell shows outside the library: why it is hidden (primary, secondary,
an earlier release) would state or bound its value."""


@dataclass(frozen=True)
class Cell:
    key: tuple[str, ...]          # category per dimension, "Total" for a margin
    value: int | None             # persons (the denominator for a rate); None when suppressed
    numerator: int | None         # rate tables only; None when suppressed or not a rate table
    status: str                   # published, primary or secondary
    reason: str

    @property
    def suppressed(self) -> bool:
        return self.status != PUBLISHED

    @property
    def shown_status(self) -> str:
        """``published`` or ``suppressed``: the status a release may show."""
        return SUPPRESSED if self.suppressed else PUBLISHED

    @property
    def rate(self) -> float | None:
        if self.numerator is None or not self.value:
            return None
        return self.numerator / self.value


@dataclass(frozen=True)
class AuditSummary:
    passed: bool
    method: str                   # how secondaries were found and how the audit bounded cells
    rules_version: str
    cells_checked: int            # suppressed cells whose attacker interval was computed
    quantities_checked: int       # unsafe figures checked (a rate cell can have several)
    witnessed: int                # of which proven by an integer witness (a hypercube move)
    integer_bounds: int           # attacker bounds recomputed as MIP (fractional LP vertex)
    joint_releases: int           # earlier releases of the same snapshot audited jointly
    augmentations: int            # suppressions the audit added after the first pattern

    def publishable(self) -> dict:
        """What a published table may say of its audit: that it passed, how, under which rules.
        The counts (unsafe figures checked, augmentations) tell how many hidden cells are
        small, so they stay with whoever ran the protection."""
        return {"passed": self.passed, "method": self.method, "rules_version": self.rules_version}


@dataclass(frozen=True)
class ProtectedTable:
    dimensions: tuple[Dimension, ...]
    cells: tuple[Cell, ...]
    audit: AuditSummary
    k: int
    is_rate: bool
    coarsened: tuple[str, ...] = ()           # dimensions answered one level coarser
    _index: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._index.update({c.key: c for c in self.cells})

    def cell(self, key: Sequence[str]) -> Cell:
        return self._index[tuple(key)]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def counts(self) -> dict[str, int]:
        out = {PUBLISHED: 0, PRIMARY: 0, SECONDARY: 0}
        for c in self.cells:
            out[c.status] += 1
        return out


def table_rows(table: ProtectedTable) -> list[dict]:
    """One dict per cell as it may be published: the dimension columns, then value (count or
    denominator), numerator and rate for rate tables, and status (``published`` or
    ``suppressed``, never why). Suppressed values are None."""
    rows = []
    for cell in table.cells:
        row: dict = dict(zip(table.names, cell.key))
        row["value"] = cell.value
        if table.is_rate:
            row["numerator"] = cell.numerator
            row["rate"] = None if cell.rate is None else round(cell.rate, 6)
        row["status"] = cell.shown_status
        rows.append(row)
    return rows
