"""Hypercube augmentation: give an unsafe cell an integer escape route.

Linear non-derivability (Gaussian elimination) is not enough in tables of three or more
dimensions: the only integer tables consistent with the published cells may all have the
true value in an unsafe cell even when the LP interval is wide. A *move* adds +1 and -1 on
the corners of a hypercube of inner cells (in each dimension, a leaf under the unsafe
cell's category and a leaf outside it) and correspondingly on the margins that contain an
odd part of it. If every cell the move touches is suppressed and its minus corners hold at
least t persons, the attacker cannot exclude value a + t, and likewise a - t. This module
finds the cheapest such move whose capacity covers the protection interval (as tau-ARGUS's
hypercube method does per subtable) so that the audit can pass.
"""

from __future__ import annotations

import itertools
import weakref
from dataclasses import dataclass

import numpy as np

from linkage.disclosure.table import TableStructure

COMBINATIONS = 300          # hypercubes tried per unsafe cell (options per dimension = root)


@dataclass(frozen=True)
class Move:
    """+1/-1 on ``corners`` (by ``signs``), possible ``up`` steps upwards and ``down`` steps
    downwards for the unsafe cell; ``new`` are the corners not yet suppressed."""

    corners: np.ndarray
    signs: np.ndarray
    up: float
    down: float
    new: tuple[int, ...]


def protected_by_move(structure: TableStructure, cell: int, rooms: tuple[np.ndarray, np.ndarray],
                      value: int, k: int, suppressed: np.ndarray) -> Move | None:
    """A move over suppressed cells only that already protects ``cell``: integer tables
    consistent with everything this table publishes, proving the protection."""
    return best_cube(structure, cell, rooms, value, k, suppressed, None, None)


def best_cube(structure: TableStructure, cell: int, rooms: tuple[np.ndarray, np.ndarray],
              value: int, k: int, suppressed: np.ndarray, forced: np.ndarray | None,
              cost: np.ndarray | None) -> Move | None:
    """The cheapest move through ``cell`` that protects it (its ``new`` cells are the ones
    to suppress), or None.

    ``rooms`` gives, per cell, how far the moved quantity can go down and up (for a count:
    the count, and no limit). With ``forced`` None, only moves over cells already
    suppressed are considered.
    """
    room_down, room_up = rooms
    only_suppressed = forced is None
    keep = max(2, int(COMBINATIONS ** (1 / len(structure.dimensions))))
    shape = _shape(structure)
    per_dim = []
    for d in range(len(structure.dimensions)):
        node = int(structure.cell_nodes[cell, d])
        options = shape.options(d, node)
        if only_suppressed:
            options = [o for o in options
                       if suppressed[_line(shape, cell, node, d, o[0] + o[1])].all()]
            if not options:
                return None
        per_dim.append(_rank(shape, cell, node, d, options, room_down, suppressed, k)[:keep])
    best: tuple[float, list[int]] | None = None
    for combo in itertools.product(*per_dim):
        corners, signs = _corners(shape, combo)
        plus, minus = corners[signs > 0], corners[signs < 0]
        up_room = min(room_up[plus].min(), room_down[minus].min() if len(minus) else np.inf)
        down_room = min(room_down[plus].min(), room_up[minus].min() if len(minus) else np.inf)
        if up_room < 1 or (value >= 1 and down_room < 1) or up_room + min(down_room, value) < k:
            continue
        new = corners[~suppressed[corners]]
        move = Move(corners, signs, float(up_room), float(min(down_room, value)),
                    tuple(sorted(int(c) for c in new)))
        if only_suppressed:
            if len(new):
                continue
            return move
        if forced[new].any():
            continue
        total = float(cost[new].sum())
        if best is None or (total, move.new) < (best[0], best[1].new):
            best = (total, move)
    return None if best is None else best[1]


class _Shape:
    """Per-table data the move search needs again and again (cached per structure)."""

    def __init__(self, structure: TableStructure):
        self.strides = np.cumprod((structure.node_counts[1:] + (1,))[::-1])[::-1]
        self.chains: list[list[list[int]]] = []
        self._options: dict[tuple[int, int], list] = {}
        for d, dim in enumerate(structure.dimensions):
            nodes = structure.nodes[d]
            pos = {n: i for i, n in enumerate(nodes)}
            parent = [pos[dim.parents[n]] if n in dim.parents else len(nodes) - 1
                      for n in nodes[:-1]] + [-1]
            chains = []
            for leaf in range(structure.shape[d]):
                chain = [leaf]
                while parent[chain[-1]] >= 0:
                    chain.append(parent[chain[-1]])
                chains.append(chain)
            self.chains.append(chains)

    def options(self, d: int, node: int) -> list:
        if (d, node) not in self._options:
            total = max(self.chains[d][0])
            self._options[d, node] = _options_through(self.chains[d], node, total)
        return self._options[d, node]


def _options_through(chains, node, total):
    """Ways a move can run along one dimension through ``node``: (plus nodes, minus nodes)."""
    if node == total:                                  # Total: one leaf, same sign
        return [(tuple(ch), ()) for ch in chains]
    inside = [ch for ch in chains if node in ch]
    outside = [ch for ch in chains if node not in ch]
    options = []
    for a in inside:
        for b in outside:
            common = set(a) & set(b)
            options.append((tuple(x for x in a if x not in common),
                            tuple(x for x in b if x not in common)))
    return options


_SHAPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _shape(structure: TableStructure) -> _Shape:
    if structure not in _SHAPES:
        _SHAPES[structure] = _Shape(structure)
    return _SHAPES[structure]


def _line(shape, cell, node, d, nodes) -> np.ndarray:
    """Cells on the unsafe cell's line along dimension d at the given nodes."""
    return cell + (np.asarray(nodes, dtype=np.int64) - node) * shape.strides[d]


def _rank(shape, cell, node, d, options, values, suppressed, k):
    """Orders the options along one dimension: those whose cell on the unsafe cell's line
    is already suppressed first, then those holding at least k persons, fewest first."""
    def score(option):
        plus, minus = option
        other = int(_line(shape, cell, node, d, [minus[0] if minus else plus[-1]])[0])
        return (not suppressed[other], values[other] < k, values[other], option)
    return sorted(options, key=score)


def _corners(shape, combo) -> tuple[np.ndarray, np.ndarray]:
    """Cells a move touches (products of the per-dimension node chains) and their signs."""
    strides = shape.strides
    corners = np.zeros(1, dtype=np.int64)
    signs = np.ones(1, dtype=np.int64)
    for (plus, minus), stride in zip(combo, strides):
        nodes = np.asarray(plus + minus, dtype=np.int64) * stride
        sign = np.asarray([1] * len(plus) + [-1] * len(minus))
        corners = (corners[:, None] + nodes[None, :]).ravel()
        signs = (signs[:, None] * sign[None, :]).ravel()
    return corners, signs
