"""``protect``: one table from leaf counts to a released table (orchestration only).

Pipeline for one table:

1. build every cell (margins and hierarchy levels) from the leaf counts;
2. primary rules (``primary``) give the unsafe quantities;
3. with a ledger, cells released before are *forced* (published, same value) or *stuck*
   (suppressed), and the earlier releases of the snapshot join the attacker model;
4. secondary suppression by one of ``METHODS`` (dispatch in ``_secondary``);
5. augmentation (``augment``): the attacker audit over this table and the earlier
   releases, suppressing more while a quantity is not protected; then, for heuristic
   patterns of small tables, the redundancy pass;
6. record the release in the ledger, in the same transaction that read it.

Methods: ``auto`` (default) computes the hypercube pattern with redundancy removal, then
the optimal MIP warm-started from it for tables of up to ``AUTO_MAX_CELLS`` cells within
deterministic work limits, and keeps the cheaper audited pattern; ``hypercube``, ``gauss``
and ``optimal`` run one method alone. Information loss (what every method minimises): the
sum over secondary cells of persons + 1 (``problem.cell_cost``). Ties are broken by the
cell's position in the table: the same input gives the same pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from linkage.disclosure.audit import Block, Quantity
from linkage.disclosure.augment import AugmentStats, augment_until_protected, drop_redundant
from linkage.disclosure.coarsen import coarser
from linkage.disclosure.errors import ProtectionRefused, TableError, ThresholdError
from linkage.disclosure.gauss import gauss_pattern
from linkage.disclosure.hypercube import hypercube_pattern
from linkage.disclosure.optimal import Limits, optimal_pattern
from linkage.disclosure.primary import PrimaryResult, count_rules, rate_rules
from linkage.disclosure.problem import SuppressionProblem, cell_cost
from linkage.disclosure.result import (PRIMARY, PUBLISHED, RULES_VERSION, SECONDARY,
                                       AuditSummary, Cell, ProtectedTable)
from linkage.disclosure.table import TOTAL, Dimension, TableStructure, canonical_key

DEFAULT_K = 5
METHODS = ("auto", "hypercube", "gauss", "optimal")
DEFAULT_METHOD = "auto"
COUNT_MEASURE = "count"
REDUNDANCY_MAX_CELLS = 400   # heuristic patterns of tables up to this size get drop_redundant
AUTO_MAX_CELLS = 1000        # tables up to this size get the optimal MIP under method auto
AUTO_LIMITS = Limits(rounds=30, nodes=500, seconds=1.0, total_seconds=1.0)
OPTIMAL_MAX_CELLS = 3000     # method optimal refuses larger tables

LeafValues = Mapping[tuple[str, ...], int]


def protect(dimensions: Sequence[Dimension],
            counts: LeafValues,
            k: int = DEFAULT_K,
            numerators: LeafValues | None = None,
            ledger: Any = None,
            snapshot: str | None = None,
            *,
            minimum: int = 2,
            population: str = "",
            numerator_measure: str = "numerator",
            sensitive: Sequence[str] = (),
            method: str = DEFAULT_METHOD,
            coarsen: bool = False) -> ProtectedTable:
    """Protects one table given by its leaf cells; returns every cell with its status.

    ``counts`` maps a tuple of leaf categories (one per dimension) to a person count;
    combinations left out are zero. ``numerators`` makes it a rate table. ``minimum`` is the
    system's lowest allowed threshold; a smaller ``k`` is refused. With a ``ledger`` (a
    ``ReleaseLedger``) the table is audited together with the earlier releases of
    ``snapshot`` for ``population`` and then recorded. ``coarsen=True`` answers a table
    that cannot be protected one hierarchy level coarser instead of refusing it.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 2:
        raise ThresholdError("the threshold k must be an integer of at least 2")
    if k < minimum:
        raise ThresholdError(f"threshold k={k} is below the minimum of {minimum} that this "
                             f"system enforces; ask for k >= {minimum}")
    if method not in METHODS:
        raise TableError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    if ledger is not None and not snapshot:
        raise TableError("a ledger needs the snapshot id of the linkage run the counts come from")
    coarsened: list[str] = []
    dims = list(dimensions)
    while True:
        try:
            with (ledger.session(snapshot, population) if ledger is not None
                  else nullcontext(None)) as session:
                request = _build_request(TableStructure(dims), counts, numerators, k,
                                         numerator_measure, tuple(sensitive))
                return _protect_request(request, session, population, method,
                                        tuple(coarsened))
        except ProtectionRefused:
            step = coarser(dims, counts, numerators) if coarsen else None
            if step is None:
                raise
            dims, counts, numerators = step.dimensions, step.counts, step.numerators
            coarsened.append(step.coarsened)


@dataclass(frozen=True)
class _Request:
    structure: TableStructure
    values: np.ndarray                # (measures, cells)
    measures: tuple[str, ...]
    primary: PrimaryResult
    k: int


@dataclass(frozen=True)
class _History:
    """What the ledger knows of this table's cells and the earlier releases."""

    keys: list[list[str]] | None      # canonical key per measure per cell
    blocks: list[Block]               # earlier releases as attacker blocks
    quantities: list[Quantity]        # their unsafe quantities
    forced: np.ndarray                # published before: publish again
    stuck: np.ndarray                 # suppressed before: suppress again
    stuck_unsafe: np.ndarray          # of which unsafe then


@dataclass(frozen=True)
class _Outcome:
    pattern: np.ndarray
    stats: AugmentStats
    method: str


def _history(request: _Request, session: Any, population: str) -> _History:
    structure, n = request.structure, request.structure.n_cells
    none = np.zeros(n, dtype=bool)
    if session is None:
        return _History(None, [], [], none, none, none)
    keys = [[canonical_key(population, m, structure.names, structure.key(c))
             for c in range(n)] for m in request.measures]
    blocks, quantities = session.prior_blocks(structure)
    forced, stuck, stuck_unsafe = session.statuses(keys, request.values)
    return _History(keys, blocks, quantities, forced, stuck, stuck_unsafe)


def _protect_request(request: _Request, session: Any, population: str, method: str,
                     coarsened: tuple[str, ...]) -> ProtectedTable:
    structure, values = request.structure, request.values
    history = _history(request, session, population)
    primary = request.primary.primary & ~history.forced
    problem = SuppressionProblem(
        structure, values,
        tuple(q for q in request.primary.quantities if not history.forced[q.cell]),
        primary | history.stuck, history.forced, cell_cost(values[0]))
    outcome = _secondary(problem, method, history, primary | history.stuck_unsafe)
    suppressed = outcome.pattern
    stats = outcome.stats
    audit = AuditSummary(
        passed=True,
        method=f"{outcome.method} + audit: integer witnesses (hypercube moves) or attacker "
               "LP/MIP bounds (HiGHS), jointly with earlier releases",
        rules_version=RULES_VERSION,
        cells_checked=stats.cells, quantities_checked=stats.quantities,
        witnessed=stats.moves, integer_bounds=stats.mip, joint_releases=len(history.blocks),
        augmentations=stats.augmentations)
    cells = _cells(request, suppressed, primary, history, stats.augmented)
    if session is not None:
        target = len(history.blocks)
        session.record(structure, request.measures, values, suppressed, primary,
                       [replace(q, block=target) for q in problem.quantities], request.k,
                       history.keys)
    return ProtectedTable(tuple(structure.dimensions), tuple(cells), audit, request.k,
                          len(request.measures) > 1, coarsened)


def _secondary(problem: SuppressionProblem, method: str, history: _History,
               unsafe_cells: np.ndarray) -> _Outcome:
    """Dispatch: the audited pattern of the chosen method."""
    small = problem.structure.n_cells <= REDUNDANCY_MAX_CELLS
    if method == "gauss":
        return _audited(problem, gauss_pattern(problem, unsafe_cells), history,
                        "gaussian elimination", redundancy=small)
    if method == "optimal":
        if problem.structure.n_cells > OPTIMAL_MAX_CELLS:
            raise TableError(f"the optimal method handles tables of up to {OPTIMAL_MAX_CELLS} "
                             f"cells (this one has {problem.structure.n_cells}); use auto")
        result = optimal_pattern(problem)
        return _audited(problem, result.pattern, history,
                        "optimal MIP (Fischetti-Salazar cuts)", redundancy=False)
    heuristic = _audited(problem, hypercube_pattern(problem), history, "hypercubes",
                         redundancy=small)
    if method == "hypercube" or problem.structure.n_cells > AUTO_MAX_CELLS:
        return heuristic
    result = optimal_pattern(problem, limits=AUTO_LIMITS)
    if not result.converged or problem.loss(result.pattern) >= problem.loss(heuristic.pattern):
        return heuristic
    mip = _audited(problem, result.pattern, history, "optimal MIP (Fischetti-Salazar cuts)",
                   redundancy=small, minimal=result.proven)
    return mip if problem.loss(mip.pattern) < problem.loss(heuristic.pattern) else heuristic


def _audited(problem: SuppressionProblem, pattern: np.ndarray, history: _History, method: str,
             *, redundancy: bool, minimal: bool = False) -> _Outcome:
    """The pattern after augmentation against this table and the earlier releases, then
    the redundancy pass when asked, unless the pattern is ``minimal`` (optimal for the LP
    attacker: no cell can go) and the audit added nothing."""
    block = Block(problem.structure, problem.values, pattern.copy(), history.keys)
    blocks = history.blocks + [block]
    target = len(blocks) - 1
    quantities = [replace(q, block=target) for q in problem.quantities]
    ub = max([problem.ub] + [float(b.values[0].max()) for b in history.blocks])
    stats = augment_until_protected(blocks, target, quantities, history.quantities,
                                    problem.forced, problem.cost, ub)
    if redundancy and not (minimal and not stats.augmentations):
        drop_redundant(blocks, target, quantities + history.quantities, problem.fixed,
                       problem.cost, ub)
    return _Outcome(block.suppressed, stats, method)


def _build_request(structure: TableStructure, counts: LeafValues,
                   numerators: LeafValues | None, k: int, numerator_measure: str,
                   sensitive: tuple[str, ...]) -> _Request:
    inner = _leaf_vector(structure, counts, "count")
    den = structure.cell_values(inner)
    if numerators is None:
        primary = count_rules(structure, den, k, sensitive)
        return _Request(structure, den[None, :], (COUNT_MEASURE,), primary, k)
    if sensitive:
        raise TableError("sensitive dimensions apply to count tables; a rate table's "
                         "numerator already carries the group-disclosure rule")
    inner_num = _leaf_vector(structure, numerators, "numerator")
    bad = np.flatnonzero(inner_num > inner)
    if len(bad):
        leaf = np.unravel_index(int(bad[0]), structure.shape)
        key = tuple(structure.dimensions[d].categories[i] for d, i in enumerate(leaf))
        raise TableError(f"the numerator exceeds the count in cell {key!r}; a numerator counts "
                         "persons of the denominator, so it cannot be larger")
    num = structure.cell_values(inner_num)
    primary = rate_rules(structure, den, num, k)
    return _Request(structure, np.stack([den, num]),
                    (COUNT_MEASURE, f"num:{numerator_measure}"), primary, k)


def _leaf_vector(structure: TableStructure, values: LeafValues, what: str) -> np.ndarray:
    out = np.zeros(structure.n_inner, dtype=np.int64)
    for key, value in values.items():
        if not isinstance(key, tuple) or len(key) != len(structure.dimensions):
            raise TableError(f"each {what} key must be a tuple of {len(structure.dimensions)} "
                             "leaf categories, one per dimension")
        if TOTAL in key:
            raise TableError(f"{what} for {key!r}: give leaf cells only; margins ({TOTAL!r}) "
                             "are computed")
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise TableError(f"{what} for cell {key!r} is not an integer; give whole persons")
        if value < 0:
            raise TableError(f"{what} for cell {key!r} is negative; counts are >= 0")
        out[structure.inner_index(key)] = int(value)
    return out


def _cells(request: _Request, suppressed: np.ndarray, primary: np.ndarray,
           history: _History, augmented: set[int]) -> list[Cell]:
    reasons = request.primary.reasons
    is_rate = len(request.measures) > 1
    out = []
    for c in range(request.structure.n_cells):
        key = request.structure.key(c)
        if not suppressed[c]:
            value = int(request.values[0, c])
            num = int(request.values[1, c]) if is_rate else None
            reason = ("published in an earlier release of this snapshot" if history.forced[c]
                      else "")
            out.append(Cell(key, value, num, PUBLISHED, reason))
        elif primary[c]:
            out.append(Cell(key, None, None, PRIMARY, "; ".join(reasons[c])))
        else:
            if history.stuck[c]:
                reason = "suppressed in an earlier release of this snapshot"
            elif c in augmented:
                reason = "secondary: the interval audit showed an unsafe cell could be narrowed"
            else:
                reason = "secondary: hides an unsafe cell from being computed or narrowed"
            out.append(Cell(key, None, None, SECONDARY, reason))
    return out
