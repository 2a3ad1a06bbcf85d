"""The attacker: every release by anyone, jointly, against the truth.

``attack(releases, data)`` builds the atom model of all releases, bounds every hidden figure
(a suppressed cell's count, a rate's numerator and complement) by LP/MIP under every published
figure (within the stated noise bound), and reports:

* ``broken``: hidden figures whose interval is narrower than [a-1, a+1] or pinned;
* ``derived``: published figures of two releases whose persons are nested (one cell counts a
  subset of the other's persons), so that their difference is a group of persons the attacker
  learns; counted when that group is small (1..k-1) and known within less than +-1;
* ``labelled``: hidden cells whose status is not plain ``suppressed`` or that carry a reason;
  with ``use_labels`` the statuses and reasons also become constraints (today's texts).

The truth (``data``, per run) only judges: every true value must lie in its interval, else
the attacker's model is wrong and the attack fails loudly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from linkage.aggregate.compute import LinkedData

from tests.attack.model import AtomModel, FigureId
from tests.attack.releases import Release, ReleasedCell
from tests.attack.solve import INF, Bounder, broken, intervals
from tests.attack.truth import true_figures

SUPPRESSED = "suppressed"
PERCENT = re.compile(r"\b(0|100) ?%")


@dataclass(frozen=True)
class Finding:
    what: str
    truth: int
    low: float
    high: float
    row: np.ndarray | None = field(default=None, compare=False, repr=False)
    """The figure over the attacker's atom columns (for estimating it from noisy releases)."""

    @property
    def pinned(self) -> bool:
        return self.low == self.high


@dataclass
class Outcome:
    """What one attack achieved."""

    hidden: int = 0
    """Hidden figures bounded (counts, numerators, complements of suppressed cells)."""
    broken: list[Finding] = field(default_factory=list)
    derived: list[Finding] = field(default_factory=list)
    labelled: int = 0
    percent_texts: int = 0
    releases: int = 0

    @property
    def pinned(self) -> int:
        return sum(f.pinned for f in self.broken)

    @property
    def numbers_defeated(self) -> bool:
        """No hidden figure narrowed, no small group derived."""
        return not (self.broken or self.derived)

    @property
    def labels_defeated(self) -> bool:
        """No hidden cell says more than ``suppressed``; no text states 0 % or 100 %."""
        return not (self.labelled or self.percent_texts)

    def summary(self) -> str:
        return (f"{self.releases} releases; hidden figures narrowed {len(self.broken)} of {self.hidden} "
                f"(pinned {self.pinned}); derived small groups {len(self.derived)}; "
                f"labelled hidden cells {self.labelled}; 0%/100% texts {self.percent_texts}")


def _label(cell: ReleasedCell) -> bool:
    return cell.status != SUPPRESSED or bool(cell.reason)


_BELOW = re.compile(r"below (\d+)")


def label_intervals(cell: ReleasedCell) -> dict[str, tuple[float, float]]:
    """What today's statuses and reasons say about a hidden cell's figures."""
    out: dict[str, tuple[float, float]] = {}
    for reason in cell.reason.split(";"):
        below = _BELOW.search(reason)
        small = (1, int(below.group(1)) - 1) if below else None
        if "rate 0%" in reason:
            out["numerator"] = (0, 0)
        elif "rate 100%" in reason:
            out["complement"] = (0, 0)
        elif small and ("count below" in reason or "denominator below" in reason):
            out["count"] = small
        elif small and "numerator below" in reason:
            out["numerator"] = small
        elif small and "complement" in reason:
            out["complement"] = small
    return out


def _figure_label(figure: FigureId, release: Release) -> str:
    cell = release.tables[figure.table].cells[figure.cell]
    measure = release.tables[figure.table].measure
    return f"{release.requester}: {measure} {'/'.join(cell.key)} {figure.what}"


def attack(releases: Sequence[Release], data: Mapping[str, LinkedData], *, use_labels: bool = False,
           nested_runs: bool = True, denoise: bool = True) -> Outcome:
    """``denoise``: also bound small published figures under a stated noise bound (whether
    the noise can be removed); without it only hidden figures are bounded."""
    outcome = Outcome(releases=len(releases))
    if not releases:
        return outcome
    model = AtomModel(releases, nested_runs=nested_runs)
    truth = true_figures(model, data)
    constraints, targets = [], {}
    bound_of = {}
    for figure in model.figures():
        release = model.releases[figure.release]
        table = release.tables[figure.table]
        cell = table.cells[figure.cell]
        row, value = model.row(figure), model.released_value(figure)
        if value is not None:
            bound = table.bound * (2 if figure.what == "complement" else 1)   # count - numerator
            bound_of[figure] = bound
            if abs(value - truth[figure]) > bound:
                raise AssertionError(f"{_figure_label(figure, release)}: published {value}, true "
                                     f"{truth[figure]}: the attacker misreads the release")
            if figure.what != "complement":
                constraints.append((row, value - bound, value + bound))
            if denoise and bound and value <= 2 * release.k:
                targets[figure] = (row, truth[figure])
            continue
        targets[figure] = (row, truth[figure])
        if use_labels:
            low, high = label_intervals(cell).get(figure.what, (0, INF))
            if (low, high) != (0, INF):
                constraints.append((row, low, high))
    for release in releases:
        for table in release.tables:
            outcome.labelled += sum(_label(c) for c in table.cells if not c.published)
        outcome.percent_texts += len(PERCENT.findall(release.text))
    _bound_targets(model, constraints, targets, outcome)
    outcome.derived = _derived_groups(model, truth, bound_of)
    return outcome


def _bound_targets(model: AtomModel, constraints, targets, outcome: Outcome) -> None:
    unique: dict[bytes, tuple[np.ndarray, int]] = {}
    for row, value in targets.values():
        unique.setdefault(row.tobytes(), (row, value))
    bounder = Bounder(model.n_columns, constraints)
    found = intervals(bounder, unique)
    outcome.hidden = len(targets)
    for figure, (row, value) in targets.items():
        low, high = found[row.tobytes()]
        label = _figure_label(figure, model.releases[figure.release])
        if not low <= value <= high:
            raise AssertionError(f"{label}: true value {value} outside the attacker's interval "
                                 f"[{low}, {high}]: the attacker's model is wrong")
        if broken(value, low, high):
            outcome.broken.append(Finding(label, value, low, high, row))


def _derived_groups(model: AtomModel, truth: Mapping[FigureId, int],
                    bound_of: Mapping[FigureId, int]) -> list[Finding]:
    """Published figures of different releases with nested persons and a small difference."""
    figures = [f for f in bound_of if f.what != "complement"
               and model.row(f).max(initial=0) <= 1 and model.row(f).any()]
    if len(figures) < 2:
        return []
    rows = np.packbits(np.stack([model.row(f) for f in figures]).astype(bool), axis=1)
    release = np.array([f.release for f in figures])
    values = np.array([model.released_value(f) for f in figures])
    bounds = np.array([bound_of[f] for f in figures])
    found = []
    for i, small in enumerate(figures):
        inside = ~(rows[i] & ~rows).any(axis=1)           # row i's persons within row j's
        inside &= release != release[i]
        inside &= (rows != rows[i]).any(axis=1)
        for j in np.flatnonzero(inside):
            big = figures[j]
            k = model.releases[big.release].k
            a = truth[big] - truth[small]
            if not 1 <= a < k:
                continue
            slack = bounds[i] + bounds[j]
            low, high = max(0, values[j] - values[i] - slack), values[j] - values[i] + slack
            if broken(a, low, high):
                found.append(Finding(f"{_figure_label(big, model.releases[big.release])} minus "
                                     f"{_figure_label(small, model.releases[small.release])}",
                                     a, low, high, model.row(big) - model.row(small)))
    return found
