"""``protect``: primary rules, secondary suppression, interval audit, release ledger.

Pipeline for one table:

1. build every cell (margins and hierarchy levels) from the leaf counts;
2. primary rules (``primary``) give the unsafe quantities;
3. with a ledger, cells released before are *forced* (published, same value) or *stuck*
   (suppressed), and the earlier releases of the snapshot join the attacker model;
4. secondary suppression by Gaussian elimination (``gauss``) or by the optimal MIP
   (``optimal``, small tables only);
5. the attacker audit (``audit``) over this table and the earlier releases; while a
   quantity is not protected, suppress the cheapest published cell that the attacker's LP
   shows to be binding, and check again (suppressing more can only widen intervals);
6. record the release in the ledger, in the same transaction that read it.

Cell cost (what secondary suppression minimises): value + 1, so small cells are hidden
before large margins. Ties are broken by the cell's position in the table (dimension
order, categories in display order, margins last): the same input gives the same pattern.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, replace

import numpy as np

from linkage.disclosure import optimal
from linkage.disclosure.audit import AttackerModel, Block, Quantity
from linkage.disclosure.cubes import Move, best_cube, protected_by_move
from linkage.disclosure.errors import ProtectionRefused, TableError, ThresholdError
from linkage.disclosure.gauss import gauss_suppress
from linkage.disclosure.primary import NUMERATOR, PrimaryResult, count_rules, rate_rules
from linkage.disclosure.result import (PRIMARY, PUBLISHED, RULES_VERSION, SECONDARY,
                                       AuditSummary, Cell, ProtectedTable)
from linkage.disclosure.table import TOTAL, Dimension, TableStructure, canonical_key

DEFAULT_K = 5
METHODS = ("hypercube", "gauss", "optimal")
COUNT_MEASURE = "count"
PRUNE_MAX_CELLS = 400       # tables up to this size get the pruning pass (see _prune)


def protect(dimensions: Sequence[Dimension],
            counts: Mapping[tuple[str, ...], int],
            k: int = DEFAULT_K,
            numerators: Mapping[tuple[str, ...], int] | None = None,
            ledger=None,
            snapshot: str | None = None,
            *,
            minimum: int = 2,
            population: str = "",
            numerator_measure: str = "numerator",
            sensitive: Sequence[str] = (),
            method: str = "hypercube",
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
                table = _protect(dims, counts, k, numerators, session, population,
                                 numerator_measure, tuple(sensitive), method, tuple(coarsened))
            return table
        except ProtectionRefused:
            step = _coarser(dims, counts, numerators) if coarsen else None
            if step is None:
                raise
            dims, counts, numerators, name = step
            coarsened.append(name)


@dataclass
class _Request:
    structure: TableStructure
    values: np.ndarray                # (measures, cells)
    measures: tuple[str, ...]
    primary: PrimaryResult


def _protect(dims, counts, k, numerators, session, population, numerator_measure,
             sensitive, method, coarsened) -> ProtectedTable:
    structure = TableStructure(dims)
    request = _build_request(structure, counts, numerators, k, numerator_measure, sensitive)
    values = request.values
    n = structure.n_cells
    keys = None
    prior: list[Block] = []
    prior_quantities: list[Quantity] = []
    forced = np.zeros(n, dtype=bool)
    stuck = np.zeros(n, dtype=bool)
    stuck_protected = np.zeros(n, dtype=bool)
    if session is not None:
        keys = [[canonical_key(population, m, structure.names, structure.key(c))
                 for c in range(n)] for m in request.measures]
        prior, prior_quantities = session.prior_blocks(structure)
        forced, stuck, stuck_protected = session.statuses(keys, values)
    primary = request.primary.primary & ~forced
    quantities = [q for q in request.primary.quantities if not forced[q.cell]]
    suppressed = primary | stuck
    cost = values[0].astype(np.float64) + 1.0

    unsafe_cells = primary | stuck_protected
    if method == "optimal":
        secondary = optimal.optimal_suppression(structure, values, quantities, suppressed,
                                                forced, cost, ub=float(values[0].max()))
        method_name = "optimal MIP (Fischetti-Salazar cuts)"
    elif method == "gauss":
        order = _publish_order(structure, values[0], suppressed, forced, cost)
        vectors = _unsafe_vectors(structure, quantities, unsafe_cells)
        secondary = gauss_suppress(structure, order, vectors, np.flatnonzero(forced)).secondary
        method_name = "gaussian elimination"
    else:
        secondary = _hypercubes(structure, values, quantities, suppressed, forced, cost)
        method_name = "hypercubes"
    suppressed[np.asarray(secondary, dtype=np.int64)] = True

    block = Block(structure, values, suppressed, keys)
    blocks = prior + [block]
    target = len(blocks) - 1
    quantities = [replace(q, block=target) for q in quantities]
    ub = max([float(values[0].max())] + [float(b.values[0].max()) for b in prior])
    stats = _audit_and_augment(blocks, target, quantities, prior_quantities, forced, cost, ub)
    if method != "optimal" and n <= PRUNE_MAX_CELLS:
        _prune(blocks, target, quantities + prior_quantities, primary | stuck, cost, ub)
    audit = AuditSummary(
        passed=True,
        method=f"{method_name} + audit: integer witnesses (hypercube moves) or attacker "
               "LP/MIP bounds (HiGHS), jointly with earlier releases",
        rules_version=RULES_VERSION,
        cells_checked=stats["cells"], quantities_checked=stats["quantities"],
        witnessed=stats["moves"],
        integer_bounds=stats["mip"], joint_releases=len(prior),
        augmentations=stats["augmentations"])
    cells = _cells(structure, request, suppressed, primary, forced, stuck, stats["augmented"])
    if session is not None:
        session.record(structure, request.measures, values, suppressed, primary, quantities, k,
                       keys)
    return ProtectedTable(tuple(structure.dimensions), tuple(cells), audit, k,
                          numerators is not None, coarsened)


def _build_request(structure, counts, numerators, k, numerator_measure, sensitive) -> _Request:
    inner = _leaf_vector(structure, counts, "count")
    den = structure.cell_values(inner)
    if numerators is None:
        primary = count_rules(structure, den, k, sensitive)
        return _Request(structure, den[None, :], (COUNT_MEASURE,), primary)
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
                    (COUNT_MEASURE, f"num:{numerator_measure}"), primary)


def _leaf_vector(structure: TableStructure, values: Mapping, what: str) -> np.ndarray:
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


def _publish_order(structure, values, suppressed, forced, cost) -> list[int]:
    """Cells to try publishing, most wanted first: forced, then zeros (they protect little
    and reveal nobody), then by decreasing cost, margins before inner cells, then index."""
    cells = np.flatnonzero(~suppressed)
    zero = values[cells] == 0
    keys = (cells, -structure.inner_count[cells], -cost[cells], ~zero, ~forced[cells])
    return [int(c) for c in cells[np.lexsort(keys)]]


def _hypercubes(structure, values, quantities, suppressed, forced, cost) -> list[int]:
    """For each single-cell unsafe quantity, smallest first, the cheapest hypercube move
    with enough room (cells already suppressed cost nothing, so moves are shared); then
    ``_reroute`` looks for a cheaper pattern."""
    block = Block(structure, values, suppressed.copy())
    single = [q for q in sorted(quantities, key=lambda q: (q.value, q.cell))
              if _rooms(q, block)]
    witness: dict[int, Move] = {}
    for i, q in enumerate(single):
        move = _move(q, block) or _cheapest_move(q, block, forced, cost)
        if move is not None:
            block.suppressed[list(move.new)] = True
            witness[i] = move
    _reroute(block, single, witness, suppressed, forced, cost)
    return [int(c) for c in np.flatnonzero(block.suppressed & ~suppressed)]


def _reroute(block: Block, single: list[Quantity], witness: dict[int, Move], keep, forced,
             cost) -> None:
    """Local search on the hypercube pattern: each secondary cell, most costly first, is
    published again and the quantities whose move ran through it get the cheapest move
    avoiding it; the change is kept when those moves cost less than the cell. A cell no
    move needs any more is thereby published for free. (The greedy pass protects one
    quantity at a time, so an early choice is often beaten once later moves exist.)"""
    users: dict[int, set[int]] = {}
    for i, move in witness.items():
        for c in move.corners:
            users.setdefault(int(c), set()).add(i)
    order = sorted(np.flatnonzero(block.suppressed & ~keep), key=lambda c: (-cost[c], c))
    for c in (int(c) for c in order):
        block.suppressed[c] = False
        avoid = forced.copy()
        avoid[c] = True
        added: list[int] = []
        moves: dict[int, Move] = {}
        spent = 0.0
        for i in sorted(users.get(c, ())):
            move = _move(single[i], block) or _cheapest_move(single[i], block, avoid, cost)
            spent += np.inf if move is None else float(cost[list(move.new)].sum())
            if spent >= cost[c]:
                break
            block.suppressed[list(move.new)] = True
            added.extend(move.new)
            moves[i] = move
        if spent >= cost[c]:
            block.suppressed[added] = False
            block.suppressed[c] = True
            continue
        for i, move in moves.items():
            for x in witness[i].corners:
                users[int(x)].discard(i)
            for x in move.corners:
                users.setdefault(int(x), set()).add(i)
            witness[i] = move


def _unsafe_vectors(structure, quantities, unsafe_cells) -> list[dict[int, int]]:
    """Each unsafe quantity as vectors over inner cells, one per measure it involves."""
    vectors: dict[frozenset, dict[int, int]] = {}
    for q in quantities:
        per_measure: dict[int, dict[int, int]] = {}
        for m, c, coef in q.terms:
            vec = per_measure.setdefault(m, {})
            for i in structure.inner_of(c):
                vec[int(i)] = vec.get(int(i), 0) + coef
        for vec in per_measure.values():
            vec = {i: x for i, x in vec.items() if x}
            if vec:
                vectors.setdefault(frozenset(vec.items()), vec)
    for c in np.flatnonzero(unsafe_cells):
        vec = {int(i): 1 for i in structure.inner_of(int(c))}
        vectors.setdefault(frozenset(vec.items()), vec)
    return list(vectors.values())


def _audit_and_augment(blocks, target, quantities, prior_quantities, forced, cost, ub) -> dict:
    block = blocks[target]
    stats = {"cells": 0, "quantities": 0, "mip": 0, "moves": 0, "augmentations": 0,
             "augmented": set()}
    checked_cells: set[tuple[int, int]] = set()
    model = AttackerModel(blocks, ub)
    pending = list(quantities)
    if prior_quantities:
        dirty = model.labels_touching_block(target)
        pending += [q for q in prior_quantities if model.labels_of(q) & dirty]
    alone = _moves_are_proofs(blocks, target)
    witnesses = model.witnesses
    while True:
        failures, recheck = [], []
        for q in pending:
            stats["quantities"] += 1
            checked_cells.add((q.block, q.cell))
            if alone and _move(q, block) is not None:
                # an integer witness over suppressed cells: the attacker cannot exclude
                # a - down or a + up, and that interval already meets the requirement
                stats["moves"] += 1
                continue
            if model is None:
                model = AttackerModel(blocks, ub, witnesses)
            check = model.check(q, integer=not alone, want_candidates=True)
            if alone and check.passed and check.fractional:
                # LP bound only: a hypercube move (an integer witness once suppressed) is
                # usually cheaper than integer bounds in a large component
                cube = _cube_for(q, block, target, forced, cost)
                if cube:
                    block.suppressed[cube] = True
                    stats["augmented"].update(cube)
                    stats["augmentations"] += len(cube)
                    recheck.append(q)
                    continue
                check = model.check(q, integer=True, want_candidates=True)
            stats["mip"] += int(check.mip)
            if not check.passed:
                failures.append(check)
        stats["cells"] = len(checked_cells)
        if not failures and not recheck:
            return stats
        if not failures:
            pending, model = recheck, None
            continue
        newly: set[int] = set()
        added = False
        for check in failures:
            # a failure whose candidates include a cell suppressed this round is likely
            # fixed by it: look again next round instead of suppressing more
            if any(b == target and c in newly for g in check.candidates for b, c in g):
                continue
            group = _cube_for(check.quantity, block, target, forced, cost) or \
                _cheapest(check.candidates, block, target, forced, cost)
            if not group:
                continue
            for c in group:
                block.suppressed[c] = True
                stats["augmented"].add(c)
                stats["augmentations"] += 1
            newly.update(group)
            added = True
        if not added:
            raise ProtectionRefused(_refusal(blocks, failures, target))
        pending = [f.quantity for f in failures] + recheck
        model = None


def _rooms(q: Quantity, block: Block) -> list[tuple[np.ndarray, np.ndarray]]:
    """Ways a move can carry a single-cell quantity: per way, how far it may go down and
    up in each cell (none when the quantity spans several cells). A count moves within
    [0, population total]. In a rate table a move either changes the denominator alone
    (the complement moves, the numerator stays) or the denominator and numerator together
    (persons with the status come or go, the complement stays): a denominator can use
    either, a complement the first, a numerator the second."""
    if any(c != q.cell for _, c, _ in q.terms):
        return []
    den = block.values[0]
    inner = block.structure.inner_count == 1
    up = np.where(inner, float(den.max()) - den, np.inf)     # inner cells are <= the total
    if block.values.shape[0] == 1:
        return [(den, up)]
    complement, numerator = den - block.values[1], block.values[1]
    measures = [m for m, _, _ in q.terms]
    if measures == [NUMERATOR]:
        return [(numerator, up)]
    if len(measures) == 2:
        return [(complement, up)]
    return [(complement, up), (numerator, up)]


def _move(q: Quantity, block: Block) -> Move | None:
    """A move over suppressed cells that protects a single-cell unsafe quantity."""
    for rooms in _rooms(q, block):
        move = protected_by_move(block.structure, q.cell, rooms, q.value, q.k, block.suppressed)
        if move is not None:
            return move
    return None


def _moves_are_proofs(blocks, target) -> bool:
    """A move within this table is an integer table consistent with every release when
    each earlier release's cells are cells of this table and every cell published there
    is published here (then a move over cells suppressed here changes nothing published)."""
    new = blocks[target]
    if new.keys is None:
        return len(blocks) == 1
    mine = [set(keys) for keys in new.keys]
    published = [{key for key, s in zip(keys, new.suppressed) if not s} for keys in new.keys]
    for b, block in enumerate(blocks):
        if b == target:
            continue
        if len(block.keys) > len(mine):
            return False
        for m, keys in enumerate(block.keys):
            if not set(keys) <= mine[m]:
                return False
            if any(not s and key not in published[m] for key, s in zip(keys, block.suppressed)):
                return False
    return True


def _prune(blocks, target, quantities, keep, cost, ub) -> None:
    """Publishes again each secondary cell, most costly first, whose publication the audit
    still accepts. The heuristics add cells one need at a time and some later addition
    can make an earlier one unnecessary; this pass (a full re-audit per cell, so only for
    small tables) removes those."""
    block = blocks[target]
    alone = _moves_are_proofs(blocks, target)
    order = sorted(np.flatnonzero(block.suppressed & ~keep), key=lambda c: (-cost[c], c))
    for c in order:
        block.suppressed[c] = False
        model = AttackerModel(blocks, ub)
        for q in quantities:
            if alone and _move(q, block) is not None:
                continue
            if not model.check(q, integer=True).passed:
                block.suppressed[c] = True
                break


def _cube_for(q: Quantity, block: Block, target: int, forced, cost) -> list[int] | None:
    """The cells to suppress for the cheapest hypercube move protecting a single-cell
    unsafe quantity of this table."""
    move = _cheapest_move(q, block, forced, cost) if q.block == target else None
    return None if move is None else list(move.new)


def _cheapest_move(q: Quantity, block: Block, forced, cost) -> Move | None:
    moves = [best_cube(block.structure, q.cell, rooms, q.value, q.k, block.suppressed,
                       forced, cost) for rooms in _rooms(q, block)]
    moves = [m for m in moves if m is not None]
    if not moves:
        return None
    return min(moves, key=lambda m: (float(cost[list(m.new)].sum()), m.new))


def _cheapest(candidates, block: Block, target: int, forced, cost) -> list[int] | None:
    """The cheapest candidate group (from the attacker LP's duals) this table can suppress."""
    usable = [g for g in candidates
              if all(b == target and not forced[c] and not block.suppressed[c] for b, c in g)]
    if not usable:
        return None
    group = min(usable, key=lambda g: (sum(cost[c] for _, c in g), sorted(g)))
    return [c for _, c in group]


def _refusal(blocks, failures, target) -> str:
    check = failures[0]
    st = blocks[check.quantity.block].structure
    where = "this table" if check.quantity.block == target else "an earlier release"
    return (f"the table cannot be released safely: cell {st.key(check.quantity.cell)!r} of "
            f"{where} would be narrowed below its protection interval by the figures already "
            "published for this snapshot, and no cell of this table can be suppressed to "
            "prevent it; ask for a coarser table (or allow coarsening) or a different "
            "combination of dimensions")


def _cells(structure, request, suppressed, primary, forced, stuck, augmented):
    reasons = request.primary.reasons
    is_rate = len(request.measures) > 1
    out = []
    for c in range(structure.n_cells):
        key = structure.key(c)
        if not suppressed[c]:
            value = int(request.values[0, c])
            num = int(request.values[1, c]) if is_rate else None
            reason = "published in an earlier release of this snapshot" if forced[c] else ""
            out.append(Cell(key, value, num, PUBLISHED, reason))
        elif primary[c]:
            out.append(Cell(key, None, None, PRIMARY, "; ".join(reasons[c])))
        else:
            if stuck[c]:
                reason = "suppressed in an earlier release of this snapshot"
            elif c in augmented:
                reason = "secondary: the interval audit showed an unsafe cell could be narrowed"
            else:
                reason = "secondary: hides an unsafe cell from being computed or narrowed"
            out.append(Cell(key, None, None, SECONDARY, reason))
    return out


def _coarser(dims, counts, numerators):
    """One hierarchy level coarser in the dimension with the most leaf categories that has
    a hierarchy; None when no dimension can be coarsened."""
    options = [(len(d.categories), -i, i) for i, d in enumerate(dims)
               if any(c in d.parents for c in d.categories)]
    if not options:
        return None
    _, _, i = max(options)
    dim = dims[i]
    mapping = {c: dim.parents.get(c, c) for c in dim.categories}
    categories = list(dict.fromkeys(mapping[c] for c in dim.categories))
    parents = {c: p for c, p in dim.parents.items() if c not in dim.categories}
    new_dims = list(dims)
    new_dims[i] = Dimension(dim.name, categories, parents)

    def fold(values):
        if values is None:
            return None
        out: dict[tuple[str, ...], int] = {}
        for key, value in values.items():
            if not isinstance(key, tuple) or len(key) != len(dims) or key[i] not in mapping:
                raise TableError(f"cell {key!r} does not match the table's dimensions")
            new = key[:i] + (mapping[key[i]],) + key[i + 1:]
            out[new] = out.get(new, 0) + value
        return out

    return new_dims, fold(counts), fold(numerators), dim.name
