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

Search: every combination of per-dimension options is scored at once with numpy (one row
per hypercube, one column per corner), so all hypercubes through the cell are compared,
not a sample. Only when a cell has more than ``MAX_ELEMENTS`` (hypercube, corner) pairs
(large hierarchies) are the most promising options per dimension kept.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from linkage.disclosure.table import TableStructure

MAX_ELEMENTS = 400_000      # (hypercube, corner) pairs scored at once for one cell


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
    to suppress), or None. Ties go to the move with the smallest sorted ``new`` cells.

    ``rooms`` gives, per cell, how far the moved quantity can go down and up (for a count:
    the count, and the population total minus the count). With ``forced`` None, only moves
    over cells already suppressed are considered.
    """
    only_suppressed = forced is None
    shape = _shape(structure)
    per_dim = []
    for d in range(len(structure.dimensions)):
        node = int(structure.cell_nodes[cell, d])
        options = shape.options(d, node)
        if only_suppressed:
            options = options.take(suppressed[_line(shape, cell, node, d, options.nodes)]
                                   .all(axis=1))
            if not len(options.nodes):
                return None
        per_dim.append(options)
    per_dim = _within_limit(shape, cell, structure, per_dim, rooms[0], suppressed, k)
    corners, signs = _corners(shape, per_dim, structure.n_cells)

    def pick(arr, pad):
        return np.append(arr, pad)[corners]

    down, up = pick(rooms[0], np.inf), pick(rooms[1], np.inf)
    plus = signs > 0
    up_room = np.where(plus, up, down).min(axis=1)
    down_room = np.where(plus, down, up).min(axis=1)
    down_used = np.minimum(down_room, value)
    ok = (up_room >= 1) & ((value < 1) | (down_room >= 1)) & (up_room + down_used >= k)
    new = ~pick(suppressed, True)
    if only_suppressed:
        ok &= ~new.any(axis=1)
        hits = np.flatnonzero(ok)
        return None if not len(hits) else _move(corners, signs, new, up_room, down_used, hits[0])
    ok &= ~(new & pick(forced, False)).any(axis=1)
    hits = np.flatnonzero(ok)
    if not len(hits):
        return None
    total = (pick(cost, 0.0) * new).sum(axis=1)[hits]
    tied = hits[total == total.min()]
    best = min(tied, key=lambda i: tuple(sorted(corners[i][new[i]].tolist())))
    return _move(corners, signs, new, up_room, down_used, best)


def _move(corners, signs, new, up_room, down_used, i) -> Move:
    real = signs[i] != 0
    return Move(corners[i][real], signs[i][real], float(up_room[i]), float(down_used[i]),
                tuple(sorted(int(c) for c in corners[i][new[i]])))


@dataclass(frozen=True)
class _Options:
    """Ways a move can run along one dimension through a node: per option the nodes it
    touches (``nodes``, padded with -1) and their signs (+1/-1, 0 for padding)."""

    nodes: np.ndarray          # (options, width) node indices, -1 = padding
    signs: np.ndarray          # (options, width) int8

    def take(self, which) -> _Options:
        return _Options(self.nodes[which], self.signs[which])


class _Shape:
    """Per-table data the move search needs again and again (cached per structure)."""

    def __init__(self, structure: TableStructure):
        self.strides = np.cumprod((structure.node_counts[1:] + (1,))[::-1])[::-1]
        self.chains: list[list[list[int]]] = []
        self._options: dict[tuple[int, int], _Options] = {}
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

    def options(self, d: int, node: int) -> _Options:
        if (d, node) not in self._options:
            listed = _options_through(self.chains[d], node)
            width = max(len(p) + len(m) for p, m in listed)
            nodes = np.full((len(listed), width), -1, dtype=np.int64)
            signs = np.zeros((len(listed), width), dtype=np.int8)
            for i, (p, m) in enumerate(listed):
                nodes[i, :len(p) + len(m)] = p + m
                signs[i, :len(p)] = 1
                signs[i, len(p):len(p) + len(m)] = -1
            self._options[d, node] = _Options(nodes, signs)
        return self._options[d, node]


def _options_through(chains, node):
    """Ways a move can run along one dimension through ``node``: (plus nodes, minus nodes).
    Either one leaf under ``node`` and all its ancestors move up together (the margins
    above it change too), or one leaf under ``node`` moves up and one outside it moves
    down (their common ancestors do not change)."""
    inside = [ch for ch in chains if node in ch]
    outside = [ch for ch in chains if node not in ch]
    options = [(tuple(ch), ()) for ch in inside]
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


def _line(shape, cell, node, d, nodes: np.ndarray) -> np.ndarray:
    """Cells on the unsafe cell's line along dimension d at the given nodes (padding, -1,
    maps to the unsafe cell itself)."""
    nodes = np.where(nodes >= 0, nodes, node)
    return cell + (nodes - node) * shape.strides[d]


def _within_limit(shape, cell, structure, per_dim, values, suppressed, k) -> list[_Options]:
    """All options when the (hypercube, corner) pairs fit in ``MAX_ELEMENTS``; otherwise the
    most promising options per dimension (see ``_rank``), as many as fit."""
    width = int(np.prod([len(o.signs[0]) for o in per_dim]))
    sizes = [len(o.nodes) for o in per_dim]
    if np.prod(sizes, dtype=float) * width <= MAX_ELEMENTS:
        return per_dim
    keep = max(2, int((MAX_ELEMENTS / width) ** (1 / len(per_dim))))
    out = []
    for d, options in enumerate(per_dim):
        node = int(structure.cell_nodes[cell, d])
        order = _rank(shape, cell, node, d, options, values, suppressed, k)
        out.append(options.take(order[:keep]))
    return out


def _rank(shape, cell, node, d, options: _Options, values, suppressed, k) -> np.ndarray:
    """Orders the options along one dimension: those whose cell on the unsafe cell's line
    is already suppressed first, then those holding at least k persons, fewest first."""
    has_minus = (options.signs < 0).any(axis=1)
    first_minus = np.argmax(options.signs < 0, axis=1)
    last_plus = (options.signs > 0).sum(axis=1) - 1
    pick = np.where(has_minus, first_minus, last_plus)
    other = _line(shape, cell, node, d, options.nodes[np.arange(len(pick)), pick])
    return np.lexsort((np.arange(len(pick)), values[other], values[other] < k,
                       ~suppressed[other]))


def _corners(shape, per_dim: list[_Options], n_cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cells every hypercube touches (one row per combination of options, in the order of
    ``itertools.product``) and their signs; padding columns hold ``n_cells`` and sign 0."""
    corners = np.zeros((1, 1), dtype=np.int64)
    signs = np.ones((1, 1), dtype=np.int8)
    for options, stride in zip(per_dim, shape.strides):
        n_opt, width = options.nodes.shape
        rows = corners.shape[0] * n_opt
        corners = (corners[:, None, :, None]
                   + (options.nodes * stride)[None, :, None, :]).reshape(rows, -1)
        signs = (signs[:, None, :, None] * options.signs[None, :, None, :]).reshape(rows, -1)
    return np.where(signs != 0, corners, n_cells), signs
