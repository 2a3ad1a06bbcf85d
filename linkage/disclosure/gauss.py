"""Secondary suppression by Gaussian elimination (after Statistics Norway's GaussSuppression).

Cells are tried for publication in a fixed order (cells to publish first come first). A cell
is published unless publishing it, together with everything published before, would make
an unsafe quantity a linear combination of published cells; then it is suppressed
(secondary). The result is a pattern in which no unsafe quantity is linearly derivable; the
interval audit (``audit``) then checks the stronger interval requirement.

Implementation: we keep a basis of the null space of the published cells (vectors z over
inner cells with x_c . z = 0 for every published cell c) and, per unsafe quantity p, its
inner products with that basis. p is derivable exactly when all those products are zero.
Publishing a cell is one elimination step on the basis. Vectors are sparse dicts with
arithmetic modulo the prime 2**61 - 1: exact, fast, and a (practically impossible) false
"not derivable" would still be caught by the interval audit that follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from linkage.disclosure.audit import Quantity
from linkage.disclosure.problem import SuppressionProblem
from linkage.disclosure.table import TableStructure

PRIME = (1 << 61) - 1


@dataclass
class GaussResult:
    secondary: list[int]          # cells suppressed to protect the unsafe quantities
    exposed: list[int]            # unsafe vectors already derivable from forced cells


def gauss_pattern(problem: SuppressionProblem, unsafe_cells: np.ndarray) -> np.ndarray:
    """The gauss method's pattern: ``fixed`` plus the cells ``gauss_suppress`` keeps back
    when cells are offered for publication in ``_publish_order``; ``unsafe_cells`` are
    the cells that must not become derivable."""
    order = _publish_order(problem)
    vectors = _unsafe_vectors(problem.structure, problem.quantities, unsafe_cells)
    result = gauss_suppress(problem.structure, order, vectors, np.flatnonzero(problem.forced))
    pattern = problem.fixed.copy()
    pattern[np.asarray(result.secondary, dtype=np.int64)] = True
    return pattern


def _publish_order(problem: SuppressionProblem) -> list[int]:
    """Cells to try publishing, most wanted first: forced, then zeros (they protect little
    and reveal nobody), then by decreasing cost, margins before inner cells, then index."""
    cells = np.flatnonzero(~problem.fixed)
    zero = problem.values[0][cells] == 0
    keys = (cells, -problem.structure.inner_count[cells], -problem.cost[cells], ~zero,
            ~problem.forced[cells])
    return [int(c) for c in cells[np.lexsort(keys)]]


def _unsafe_vectors(structure: TableStructure, quantities: Sequence[Quantity],
                    unsafe_cells: np.ndarray) -> list[dict[int, int]]:
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


def gauss_suppress(structure: TableStructure, order: Sequence[int],
                   unsafe: Sequence[dict[int, int]], forced: Iterable[int] = ()) -> GaussResult:
    """Publishes the cells of ``order`` one by one unless one would expose an unsafe vector.

    ``unsafe`` holds sparse vectors over inner cells (inner index -> coefficient).
    ``forced`` cells are published whatever they expose (they were released before).
    """
    forced = set(forced)
    n = structure.n_inner
    basis: list[dict[int, int] | None] = [{q: 1} for q in range(n)]
    holders: list[set[int]] = [{q} for q in range(n)]
    products = [{q: c % PRIME for q, c in vec.items() if c % PRIME} for vec in unsafe]
    touched: list[set[int]] = [set() for _ in range(n)]
    for p, row in enumerate(products):
        for z in row:
            touched[z].add(p)
    exposed = {p for p, row in enumerate(products) if not row}
    secondary: list[int] = []
    indptr, indices = structure.A.indptr, structure.A.indices
    for cell in order:
        v: dict[int, int] = {}
        for q in indices[indptr[cell]:indptr[cell + 1]]:
            for z in holders[q]:
                v[z] = (v.get(z, 0) + basis[z][q]) % PRIME
        v = {z: x for z, x in v.items() if x}
        if not v:
            continue                      # already determined by published cells
        pivot = min(v, key=lambda z: (len(basis[z]), z))
        inverse = pow(v[pivot], PRIME - 2, PRIME)
        ratios = {z: v[z] * inverse % PRIME for z in v if z != pivot}
        affected = list(touched[pivot])
        if cell not in forced and _would_expose(products, affected, pivot, ratios):
            secondary.append(cell)
            continue
        _eliminate(basis, holders, pivot, ratios)
        for p in affected:
            row = products[p]
            wp = row.pop(pivot)
            for z, r in ratios.items():
                new = (row.get(z, 0) - r * wp) % PRIME
                if new:
                    if z not in row:
                        touched[z].add(p)
                    row[z] = new
                elif z in row:
                    del row[z]
                    touched[z].discard(p)
            if not row:
                exposed.add(p)
        touched[pivot] = set()
    return GaussResult(secondary, sorted(exposed))


def _would_expose(products: list[dict[int, int]], affected: list[int], pivot: int,
                  ratios: dict[int, int]) -> bool:
    for p in affected:
        row = products[p]
        if len(row) != len(ratios) + 1:
            continue
        wp = row[pivot]
        if all(z in row and (row[z] - r * wp) % PRIME == 0 for z, r in ratios.items()):
            return True
    return False


def _eliminate(basis: list[dict[int, int] | None], holders: list[set[int]], pivot: int,
               ratios: dict[int, int]) -> None:
    zp = basis[pivot]
    for z, r in ratios.items():
        target = basis[z]
        for q, x in zp.items():
            new = (target.get(q, 0) - r * x) % PRIME
            if new:
                if q not in target:
                    holders[q].add(z)
                target[q] = new
            elif q in target:
                del target[q]
                holders[q].discard(z)
    for q in zp:
        holders[q].discard(pivot)
    basis[pivot] = None
