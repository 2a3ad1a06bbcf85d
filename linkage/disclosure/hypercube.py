"""The hypercube method: secondary suppression from hypercube moves (``cubes``).

For each single-cell unsafe quantity, smallest first, the cheapest move with enough room is
suppressed (cells already suppressed cost nothing, so moves are shared); then a local search
(``_reroute``) looks for a cheaper pattern. A move over suppressed cells is also an integer
*witness*: two integer tables consistent with everything published, so the audit uses
``witness_move`` as a proof.
"""

from __future__ import annotations

import numpy as np

from linkage.disclosure.audit import Block, Quantity
from linkage.disclosure.cubes import Move, best_cube, protected_by_move
from linkage.disclosure.primary import NUMERATOR
from linkage.disclosure.problem import SuppressionProblem

Rooms = tuple[np.ndarray, np.ndarray]


def rooms(q: Quantity, block: Block) -> list[Rooms]:
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


def witness_move(q: Quantity, block: Block) -> Move | None:
    """A move over suppressed cells that protects a single-cell unsafe quantity."""
    for way in rooms(q, block):
        move = protected_by_move(block.structure, q.cell, way, q.value, q.k, block.suppressed)
        if move is not None:
            return move
    return None


def cheapest_move(q: Quantity, block: Block, avoid: np.ndarray, cost: np.ndarray
                  ) -> Move | None:
    """The cheapest move protecting a single-cell quantity that suppresses no ``avoid`` cell."""
    moves = [best_cube(block.structure, q.cell, way, q.value, q.k, block.suppressed,
                       avoid, cost) for way in rooms(q, block)]
    found = [m for m in moves if m is not None]
    if not found:
        return None
    return min(found, key=lambda m: (float(cost[list(m.new)].sum()), m.new))


def hypercube_pattern(problem: SuppressionProblem) -> np.ndarray:
    """The pattern: ``fixed`` plus one move per single-cell unsafe quantity, then rerouted."""
    block = Block(problem.structure, problem.values, problem.fixed.copy())
    single = [q for q in sorted(problem.quantities, key=lambda q: (q.value, q.cell))
              if rooms(q, block)]
    witness: dict[int, Move] = {}
    for i, q in enumerate(single):
        move = witness_move(q, block) or cheapest_move(q, block, problem.forced, problem.cost)
        if move is not None:
            block.suppressed[list(move.new)] = True
            witness[i] = move
    _reroute(block, single, witness, problem)
    return block.suppressed


def _reroute(block: Block, single: list[Quantity], witness: dict[int, Move],
             problem: SuppressionProblem) -> None:
    """Local search on the hypercube pattern: each secondary cell, most costly first, is
    published again and the quantities whose move ran through it get the cheapest move
    avoiding it; the change is kept when those moves cost less than the cell. A cell no
    move needs any more is thereby published for free. (The greedy pass protects one
    quantity at a time, so an early choice is often beaten once later moves exist.)"""
    cost = problem.cost
    users: dict[int, set[int]] = {}
    for i, move in witness.items():
        for c in move.corners:
            users.setdefault(int(c), set()).add(i)
    order = sorted(np.flatnonzero(block.suppressed & ~problem.fixed), key=lambda c: (-cost[c], c))
    for c in (int(c) for c in order):
        block.suppressed[c] = False
        avoid = problem.forced.copy()
        avoid[c] = True
        added: list[int] = []
        moves: dict[int, Move] = {}
        spent = 0.0
        for i in sorted(users.get(c, ())):
            move = witness_move(single[i], block) or cheapest_move(single[i], block, avoid, cost)
            spent += np.inf if move is None else float(cost[list(move.new)].sum())
            if move is None or spent >= cost[c]:
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
