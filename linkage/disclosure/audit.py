"""The attacker: the interval an adversary can derive for each unsafe quantity.

The attacker knows every published cell of every table in the model (one ``Block`` per
table), all table relations, that counts are non-negative integers no larger than the
population total ``ub``, and that a numerator never exceeds its denominator. Cells that two
blocks share (same canonical key) are the same unknown. Variables are the inner cells of
each block, per measure; a published cell fixes the sum of its inner cells.

For an unsafe quantity with true value a and threshold k the interval [lo, up] must satisfy
lo <= max(a - 1, 0), up >= a + 1 and up - lo >= k (sdc_anchors.md §1.3; for a = 0 this
means the attacker cannot exclude that k or more persons are there).

Speed: variables fixed by published inner cells are substituted; the remaining free
variables fall apart into connected components, and each component is one small LP
solved with HiGHS, built once and re-solved with a new objective per quantity (warm
start). LP bounds are rounded inward (counts are integers); when the LP vertex is
fractional the bound is recomputed as a MIP, since integer bounds can be tighter in tables
of three or more dimensions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from linkage.disclosure.table import TableStructure

EPS = 1e-7
_PUBLISHED_ROW, _LINK_ROW, _ORDER_ROW = 0, 1, 2


@dataclass(frozen=True)
class Quantity:
    """A linear combination of cells (terms: measure index, cell index, coefficient) whose
    true ``value`` must stay uncertain to within threshold ``k``."""

    terms: tuple[tuple[int, int, int], ...]
    value: int
    k: int
    cell: int
    block: int = 0


def requirement_met(value: int, k: int, lo: float, up: float) -> bool:
    return (lo <= max(value - 1, 0) + EPS and up >= value + 1 - EPS
            and up - lo >= k - EPS)


@dataclass
class Block:
    """One table as the attacker sees it."""

    structure: TableStructure
    values: np.ndarray            # (measures, cells) true values; measure 0 counts persons
    suppressed: np.ndarray        # bool per cell
    keys: Sequence[Sequence[str]] | None = None   # canonical key per measure per cell


@dataclass
class Check:
    quantity: Quantity
    lo: float
    up: float
    passed: bool
    mip: bool
    fractional: bool = False      # some LP bound came from a fractional vertex
    candidates: list[tuple[tuple[int, int], ...]] = field(default_factory=list)


class AttackerModel:
    """The linear system of a set of blocks with the current suppression patterns."""

    def __init__(self, blocks: Sequence[Block], ub: float,
                 witnesses: list[tuple[np.ndarray, np.ndarray]] | None = None):
        """``witnesses`` carries integer points found by an earlier model of the same
        blocks; they stay feasible when more cells are suppressed."""
        self.blocks = list(blocks)
        self.witnesses = witnesses if witnesses is not None else []
        self.ub = float(ub)
        self.offsets = []
        n = 0
        for b in self.blocks:
            self.offsets.append(n)
            n += b.values.shape[0] * b.structure.n_inner
        self.n_vars = n
        fixed = np.full(n, np.nan)
        self.fixed_by: dict[int, list[tuple[int, int]]] = {}
        mats, lows, ups, sources = [], [], [], []
        for bi, block in enumerate(self.blocks):
            self._block_rows(bi, block, fixed, mats, lows, ups, sources)
        self._link_rows(mats, lows, ups, sources)
        self.R = sp.vstack(mats, format="csr") if mats else sp.csr_matrix((0, n))
        self.row_lo = np.concatenate(lows) if lows else np.zeros(0)
        self.row_up = np.concatenate(ups) if ups else np.zeros(0)
        self.row_source = np.concatenate(sources) if sources else np.zeros((0, 3), dtype=np.int64)
        self.fixed_mask = ~np.isnan(fixed)
        self.fixed_values = np.where(self.fixed_mask, fixed, 0.0)
        self.truth = np.concatenate([b.values[:, b.structure.leaf_cells].ravel().astype(float)
                                     for b in self.blocks])
        self._components()
        self._models: dict[int, _ComponentLP] = {}

    # -- construction -----------------------------------------------------------------
    def _block_rows(self, bi, block, fixed, mats, lows, ups, sources):
        st = block.structure
        published = np.flatnonzero(~block.suppressed)
        single = published[st.inner_count[published] == 1]
        multi = published[st.inner_count[published] > 1]
        n_m = block.values.shape[0]
        for m in range(n_m):
            off = self.offsets[bi] + m * st.n_inner
            for c in single:
                var = off + int(st.inner_of(c)[0])
                val = float(block.values[m, c])
                if not np.isnan(fixed[var]) and fixed[var] != val:
                    raise ValueError("inconsistent values for one inner cell")
                fixed[var] = val
                self.fixed_by.setdefault(var, [])
                if (bi, int(c)) not in self.fixed_by[var]:
                    self.fixed_by[var].append((bi, int(c)))
            if len(multi):
                sub = st.A[multi]
                mats.append(sp.csr_matrix((sub.data.astype(float), sub.indices + off, sub.indptr),
                                          shape=(len(multi), self.n_vars)))
                vals = block.values[m, multi].astype(float)
                lows.append(vals)
                ups.append(vals)
                sources.append(np.column_stack([np.full(len(multi), _PUBLISHED_ROW),
                                                np.full(len(multi), bi), multi]))
        for m in range(1, n_m):
            n = st.n_inner
            base = self.offsets[bi]
            rows = np.arange(n)
            mat = sp.csr_matrix((np.r_[np.ones(n), -np.ones(n)],
                                 (np.r_[rows, rows], np.r_[base + m * n + rows, base + rows])),
                                shape=(n, self.n_vars))
            mats.append(mat)
            lows.append(np.full(n, -np.inf))
            ups.append(np.zeros(n))
            sources.append(np.column_stack([np.full(n, _ORDER_ROW), np.full(n, bi),
                                            np.full(n, -1)]))

    def _link_rows(self, mats, lows, ups, sources):
        if len(self.blocks) < 2:
            return
        seen: dict[str, list[tuple[int, int, int]]] = {}
        for bi, block in enumerate(self.blocks):
            if block.keys is None:
                continue
            for m, keys in enumerate(block.keys):
                for c, key in enumerate(keys):
                    seen.setdefault(key, []).append((bi, m, c))
        rows, cols, data = [], [], []
        srcs = []
        r = 0
        for occurrences in seen.values():
            if len(occurrences) < 2:
                continue
            if not any(self.blocks[b].suppressed[c] for b, _, c in occurrences):
                continue
            b0, m0, c0 = occurrences[0]
            first = self._cell_vars(b0, m0, c0)
            for b, m, c in occurrences[1:]:
                other = self._cell_vars(b, m, c)
                rows.extend([r] * (len(first) + len(other)))
                cols.extend(first.tolist() + other.tolist())
                data.extend([1.0] * len(first) + [-1.0] * len(other))
                srcs.append((_LINK_ROW, b, c))
                r += 1
        if r:
            mats.append(sp.csr_matrix((data, (rows, cols)), shape=(r, self.n_vars)))
            lows.append(np.zeros(r))
            ups.append(np.zeros(r))
            sources.append(np.asarray(srcs, dtype=np.int64))

    def _cell_vars(self, bi: int, m: int, c: int) -> np.ndarray:
        st = self.blocks[bi].structure
        return self.offsets[bi] + m * st.n_inner + st.inner_of(c)

    def _components(self) -> None:
        free = np.flatnonzero(~self.fixed_mask)
        self.free = free
        self.free_pos = np.full(self.n_vars, -1)
        self.free_pos[free] = np.arange(len(free))
        shift = self.R[:, self.fixed_mask] @ self.fixed_values[self.fixed_mask] \
            if self.R.shape[0] else np.zeros(0)
        self.R_free = self.R[:, free].tocsr()
        keep = np.diff(self.R_free.indptr) > 0
        self.rows = np.flatnonzero(keep)
        self.lo_free = self.row_lo - shift
        self.up_free = self.row_up - shift
        nr, nf = len(self.rows), len(free)
        sub = self.R_free[self.rows]
        sub = sp.csr_matrix((np.ones(sub.nnz), sub.indices, sub.indptr), shape=(nr, nf))
        graph = sp.bmat([[None, sub], [sub.T, None]], format="csr") if nr and nf else \
            sp.csr_matrix((nr + nf, nr + nf))
        _, labels = connected_components(graph, directed=False)
        self.row_label = labels[:nr]
        self.var_label = labels[nr:]

    # -- queries ------------------------------------------------------------------------
    def quantity_vector(self, q: Quantity) -> dict[int, float]:
        vec: dict[int, float] = {}
        for m, c, coef in q.terms:
            for var in self._cell_vars(q.block, m, c):
                vec[int(var)] = vec.get(int(var), 0.0) + coef
        return {v: x for v, x in vec.items() if x}

    def labels_of(self, q: Quantity) -> set[int]:
        return {int(self.var_label[self.free_pos[v]])
                for v in self.quantity_vector(q) if self.free_pos[v] >= 0}

    def labels_touching_block(self, bi: int) -> set[int]:
        out = set()
        st = self.blocks[bi].structure
        lo = self.offsets[bi]
        hi = lo + self.blocks[bi].values.shape[0] * st.n_inner
        in_block = (self.free >= lo) & (self.free < hi)
        out.update(int(x) for x in np.unique(self.var_label[in_block]))
        src = self.row_source[self.rows]
        out.update(int(x) for x in np.unique(self.row_label[src[:, 1] == bi]))
        return out

    def check(self, q: Quantity, integer: bool = True, want_candidates: bool = False) -> Check:
        vec = self.quantity_vector(q)
        const = 0.0
        by_label: dict[int, dict[int, float]] = {}
        for var, coef in vec.items():
            pos = self.free_pos[var]
            if pos < 0:
                const += coef * self.fixed_values[var]
            else:
                by_label.setdefault(int(self.var_label[pos]), {})[int(pos)] = coef
        bounds: dict[tuple[int, str], float] = {}
        duals, fractional = [], []
        for label, obj in sorted(by_label.items()):
            lp = self._model(label)
            for sense in ("min", "max"):
                value, frac, row_dual = lp.solve(obj, sense)
                bounds[label, sense] = value
                duals.append((label, sense, row_dual))
                if frac:
                    fractional.append((label, sense))

        def interval() -> tuple[int, int]:
            lo = const + sum(v for (_, s), v in bounds.items() if s == "min")
            up = const + sum(v for (_, s), v in bounds.items() if s == "max")
            return math.ceil(lo - 1e-6), math.floor(up + 1e-6)

        lo, up = interval()
        passed = requirement_met(q.value, q.k, lo, up)
        used_mip = False
        if passed and integer and fractional:
            # The LP passes at a fractional vertex: an attacker using integrality could do
            # better. Known integer tables (witnesses) that already span the protection
            # interval prove it holds; otherwise recompute those bounds as MIPs. (When the
            # LP fails, the integer bounds fail too.)
            lo_w = up_w = const
            for label, obj in by_label.items():
                w_lo, w_up = self._models[label].witness_range(obj)
                lo_w, up_w = lo_w + w_lo, up_w + w_up
            if requirement_met(q.value, q.k, lo_w, up_w):
                return Check(q, lo, up, True, False)
            for label, sense in fractional:
                bounds[label, sense] = self._models[label].solve_integer(
                    by_label[label], sense, bounds[label, sense])
            used_mip = True
            lo, up = interval()
            passed = requirement_met(q.value, q.k, lo, up)
        result = Check(q, lo, up, passed, used_mip, bool(fractional))
        if not passed and want_candidates:
            fail_lo = lo > max(q.value - 1, 0) + EPS
            fail_up = up < q.value + 1 - EPS
            fail_w = up - lo < q.k - EPS
            senses = {s for s, bad in (("min", fail_lo or fail_w), ("max", fail_up or fail_w))
                      if bad}
            result.candidates = self._candidates(vec, [d for d in duals if d[1] in senses],
                                                 set(by_label))
        return result

    def _model(self, label: int) -> _ComponentLP:
        if label not in self._models:
            rows = self.rows[self.row_label == label]
            cols = np.flatnonzero(self.var_label == label)
            self._models[label] = _ComponentLP(self, rows, cols)
        return self._models[label]

    def _candidates(self, vec, duals, labels) -> list[tuple[tuple[int, int], ...]]:
        """Published cells whose suppression would widen the interval: rows with a non-zero
        dual and fixed variables with a non-zero reduced cost; if the duals name none, every
        published cell in the quantity's components."""
        groups: list[tuple[tuple[int, int], ...]] = []
        seen = set()

        def add(group):
            if group and group not in seen:
                seen.add(group)
                groups.append(group)

        obj = np.zeros(self.n_vars)
        for var, coef in vec.items():
            obj[var] = coef
        for label, _, row_dual in duals:
            lp = self._models[label]
            active = np.abs(row_dual) > 1e-9
            for r in lp.rows[active]:
                kind, b, c = self.row_source[r]
                if kind == _PUBLISHED_ROW:
                    add(((int(b), int(c)),))
            reduced = obj - self.R[lp.rows].T @ row_dual
            for var in np.flatnonzero((np.abs(reduced) > 1e-9) & self.fixed_mask):
                add(tuple(self.fixed_by.get(int(var), ())))
        for var in vec:
            if self.fixed_mask[var]:
                add(tuple(self.fixed_by.get(int(var), ())))
        if groups:
            return groups
        for label in labels:
            rows = self.rows[self.row_label == label]
            for r in rows:
                kind, b, c = self.row_source[r]
                if kind == _PUBLISHED_ROW:
                    add(((int(b), int(c)),))
            touched = np.unique(self.R[rows].indices) if len(rows) else []
            for var in touched:
                if self.fixed_mask[var]:
                    add(tuple(self.fixed_by.get(int(var), ())))
        return groups


class _ComponentLP:
    """One connected component as a HiGHS model; re-solved with new objectives.

    It also keeps a pool of integer points of the component's polytope (the true table,
    then every integral LP or MIP optimum found). Their objective values are values an
    attacker cannot exclude, so when they already span the protection interval no solve is
    needed."""

    def __init__(self, model: AttackerModel, rows: np.ndarray, cols: np.ndarray):
        self.rows = rows
        self.cols = cols
        sub = model.R_free[rows][:, cols].tocsr()
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("presolve", "off")
        n = len(cols)
        inf = highspy.kHighsInf
        h.addCols(n, np.zeros(n), np.zeros(n), np.full(n, model.ub), 0,
                  np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
        if len(rows):
            lo = np.where(np.isinf(model.lo_free[rows]), -inf, model.lo_free[rows])
            up = np.where(np.isinf(model.up_free[rows]), inf, model.up_free[rows])
            h.addRows(len(rows), lo, up, sub.nnz, sub.indptr[:-1].astype(np.int32),
                      sub.indices.astype(np.int32), sub.data)
        self.h = h
        self.local = {int(c): i for i, c in enumerate(cols)}
        self.last: np.ndarray = np.zeros(0, dtype=np.int32)
        self.model = model
        self.vars = model.free[cols]                 # global variable ids, sorted
        self._pool: np.ndarray | None = None

    def witness_range(self, obj: dict[int, float]) -> tuple[float, float]:
        """Smallest and largest objective over the known integer points."""
        if self._pool is None:
            self._pool = self._build_pool()
        idx = np.fromiter((self.local[p] for p in obj), dtype=np.int64, count=len(obj))
        vals = np.fromiter(obj.values(), dtype=float, count=len(obj)) @ self._pool[idx]
        return float(vals.min()), float(vals.max())

    def _build_pool(self) -> np.ndarray:
        truth = self.model.truth[self.vars]
        columns = [truth]
        for ids, vals in self.model.witnesses:
            pos = np.searchsorted(self.vars, ids)
            inside = (pos < len(self.vars)) & (self.vars[np.minimum(pos, len(self.vars) - 1)] == ids)
            if inside.any():
                col = truth.copy()
                col[pos[inside]] = vals[inside]
                columns.append(col)
        return np.stack(columns, axis=1)

    def _remember(self, x: np.ndarray) -> None:
        self.model.witnesses.append((self.vars, np.round(x)))
        self._pool = None

    def _set_objective(self, obj: dict[int, float], sign: float) -> None:
        h = self.h
        if len(self.last):
            h.changeColsCost(len(self.last), self.last, np.zeros(len(self.last)))
        idx = np.asarray([self.local[p] for p in obj], dtype=np.int32)
        h.changeColsCost(len(idx), idx, sign * np.asarray(list(obj.values()), dtype=float))
        self.last = idx

    def solve(self, obj: dict[int, float], sense: str) -> tuple[float, bool, np.ndarray]:
        """LP bound in the given sense (solved as a minimisation); returns the value,
        whether the optimal vertex is fractional, and the row duals."""
        sign = 1.0 if sense == "min" else -1.0
        self._set_objective(obj, sign)
        value = self._run()
        sol = self.h.getSolution()
        row_dual = np.asarray(sol.row_dual) if len(self.rows) else np.zeros(0)
        x = np.asarray(sol.col_value)
        fractional = bool(np.any(np.abs(x - np.round(x)) > 1e-6))
        if not fractional:
            self._remember(x)
        return sign * value, fractional, row_dual

    def solve_integer(self, obj: dict[int, float], sense: str, lp_value: float) -> float:
        """The MIP bound. It cannot beat the LP bound rounded inward, so HiGHS stops as soon
        as a solution reaches that (objective_target), usually at the first incumbent."""
        h = self.h
        sign = 1.0 if sense == "min" else -1.0
        self._set_objective(obj, sign)
        n = len(self.cols)
        all_cols = np.arange(n, dtype=np.int32)
        target = math.ceil(sign * lp_value - 1e-6)
        x = self._dive(target)
        if x is not None:
            self._remember(x)
            return sign * target
        h.changeColsIntegrality(n, all_cols, np.full(n, highspy.HighsVarType.kInteger))
        h.setOptionValue("objective_target", target + 1e-6)
        try:
            value = self._run(mip=True)
            self._remember(np.asarray(h.getSolution().col_value))
        finally:
            h.setOptionValue("objective_target", -highspy.kHighsInf)
            h.changeColsIntegrality(n, all_cols, np.full(n, highspy.HighsVarType.kContinuous))
        return sign * value

    def _dive(self, target: float, steps: int = 12) -> np.ndarray | None:
        """Cheap search for an integer optimum: fix the most fractional variable to its
        nearest integer and re-solve (warm start), while the objective stays at the
        target. Returns the integer point, or None (then the MIP decides)."""
        h = self.h
        fixed: list[int] = []
        try:
            for _ in range(steps):
                h.run()
                if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                    return None
                if h.getInfo().objective_function_value > target + 1e-6:
                    return None
                x = np.asarray(h.getSolution().col_value)
                gap = np.abs(x - np.round(x))
                j = int(np.argmax(gap))
                if gap[j] <= 1e-6:
                    return x
                h.changeColBounds(j, float(np.round(x[j])), float(np.round(x[j])))
                fixed.append(j)
            return None
        finally:
            for j in fixed:
                h.changeColBounds(j, 0.0, self.model.ub)

    def _run(self, mip: bool = False) -> float:
        self.h.run()
        status = self.h.getModelStatus()
        ok = {highspy.HighsModelStatus.kOptimal}
        if mip:
            ok.add(highspy.HighsModelStatus.kObjectiveTarget)
        if status not in ok:
            raise RuntimeError(f"attacker LP did not solve: {self.h.modelStatusToString(status)}")
        return float(self.h.getInfo().objective_function_value)
