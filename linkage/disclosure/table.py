"""The table model: dimensions with optional hierarchies, every cell including margins.

A table over dimensions d1..dn has *inner* cells, one per combination of leaf categories,
and one cell per combination of *nodes* (leaf, internal hierarchy node or ``Total``).
Every cell is the sum of a set of inner cells; the matrix ``A`` (cells x inner cells) says
which. It is the Kronecker product of one node-by-leaf membership matrix per dimension, so
building it costs nothing beyond its size.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, reduce

import numpy as np
import scipy.sparse as sp

from linkage.disclosure.errors import TableError

TOTAL = "Total"


@dataclass(frozen=True, eq=True)
class Dimension:
    """A classification used as a table dimension.

    ``categories`` are the leaf categories in display order. ``parents`` optionally maps a
    category (leaf or internal) to its parent category; categories without a parent sit
    directly under the grand total ``Total``.
    """

    name: str
    categories: Sequence[str]
    parents: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "categories", tuple(self.categories))
        object.__setattr__(self, "parents", dict(self.parents))

    def __hash__(self) -> int:
        return hash((self.name, self.categories, tuple(sorted(self.parents.items()))))

    def to_json(self) -> dict:
        return {"name": self.name, "categories": list(self.categories),
                "parents": dict(sorted(self.parents.items()))}

    @classmethod
    def from_json(cls, data: Mapping) -> Dimension:
        return cls(data["name"], data["categories"], data.get("parents", {}))


def _dimension_nodes(dim: Dimension) -> tuple[tuple[str, ...], list[list[int]]]:
    """Validates one dimension; returns its nodes (leaves, internal by height, Total) and
    the leaf indices under each node."""
    where = f"dimension {dim.name!r}"
    if not isinstance(dim.name, str) or not dim.name.strip():
        raise TableError("a dimension has an empty name; give every dimension a name")
    leaves = dim.categories
    if not leaves:
        raise TableError(f"{where} has no categories; give it at least one leaf category")
    seen: set[str] = set()
    for cat in leaves:
        if not isinstance(cat, str) or not cat.strip():
            raise TableError(f"{where} has an empty category name; name every category")
        if cat == TOTAL:
            raise TableError(f"{where}: {TOTAL!r} is reserved for the margin; rename that category")
        if cat in seen:
            raise TableError(f"{where} lists category {cat!r} twice; list each category once")
        seen.add(cat)
    internal = {p for p in dim.parents.values()}
    for child, parent in dim.parents.items():
        if child not in seen and child not in internal:
            raise TableError(f"{where}: hierarchy names {child!r}, which is neither a category "
                             "nor a parent of one; fix the hierarchy")
        if not isinstance(parent, str) or not parent.strip() or parent == TOTAL:
            raise TableError(f"{where}: category {child!r} has an invalid parent; omit the parent "
                             f"for categories directly under {TOTAL!r}")
        if parent in seen:
            raise TableError(f"{where}: {parent!r} is both a leaf category and a parent; "
                             "a leaf category cannot have children")
    children: dict[str, list[str]] = {}
    for child, parent in dim.parents.items():
        children.setdefault(parent, []).append(child)
    height: dict[str, int] = {}

    def node_height(node: str, path: tuple[str, ...]) -> int:
        if node in height:
            return height[node]
        if node in path:
            raise TableError(f"{where}: the hierarchy has a cycle through {node!r}; fix it")
        kids = children.get(node, [])
        h = 0 if not kids else 1 + max(node_height(k, path + (node,)) for k in kids)
        height[node] = h
        return h

    order: list[str] = []
    for leaf in leaves:
        node = leaf
        chain = 0
        while node in dim.parents:
            node = dim.parents[node]
            chain += 1
            if chain > len(dim.parents) + 1:
                raise TableError(f"{where}: the hierarchy has a cycle through {node!r}; fix it")
            if node not in order:
                order.append(node)
    unreachable = internal - set(order)
    if unreachable:
        raise TableError(f"{where}: parent {sorted(unreachable)[0]!r} has no leaf category under "
                         "it; every parent needs at least one leaf")
    for node in order:
        node_height(node, ())
    inner = sorted(order, key=lambda n: (height[n], order.index(n)))
    leaf_pos = {leaf: i for i, leaf in enumerate(leaves)}
    under: dict[str, list[int]] = {n: [] for n in inner}
    for leaf in leaves:
        node = leaf
        while node in dim.parents:
            node = dim.parents[node]
            under[node].append(leaf_pos[leaf])
    nodes = tuple(leaves) + tuple(inner) + (TOTAL,)
    members = [[i] for i in range(len(leaves))] + [sorted(under[n]) for n in inner]
    members.append(list(range(len(leaves))))
    return nodes, members


class TableStructure:
    """All cells of a table over ``dimensions`` and how they add up."""

    def __init__(self, dimensions: Sequence[Dimension]):
        if not dimensions:
            raise TableError("a table needs at least one dimension")
        names = [d.name for d in dimensions]
        for name in names:
            if names.count(name) > 1:
                raise TableError(f"dimension {name!r} is given twice; each dimension once")
        self.dimensions = tuple(dimensions)
        self.names = tuple(names)
        self.nodes: list[tuple[str, ...]] = []
        memberships = []
        for dim in self.dimensions:
            nodes, members = _dimension_nodes(dim)
            self.nodes.append(nodes)
            rows = np.repeat(np.arange(len(nodes)), [len(m) for m in members])
            cols = np.concatenate([np.asarray(m, dtype=np.int64) for m in members])
            memberships.append(sp.csr_matrix((np.ones(len(cols), dtype=np.int8), (rows, cols)),
                                             shape=(len(nodes), len(dim.categories))))
        self.memberships = memberships
        self.shape = tuple(len(d.categories) for d in self.dimensions)
        self.node_counts = tuple(len(n) for n in self.nodes)
        self.n_inner = int(np.prod(self.shape))
        self.n_cells = int(np.prod(self.node_counts))
        self.A = reduce(lambda a, b: sp.kron(a, b, format="csr"), memberships).tocsr()
        self.A.sort_indices()
        self.inner_count = np.diff(self.A.indptr)
        self.cell_nodes = np.stack(np.unravel_index(np.arange(self.n_cells), self.node_counts),
                                   axis=1)
        self._index = {self.key(c): c for c in range(self.n_cells)}

    def key(self, cell: int) -> tuple[str, ...]:
        return tuple(self.nodes[d][int(n)] for d, n in enumerate(self.cell_nodes[cell]))

    def index(self, key: Sequence[str]) -> int:
        try:
            return self._index[tuple(key)]
        except KeyError:
            raise TableError(f"no cell {tuple(key)!r} in this table") from None

    def inner_of(self, cell: int) -> np.ndarray:
        return self.A.indices[self.A.indptr[cell]:self.A.indptr[cell + 1]]

    @cached_property
    def leaf_cells(self) -> np.ndarray:
        """Cell index of each inner cell (inner cells in C order over leaf categories)."""
        leaf_nodes = np.stack(np.unravel_index(np.arange(self.n_inner), self.shape), axis=1)
        return np.ravel_multi_index(leaf_nodes.T, self.node_counts)

    @cached_property
    def margin_depth(self) -> np.ndarray:
        """How many dimensions of each cell are not at leaf level (0 for inner cells)."""
        leaf_n = np.asarray(self.shape)
        return (self.cell_nodes >= leaf_n).sum(axis=1)

    def cell_values(self, inner_values: np.ndarray) -> np.ndarray:
        return np.asarray(self.A @ np.asarray(inner_values, dtype=np.int64), dtype=np.int64)

    def relations(self) -> list[tuple[int, list[int]]]:
        """Every additive relation ``parent = sum(children)`` along one dimension, over all
        combinations of the other dimensions' nodes (the rows of the table's equation system)."""
        out = []
        for d, dim in enumerate(self.dimensions):
            kids: dict[int, list[int]] = {}
            pos = {n: i for i, n in enumerate(self.nodes[d])}
            for child, parent in dim.parents.items():
                kids.setdefault(pos[parent], []).append(pos[child])
            total = len(self.nodes[d]) - 1
            kids[total] = [pos[c] for c in self.nodes[d][:-1] if c not in dim.parents]
            for c in range(self.n_cells):
                node = int(self.cell_nodes[c, d])
                if node not in kids:
                    continue
                base = self.cell_nodes[c].copy()
                children = []
                for k in sorted(kids[node]):
                    base[d] = k
                    children.append(int(np.ravel_multi_index(tuple(base), self.node_counts)))
                out.append((c, children))
        return out

    def inner_index(self, leaf_key: Sequence[str]) -> int:
        """Inner-cell index of a combination of leaf categories."""
        pos = []
        for d, cat in enumerate(leaf_key):
            try:
                i = self.dimensions[d].categories.index(cat)
            except ValueError:
                raise TableError(f"{cat!r} is not a category of dimension "
                                 f"{self.names[d]!r}") from None
            pos.append(i)
        return int(np.ravel_multi_index(tuple(pos), self.shape))

    def spec(self) -> list[dict]:
        return [d.to_json() for d in self.dimensions]


def canonical_key(population: str, measure: str, names: Sequence[str],
                  key: Sequence[str]) -> str:
    """Identity of a cell across tables: the population, the measure and the set of
    (dimension, category) pairs with ``Total`` dimensions dropped."""
    pairs = sorted((n, c) for n, c in zip(names, key) if c != TOTAL)
    return json.dumps([population, measure, pairs], separators=(",", ":"), ensure_ascii=False)
