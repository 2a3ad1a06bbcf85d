"""An attacker written independently of the library, for tests.

It models the persons as a table over the leaf categories of *every* dimension used by any
released table (the finest cross-classification), so it sees everything an attacker could
combine, including relations the library's linked model leaves implicit. Each published
cell fixes the sum of the fine cells it covers; rates add a numerator layer. Intervals are
integer optima (scipy ``milp``), so they are exact for small tables.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

TOTAL = "Total"


@dataclass
class Release:
    dimensions: list            # linkage.disclosure.Dimension objects
    table: object               # ProtectedTable
    k: int


def leaves_under(leaves, parents, category):
    """Fine leaf categories under ``category`` (``parents`` may mix several tables'
    hierarchies of one classification)."""
    if category == TOTAL:
        return set(leaves)
    out = set()
    for leaf in leaves:
        node = leaf
        while True:
            if node == category:
                out.add(leaf)
                break
            if node not in parents:
                break
            node = parents[node]
    return out


class Oracle:
    def __init__(self, fine_dims, counts, numerators=None, fine_parents=None):
        """``fine_dims``: name -> leaf categories; ``counts``/``numerators``: dicts keyed by
        tuples of leaf categories in the order of ``fine_dims``; ``fine_parents``: name ->
        hierarchy over those leaves (for tables that use coarser categories as leaves)."""
        self.fine_dims = dict(fine_dims)
        self.fine_parents = dict(fine_parents or {})
        self.names = list(fine_dims)
        self.fine = list(itertools.product(*fine_dims.values()))
        self.index = {f: i for i, f in enumerate(self.fine)}
        self.den = np.array([counts.get(f, 0) for f in self.fine], dtype=float)
        self.num = None if numerators is None else np.array(
            [numerators.get(f, 0) for f in self.fine], dtype=float)
        self.rows: list[np.ndarray] = []
        self.rhs: list[float] = []
        self.releases: list[Release] = []

    def _vector(self, dims, key):
        allowed = {}
        for dim, cat in zip(dims, key):
            parents = {**self.fine_parents.get(dim.name, {}), **dim.parents}
            allowed[dim.name] = leaves_under(self.fine_dims[dim.name], parents, cat)
        vec = np.zeros(len(self.fine))
        for i, f in enumerate(self.fine):
            if all(f[self.names.index(n)] in s for n, s in allowed.items()):
                vec[i] = 1.0
        return vec

    def add(self, release: Release):
        """Publishes a protected table's published cells to the attacker."""
        self.releases.append(release)
        n = len(self.fine)
        for cell in release.table.cells:
            if cell.value is None:
                continue
            vec = self._vector(release.dimensions, cell.key)
            if self.num is None:
                self.rows.append(vec)
                self.rhs.append(cell.value)
            else:                       # variables: numerator block, then complement block
                self.rows.append(np.concatenate([vec, vec]))
                self.rhs.append(cell.value)
                if cell.numerator is not None:
                    self.rows.append(np.concatenate([vec, np.zeros(n)]))
                    self.rhs.append(cell.numerator)

    def interval(self, objective):
        n = len(objective)
        ub = float(self.den.sum())
        cons = [LinearConstraint(np.asarray(self.rows), self.rhs, self.rhs)] if self.rows else []
        out = []
        for sign in (1.0, -1.0):
            res = milp(sign * objective, integrality=np.ones(n), bounds=Bounds(0, ub),
                       constraints=cons)
            assert res.status == 0, res.message
            out.append(sign * res.fun)
        return round(out[0]), round(out[1])

    def unsafe(self):
        """(release index, cell key, what, true value, objective) for every unsafe figure of
        every release, by the oracle's own reading of the rules."""
        n = len(self.fine)
        for r, rel in enumerate(self.releases):
            for cell in rel.table.cells:
                vec = self._vector(rel.dimensions, cell.key)
                den = float(vec @ self.den)
                if not rel.table.is_rate:
                    if 1 <= den < rel.k:
                        yield r, cell.key, "count", den, (
                            vec if self.num is None else np.concatenate([vec, vec]))
                    continue
                num = float(vec @ self.num)
                if den == 0:
                    continue
                zeros = np.zeros(n)
                if den < rel.k:
                    yield r, cell.key, "denominator", den, np.concatenate([vec, vec])
                if num < rel.k:
                    yield r, cell.key, "numerator", num, np.concatenate([vec, zeros])
                if den - num < rel.k:
                    yield r, cell.key, "complement", den - num, np.concatenate([zeros, vec])

    def violations(self):
        """Unsafe figures whose integer interval misses the protection requirement."""
        bad = []
        for r, key, what, value, obj in self.unsafe():
            lo, up = self.interval(obj)
            k = self.releases[r].k
            if not (lo <= max(value - 1, 0) and up >= value + 1 and up - lo >= k):
                bad.append((r, key, what, value, lo, up))
        return bad
