"""Optimal secondary suppression for small tables (Fischetti and Salazar-Gonzalez, 2001).

Master problem: binary x_c per cell (1 = suppressed), minimise the total cost of the
suppressed cells, unsafe cells fixed at 1 and cells released before fixed at 0. Starting
constraints: in every table relation holding an unsafe cell, some other cell is suppressed.
Then, repeatedly: solve the master (HiGHS MIP), run the attacker LP for each unsafe
quantity under that pattern (cells as variables, published cells at their value,
suppressed cells in [0, ub]) and, where the interval is too narrow, add the capacity cut
read from the LP's bound duals. By weak duality the attacker's bound under any pattern x is
at most an affine function of x with those duals, so each cut is valid; the loop ends with
a pattern that is optimal for the LP attacker. ``protect`` then audits it with integer
bounds like any other pattern.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from linkage.disclosure.audit import Quantity, requirement_met
from linkage.disclosure.errors import TableError
from linkage.disclosure.table import TableStructure

MAX_CELLS = 3000
MAX_ROUNDS = 500


def optimal_suppression(structure: TableStructure, values: np.ndarray,
                        quantities: Sequence[Quantity], suppressed: np.ndarray,
                        forced: np.ndarray, cost: np.ndarray, ub: float) -> list[int]:
    """Cells to suppress in addition to ``suppressed`` (cheapest pattern for the LP attacker)."""
    n = structure.n_cells
    if n > MAX_CELLS:
        raise TableError(f"the optimal method handles tables of up to {MAX_CELLS} cells "
                         f"(this one has {n}); use the gauss method")
    layers = values.shape[0]
    relations = structure.relations()
    attacker = _CellLP(structure, values, relations, ub)
    cuts_a: list[np.ndarray] = []
    cuts_b: list[float] = []
    for parent, children in relations:
        members = [parent] + children
        for c in members:
            if suppressed[c] and any(q.cell == c for q in quantities):
                row = np.zeros(n)
                row[[m for m in members if m != c]] = 1.0
                cuts_a.append(row)
                cuts_b.append(1.0)
    lower = np.where(suppressed, 1.0, 0.0)
    upper = np.where(forced & ~suppressed, 0.0, 1.0)
    x = lower.copy()
    for _ in range(MAX_ROUNDS):
        cons = [LinearConstraint(np.asarray(cuts_a), np.asarray(cuts_b), np.inf)] if cuts_a else []
        res = milp(cost, integrality=np.ones(n), bounds=Bounds(lower, upper), constraints=cons,
                   options={"disp": False})
        if res.x is None:
            raise TableError("the optimal method found no feasible pattern; use gauss")
        x = np.round(res.x)
        new_cuts = 0
        for q in quantities:
            for a_row, b in attacker.cuts(q, x, layers):
                if a_row @ x < b - 1e-6:
                    cuts_a.append(a_row)
                    cuts_b.append(b)
                    new_cuts += 1
        if not new_cuts:
            break
    return [int(c) for c in np.flatnonzero((x > 0.5) & ~suppressed)]


class _CellLP:
    """The attacker LP with one variable per cell and measure (cells tied by relations)."""

    def __init__(self, structure, values, relations, ub):
        self.n = structure.n_cells
        self.values = values.astype(float)
        self.ub = ub
        layers = values.shape[0]
        rows, cols, data = [], [], []
        r = 0
        for m in range(layers):
            for parent, children in relations:
                rows.append(r)
                cols.append(m * self.n + parent)
                data.append(1.0)
                for ch in children:
                    rows.append(r)
                    cols.append(m * self.n + ch)
                    data.append(-1.0)
                r += 1
        self.A_eq = sp.csr_matrix((data, (rows, cols)), shape=(r, layers * self.n))
        if layers > 1:
            ineq = [sp.hstack([-sp.identity(self.n), sp.identity(self.n)])
                    for _ in range(layers - 1)]
            self.A_ub = sp.vstack(ineq, format="csr") if layers == 2 else None
        else:
            self.A_ub = None

    def solve(self, objective: np.ndarray, x: np.ndarray):
        a = self.values.ravel()
        xs = np.tile(x, self.values.shape[0])
        lo = np.where(xs > 0.5, 0.0, a)
        hi = np.where(xs > 0.5, self.ub, a)
        kwargs = {}
        if self.A_ub is not None:
            kwargs = {"A_ub": self.A_ub, "b_ub": np.zeros(self.A_ub.shape[0])}
        res = linprog(objective, A_eq=self.A_eq, b_eq=np.zeros(self.A_eq.shape[0]),
                      bounds=np.column_stack([lo, hi]), method="highs", **kwargs)
        if res.status != 0:
            raise RuntimeError(f"attacker LP failed: {res.message}")
        return res.fun, np.asarray(res.lower.marginals), np.asarray(res.upper.marginals)

    def cuts(self, q: Quantity, x: np.ndarray, layers: int):
        """Violated capacity cuts for quantity q under pattern x, as (row, rhs) pairs."""
        obj = np.zeros(layers * self.n)
        for m, c, coef in q.terms:
            obj[m * self.n + c] += coef
        a = self.values.ravel()
        fun_min, lam_l, lam_u = self.solve(obj, x)
        fun_max, mu_l, mu_u = self.solve(-obj, x)
        lo, up = fun_min, -fun_max
        if requirement_met(q.value, q.k, lo, up):
            return []
        width = self.ub - a
        # bound(x) = K + sum_c g_c x_c for each LP; g <= 0 because lower duals >= 0 and
        # upper duals <= 0 in a minimisation
        g_min = (-lam_l * a + lam_u * width).reshape(layers, self.n).sum(axis=0)
        k_min = float((lam_l + lam_u) @ a)
        g_max = (-mu_l * a + mu_u * width).reshape(layers, self.n).sum(axis=0)
        k_max = float((mu_l + mu_u) @ a)
        out = []
        if up < q.value + 1:
            out.append((-g_max, q.value + 1 + k_max))
        target = max(q.value - 1, 0)
        if lo > target:
            out.append((-g_min, k_min - target))
        if up - lo < q.k:
            out.append((-g_max - g_min, q.k + k_max + k_min))
        return out
