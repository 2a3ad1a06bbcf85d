"""Augmentation: audit a pattern and suppress more until every unsafe quantity is protected;
then the redundancy pass that publishes again what the audit does not need.

The attacker model is the new table (block ``target``) together with the earlier releases
of its snapshot. While a quantity fails, the cheapest hypercube move for it (or else the
cheapest published cell the attacker's LP shows to be binding) is suppressed and the failed
quantities are checked again; suppressing more can only widen intervals. Only cells of the
new table can be suppressed; when none helps, the table is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from linkage.disclosure.audit import AttackerModel, Block, Check, Quantity
from linkage.disclosure.errors import CANNOT_RELEASE, ProtectionRefused
from linkage.disclosure.hypercube import cheapest_move, witness_move

Candidate = tuple[tuple[int, int], ...]     # (block, cell) pairs to suppress together


@dataclass
class AugmentStats:
    cells: int = 0                 # distinct unsafe cells checked
    quantities: int = 0            # quantity checks run
    mip: int = 0                   # of which needed integer bounds
    moves: int = 0                 # of which proven by a witness move
    augmentations: int = 0         # cells suppressed by the audit
    augmented: set[int] = field(default_factory=set)


def moves_are_proofs(blocks: Sequence[Block], target: int) -> bool:
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
        if block.keys is None or len(block.keys) > len(mine):
            return False
        for m, keys in enumerate(block.keys):
            if not set(keys) <= mine[m]:
                return False
            if any(not s and key not in published[m] for key, s in zip(keys, block.suppressed)):
                return False
    return True


def augment_until_protected(blocks: list[Block], target: int, quantities: list[Quantity],
                            prior_quantities: list[Quantity], forced: np.ndarray,
                            cost: np.ndarray, ub: float) -> AugmentStats:
    """Suppresses cells of ``blocks[target]`` until the audit passes for ``quantities`` (of
    the target) and every earlier quantity the target touches; raises ProtectionRefused
    when no cell of the target can fix a failure."""
    block = blocks[target]
    stats = AugmentStats()
    checked_cells: set[tuple[int, int]] = set()
    model: AttackerModel | None = AttackerModel(blocks, ub)
    pending = list(quantities)
    if prior_quantities:
        assert model is not None
        dirty = model.labels_touching_block(target)
        pending += [q for q in prior_quantities if model.labels_of(q) & dirty]
    alone = moves_are_proofs(blocks, target)
    witnesses = model.witnesses
    while True:
        failures: list[Check] = []
        recheck: list[Quantity] = []
        for q in pending:
            stats.quantities += 1
            checked_cells.add((q.block, q.cell))
            if alone and witness_move(q, block) is not None:
                # an integer witness over suppressed cells: the attacker cannot exclude
                # a - down or a + up, and that interval already meets the requirement
                stats.moves += 1
                continue
            if model is None:
                model = AttackerModel(blocks, ub, witnesses)
            check = model.check(q, integer=not alone, want_candidates=True)
            if alone and check.passed and check.fractional:
                # LP bound only: a hypercube move (an integer witness once suppressed) is
                # usually cheaper than integer bounds in a large component
                cube = _cube_for(q, block, target, forced, cost)
                if cube:
                    _suppress(block, cube, stats)
                    recheck.append(q)
                    continue
                check = model.check(q, integer=True, want_candidates=True)
            stats.mip += int(check.mip)
            if not check.passed:
                failures.append(check)
        stats.cells = len(checked_cells)
        if not failures and not recheck:
            return stats
        if not failures:
            pending, model = recheck, None
            continue
        newly: set[int] = set()
        for check in failures:
            # a failure whose candidates include a cell suppressed this round is likely
            # fixed by it: look again next round instead of suppressing more
            if any(b == target and c in newly for g in check.candidates for b, c in g):
                continue
            group = _cube_for(check.quantity, block, target, forced, cost) or \
                _cheapest(check.candidates, block, target, forced, cost)
            if group:
                _suppress(block, group, stats)
                newly.update(group)
        if not newly:
            raise ProtectionRefused(CANNOT_RELEASE)
        pending = [f.quantity for f in failures] + recheck
        model = None


def drop_redundant(blocks: list[Block], target: int, quantities: Sequence[Quantity],
                   keep: np.ndarray, cost: np.ndarray, ub: float) -> None:
    """Publishes again each cell of the target beyond ``keep``, most costly first, whose
    publication the audit still accepts (as tau-ARGUS and sdcTable clean up a heuristic
    pattern). The heuristics add cells one need at a time, and a later addition can make
    an earlier one unnecessary. Quantities a witness move proves are not re-solved."""
    block = blocks[target]
    alone = moves_are_proofs(blocks, target)
    order = sorted(np.flatnonzero(block.suppressed & ~keep), key=lambda c: (-cost[c], c))
    for c in order:
        block.suppressed[c] = False
        rest = [q for q in quantities if not (alone and witness_move(q, block) is not None)]
        if rest:
            model = AttackerModel(blocks, ub)
            if not all(model.check(q, integer=True).passed for q in rest):
                block.suppressed[c] = True


def _suppress(block: Block, cells: list[int], stats: AugmentStats) -> None:
    block.suppressed[cells] = True
    stats.augmented.update(cells)
    stats.augmentations += len(cells)


def _cube_for(q: Quantity, block: Block, target: int, forced: np.ndarray,
              cost: np.ndarray) -> list[int] | None:
    """The cells to suppress for the cheapest hypercube move protecting a single-cell
    unsafe quantity of this table."""
    move = cheapest_move(q, block, forced, cost) if q.block == target else None
    return None if move is None else list(move.new)


def _cheapest(candidates: list[Candidate], block: Block, target: int, forced: np.ndarray,
              cost: np.ndarray) -> list[int] | None:
    """The cheapest candidate group (from the attacker LP's duals) this table can suppress."""
    usable = [g for g in candidates
              if all(b == target and not forced[c] and not block.suppressed[c] for b, c in g)]
    if not usable:
        return None
    group = min(usable, key=lambda g: (sum(cost[c] for _, c in g), sorted(g)))
    return [c for _, c in group]
