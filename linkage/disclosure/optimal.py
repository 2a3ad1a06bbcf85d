"""Optimal secondary suppression (Fischetti and Salazar-Gonzalez, 2001), with HiGHS.

Master problem: binary x_c per cell (1 = suppressed), minimise the information loss of the
suppressed cells, ``fixed`` cells at 1 and ``forced`` cells at 0. Starting constraints: in
every table relation holding an unsafe cell, some other cell is suppressed. Then,
repeatedly: solve the master (HiGHS MIP),
run the attacker LP for each unsafe quantity under that pattern (cells as variables,
published cells at their value, suppressed cells in [0, ub]) and, where the interval is too
narrow, add the capacity cut read from the LP's reduced costs. By weak duality the
attacker's bound under any pattern x is at most an affine function of x with those duals,
so every cut is valid; when no cut is violated the pattern is optimal for the LP attacker
(if the master was solved to optimality). ``protect`` then audits it with integer bounds
like any other pattern.

Speed: a quantity with a hypercube move over the pattern's cells (an integer witness,
``hypercube.witness_move``) needs no LP; the attacker LP is one HiGHS model re-solved with
new bounds and objectives (warm start); the master keeps its cuts between rounds. A result
that did not converge within the limits is not safe; ``protect``'s ``auto`` then keeps the
heuristic's pattern.
Limits are counts (rounds, nodes) and wall-clock budgets (per master solve and, for the
broker's ``auto`` method, 1 s for the whole loop): a table the MIP cannot settle within the
budget gets the heuristic's pattern, so on a loaded machine the chosen pattern of such a
table can differ from run to run (both are audited; the broker answers a repeated request
from its ledger).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from linkage.disclosure.audit import Block, Quantity, requirement_met
from linkage.disclosure.hypercube import witness_move
from linkage.disclosure.problem import SuppressionProblem

EPS = 1e-6


@dataclass(frozen=True)
class Limits:
    rounds: int = 500          # master solves (each followed by cut separation)
    nodes: int = 100_000       # branch-and-bound nodes per master solve
    seconds: float = 600.0     # wall clock per master solve: a safety net only
    total_seconds: float = math.inf
    """Wall clock for the whole cut loop; past it the result is not converged (``auto`` then
    keeps the heuristic's pattern), so a hard table costs bounded time."""


@dataclass(frozen=True)
class OptimalResult:
    pattern: np.ndarray        # bool per cell
    converged: bool            # no attacker cut is violated: safe for the LP attacker
    proven: bool               # converged and every master solved to optimality
    rounds: int


def optimal_pattern(problem: SuppressionProblem, limits: Limits = Limits()) -> OptimalResult:
    """The cheapest pattern for the LP attacker (within ``limits``).

    The master is not warm-started with a known safe pattern: HiGHS 1.16 handed the start
    back as optimal in the first round (its objective said otherwise), which ended the cut
    loop at the start; without it the loop converged to patterns up to 1.44x cheaper on
    2-D tables (bench/bench_disclosure.py)."""
    master = _Master(problem, limits)
    attacker = _AttackerLP(problem)
    proven = True
    pattern = problem.fixed.copy()
    deadline = time.monotonic() + limits.total_seconds
    for rounds in range(1, limits.rounds + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return OptimalResult(pattern, False, False, rounds - 1)
        solved = master.solve(min(limits.seconds, remaining))
        if solved is None:
            return OptimalResult(pattern, False, False, rounds)
        pattern, optimal = solved
        proven &= optimal
        cuts = attacker.violated_cuts(pattern)
        if not cuts:
            return OptimalResult(pattern, True, proven, rounds)
        master.add(cuts)
    return OptimalResult(pattern, False, False, limits.rounds)


Cut = tuple[np.ndarray, float]        # sum(row * x) >= rhs


class _Master:
    def __init__(self, problem: SuppressionProblem, limits: Limits):
        self.problem = problem
        n = problem.structure.n_cells
        h = highspy.Highs()
        for option, value in (("output_flag", False), ("threads", 1),
                              ("mip_max_nodes", limits.nodes), ("time_limit", limits.seconds),
                              ("mip_abs_gap", 1.0 - EPS)):      # costs are whole numbers
            h.setOptionValue(option, value)
        lower = problem.fixed.astype(float)
        upper = np.where(problem.forced & ~problem.fixed, 0.0, 1.0)
        none = np.zeros(0, dtype=np.int32)
        h.addCols(n, problem.cost, lower, upper, 0, none, none, np.zeros(0))
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32),
                                np.full(n, highspy.HighsVarType.kInteger))
        self.h = h
        self.add(self._relation_cuts())

    def _relation_cuts(self) -> list[Cut]:
        """In every relation holding a suppressed unsafe cell, another cell is suppressed."""
        problem = self.problem
        n = problem.structure.n_cells
        unsafe = {q.cell for q in problem.quantities if problem.fixed[q.cell]}
        cuts = []
        for parent, children in problem.structure.relations():
            members = [parent] + children
            for c in members:
                if c in unsafe:
                    row = np.zeros(n)
                    row[[m for m in members if m != c]] = 1.0
                    cuts.append((row, 1.0))
        return cuts

    def add(self, cuts: list[Cut]) -> None:
        if not cuts:
            return
        rows = sp.csr_matrix(np.asarray([row for row, _ in cuts]))
        rhs = np.asarray([b for _, b in cuts])
        self.h.addRows(len(cuts), rhs, np.full(len(cuts), highspy.kHighsInf), rows.nnz,
                       rows.indptr[:-1].astype(np.int32), rows.indices.astype(np.int32),
                       rows.data)

    def solve(self, seconds: float) -> tuple[np.ndarray, bool] | None:
        """The master's pattern and whether it is optimal; None when a limit stopped HiGHS
        before it found any pattern."""
        self.h.setOptionValue("time_limit", float(seconds))
        self.h.run()
        status = self.h.getModelStatus()
        x = np.asarray(self.h.getSolution().col_value)
        if status == highspy.HighsModelStatus.kOptimal or (
                len(x) and self.h.getInfo().primal_solution_status == 2):
            return x > 0.5, status == highspy.HighsModelStatus.kOptimal
        if status in (highspy.HighsModelStatus.kTimeLimit, highspy.HighsModelStatus.kSolutionLimit,
                      highspy.HighsModelStatus.kIterationLimit):
            return None
        raise RuntimeError("the suppression master problem has no feasible pattern: "
                           f"{self.h.modelStatusToString(status)}")


class _AttackerLP:
    """The attacker LP with one variable per cell and measure, cells tied by the table's
    relations. Under a pattern, published cells are fixed at their value and the
    suppressed ones fall apart into connected components; each quantity's bounds are
    solved on its components only (one small HiGHS model per component and round)."""

    def __init__(self, problem: SuppressionProblem):
        self.problem = problem
        st = problem.structure
        n, layers = st.n_cells, problem.values.shape[0]
        self.n, self.layers = n, layers
        self.a = problem.values.astype(float).ravel()
        rows, cols, data = [], [], []
        r = 0
        for m in range(layers):
            for parent, children in st.relations():
                rows += [r] * (1 + len(children))
                cols += [m * n + parent] + [m * n + ch for ch in children]
                data += [1.0] + [-1.0] * len(children)
                r += 1
        n_eq = r
        for m in range(1, layers):                 # numerator <= denominator
            rows += list(range(r, r + n)) * 2
            cols += list(range(m * n, (m + 1) * n)) + list(range(n))
            data += [1.0] * n + [-1.0] * n
            r += n
        self.R = sp.csr_matrix((data, (rows, cols)), shape=(r, layers * n))
        self.RT = self.R.T.tocsr()
        self.row_lo = np.r_[np.zeros(n_eq), np.full(r - n_eq, -np.inf)]

    def violated_cuts(self, pattern: np.ndarray) -> list[Cut]:
        problem = self.problem
        block = Block(problem.structure, problem.values, pattern)
        pending = [q for q in problem.quantities if witness_move(q, block) is None]
        if not pending:
            return []
        split = _Components(self, np.tile(pattern, self.layers))
        cuts = []
        for q in pending:
            cuts += self._cuts(q, split)
        return cuts

    def _cuts(self, q: Quantity, split: _Components) -> list[Cut]:
        """Violated capacity cuts for quantity q under the current pattern."""
        objective = np.zeros(self.layers * self.n)
        for m, c, coef in q.terms:
            objective[m * self.n + c] += coef
        lo, g_min, k_min = self._bound(objective, split)
        neg_up, g_max, k_max = self._bound(-objective, split)
        up = -neg_up
        if requirement_met(q.value, q.k, lo, up):
            return []
        cuts = []
        if up < q.value + 1 - EPS:               # up <= -(k_max + g_max . x)
            cuts.append((-g_max, q.value + 1 + k_max))
        target = max(q.value - 1, 0)
        if lo > target + EPS:                      # lo >= k_min + g_min . x
            cuts.append((-g_min, k_min - target))
        if up - lo < q.k - EPS:
            cuts.append((-g_max - g_min, q.k + k_max + k_min))
        return [(np.where(np.abs(row) > 1e-9, row, 0.0), rhs - EPS) for row, rhs in cuts]

    def _bound(self, objective: np.ndarray, split: _Components
               ) -> tuple[float, np.ndarray, float]:
        """Minimum of the objective under the pattern, and that bound as an affine function
        K + g . x of any pattern x (weak duality: the reduced costs d = c - R'y of the
        optimal row duals y give min >= sum d+ lower + d- upper, with lower bounds
        a (1 - x) and upper bounds a + (ub - a) x; a cell's x is shared by its measures)."""
        y = np.zeros(self.R.shape[0])
        for label in split.labels_of(objective):
            rows, duals = split.solve(label, objective)
            y[rows] = duals
        d = objective - self.RT @ y
        d_lo, d_up = np.maximum(d, 0.0), np.minimum(d, 0.0)
        free = split.free
        value = float(d[~free] @ self.a[~free] + d_up[free].sum() * self.problem.ub)
        g = (-d_lo * self.a + d_up * (self.problem.ub - self.a)).reshape(self.layers, self.n)
        return value, g.sum(axis=0), float(d @ self.a)


class _Components:
    """The attacker LP under one pattern, split into connected components of the
    suppressed variables."""

    def __init__(self, lp: _AttackerLP, free: np.ndarray):
        self.lp, self.free = lp, free
        self.ub = lp.problem.ub
        free_cols = np.flatnonzero(free)
        R_free = lp.R[:, free_cols].tocsr()
        shift = lp.R[:, ~free] @ lp.a[~free]
        self.rows = np.flatnonzero(np.diff(R_free.indptr) > 0)
        self.row_lo = lp.row_lo[self.rows] - shift[self.rows]
        self.row_up = -shift[self.rows]
        sub = R_free[self.rows]
        nr, nf = len(self.rows), len(free_cols)
        pattern = sp.csr_matrix((np.ones(sub.nnz), sub.indices, sub.indptr), shape=(nr, nf))
        graph = sp.bmat([[None, pattern], [pattern.T, None]], format="csr") if nr else \
            sp.csr_matrix((nf, nf))
        _, labels = connected_components(graph, directed=False)
        self.row_label, self.col_label = labels[:nr], labels[nr:]
        self.col_of = np.full(len(free), -1)
        self.col_of[free_cols] = np.arange(nf)
        self.sub = sub
        self.free_cols = free_cols
        self._models: dict[int, tuple[highspy.Highs, np.ndarray, np.ndarray]] = {}

    def labels_of(self, objective: np.ndarray) -> set[int]:
        cols = self.col_of[np.flatnonzero(objective)]
        return {int(self.col_label[c]) for c in cols if c >= 0}

    def solve(self, label: int, objective: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row ids (of the full system) of one component and their optimal duals."""
        h, rows, cols = self._model(label)
        h.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32),
                         objective[self.free_cols[cols]])
        h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError("attacker LP did not solve: "
                               f"{h.modelStatusToString(h.getModelStatus())}")
        return self.rows[rows], np.asarray(h.getSolution().row_dual)

    def _model(self, label: int) -> tuple[highspy.Highs, np.ndarray, np.ndarray]:
        if label not in self._models:
            rows = np.flatnonzero(self.row_label == label)
            cols = np.flatnonzero(self.col_label == label)
            mat = self.sub[rows][:, cols].tocsr()
            h = highspy.Highs()
            for option, value in (("output_flag", False), ("threads", 1),
                                  ("presolve", "off")):
                h.setOptionValue(option, value)
            none = np.zeros(0, dtype=np.int32)
            h.addCols(len(cols), np.zeros(len(cols)), np.zeros(len(cols)),
                      np.full(len(cols), self.ub), 0, none, none, np.zeros(0))
            if len(rows):
                lo = np.where(np.isinf(self.row_lo[rows]), -highspy.kHighsInf,
                              self.row_lo[rows])
                h.addRows(len(rows), lo, self.row_up[rows], mat.nnz,
                          mat.indptr[:-1].astype(np.int32), mat.indices.astype(np.int32),
                          mat.data)
            self._models[label] = (h, rows, cols)
        return self._models[label]
