"""The joint audit over atoms: new releases checked together with every earlier release.

The attacker knows every published figure of every release (by anyone, on any run) as the
exact count of a set of units, knows which sets contain which atoms, and that counts are
non-negative. Variables are atom counts. For a rate measure the attacker also cannot tell
who has the status: each atom in a rate cohort gets a *phantom* variable, "persons like
these with the status flipped", which sits in the same denominator cells and on the other
side of every numerator of that measure. (Without phantoms an empty numerator could never
be hidden: the atom model only knows persons that exist.) A rate gets no phantoms when some
release tells who has its status (``reads``: a table by integration outcome next to the
completion rate, outflow within 6 months next to 12 months): then the attacker knows it.

Checked (each must keep lo <= max(a-1, 0), up >= a+1 and up-lo >= k):

* every hidden figure of every release: k when it is small (denominator 1..k-1, numerator
  or complement below k, zero included), else 2 (nobody derives a hidden value exactly or
  to within one); a hidden count of 0 names nobody and needs nothing;
* every *published class* (atoms that no published figure tells apart) with 1..k-1 persons:
  the differences of published figures that isolate a small group without any table
  having it as a cell (50-59 minus 55-59 by another requester).

Bounds are LP min/max (HiGHS) per connected component of the published equations, rounded
inward. Known feasible points (the truth and every LP optimum found) prove most figures
without a solve. When a round only hid cells, the published equations lost rows and the
attacker's feasible set grew: what the round proved, and every point it found, still holds,
so the next round checks only what is left. When a figure fails, the cheapest published
cell of a new release whose equation is binding (non-zero dual) is hidden and the audit
repeats; what was published before is never changed. A hidden cell of a new release that the
earlier releases already determine exactly (and that is not small) is published instead: it
is public. If no new cell can be hidden and none is public, the request is refused.
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from linkage.disclosure.atoms import COMP, DEN, NUM, Signatures, TableFigures, mix64
from linkage.disclosure.audit import requirement_met
from linkage.disclosure.errors import CANNOT_RELEASE, AuditUnfinished, ProtectionRefused
from linkage.disclosure.reads import Reads, status_can_flip

EPS = 1e-7
WIDTH = 2            # hidden figures that are not small: not derivable to within +-1
PRIMAL_SIMPLEX = 4   # HiGHS simplex_strategy


WORKERS = max(1, min(2, os.cpu_count() or 1))
"""HiGHS models solving the figures of one audit side by side."""

@dataclass
class AuditRelease:
    """One release in the joint model; ``suppressed`` may grow for new releases."""

    release_id: int
    figures: TableFigures
    suppressed: np.ndarray          # bool per cell
    k: int
    measure: str = ""               # numerator measure of a rate table
    reads: Reads | None = None      # what decides a unit's cell (None: anything)
    new: bool = False
    forced: np.ndarray | None = None   # new releases: cells published before (cannot hide)


@dataclass
class JointResult:
    added: dict[int, set[int]] = field(default_factory=dict)   # new release index -> cells
    quantities: int = 0
    solves: int = 0
    rounds: int = 0


def _quantities(rel: AuditRelease, bi: int) -> list[tuple[int, int, int, int]]:
    """(release index, kind, cell, k) of each hidden figure that needs protection."""
    vals = rel.figures.values
    out = []
    for c in np.flatnonzero(rel.suppressed):
        den = int(vals[DEN, c])
        if den >= 1:
            out.append((bi, DEN, int(c), rel.k if den < rel.k else WIDTH))
        if rel.figures.is_rate and den >= 1:
            num, comp = int(vals[NUM, c]), int(vals[COMP, c])
            out.append((bi, NUM, int(c), rel.k if num < rel.k else WIDTH))
            if comp < rel.k:
                out.append((bi, COMP, int(c), rel.k))
    return out


@dataclass(frozen=True)
class Form:
    """One figure as a linear form over the audit's variables: the variables it counts and
    their coefficients (a row of the model's sparse matrices, without a matrix around it:
    an audit reads tens of thousands of them)."""

    indices: np.ndarray
    data: np.ndarray
    width: int


class _Model:
    """The atoms, phantoms and published equations of a set of releases."""

    def __init__(self, releases: Sequence[AuditRelease], signatures: Signatures):
        self.releases = releases
        units = signatures.units
        _, atom_of = np.unique(signatures.sig, return_inverse=True)
        self.n_atoms = int(atom_of.max()) + 1 if len(atom_of) else 0
        self.sizes = np.bincount(atom_of, minlength=self.n_atoms).astype(float)
        local = []
        for rel in releases:
            # the entries of one person per atom (its persons have the same entries)
            m = rel.figures.membership
            person = np.searchsorted(units, m.units)
            atoms = atom_of[person]
            _, first = np.unique(atoms, return_index=True)
            chosen = np.full(self.n_atoms, -1)
            chosen[atoms[first]] = person[first]
            keep = person == chosen[atoms]
            flag = m.flag[keep] if m.flag is not None else None
            local.append((atoms[keep], m.leaf[keep], flag))
        self.local = local
        measures = sorted({r.measure for r in releases if r.figures.is_rate})
        self.phantom: dict[str, np.ndarray] = {}
        n = self.n_atoms
        for name in measures:
            cohort = np.zeros(self.n_atoms, dtype=bool)
            for rel, (ids, _, _) in zip(releases, local):
                if rel.figures.is_rate and rel.measure == name:
                    cohort[ids] = True
            # only releases that count some of the cohort's units can tell their status
            sharing = [rel for rel, (ids, _, _) in zip(releases, local) if cohort[ids].any()]
            if not _status_can_flip(sharing, name):
                cohort[:] = False
            index = np.full(self.n_atoms, -1)
            index[cohort] = np.arange(n, n + int(cohort.sum()))
            n += int(cohort.sum())
            self.phantom[name] = index
        self.n_vars = n
        self.truth = np.zeros(n)
        self.truth[:self.n_atoms] = self.sizes
        self._forms = [self._release_forms(i) for i in range(len(releases))]

    def _role(self, ids: np.ndarray, columns: np.ndarray) -> sp.csr_matrix:
        keep = columns >= 0
        return sp.csr_matrix((np.ones(int(keep.sum())), (np.flatnonzero(keep), columns[keep])),
                             shape=(len(ids), self.n_vars))

    def _release_forms(self, i: int) -> list[sp.csr_matrix]:
        """Per kind, the (cells x variables) matrix of each figure of release i."""
        rel = self.releases[i]
        ids, leaf, flag = self.local[i]
        st = rel.figures.structure
        real = self._role(ids, ids)
        phantoms = {name: self._role(ids, index[ids]) for name, index in self.phantom.items()}
        persons = real + sum(phantoms.values(), sp.csr_matrix((len(ids), self.n_vars)))

        def cells(mask: np.ndarray) -> sp.csr_matrix:
            S = sp.csr_matrix((np.ones(int(mask.sum())), (leaf[mask], np.flatnonzero(mask))),
                              shape=(st.n_inner, len(ids)))
            return (st.A.astype(float) @ S).tocsr()

        den = cells(np.ones(len(ids), dtype=bool)) @ persons
        if flag is None:
            return [den.tocsr()]
        own = phantoms[rel.measure]
        others = persons - own
        with_status, without = cells(flag), cells(~flag)
        num = with_status @ others + without @ own
        comp = without @ others + with_status @ own
        return [den.tocsr(), num.tocsr(), comp.tocsr()]

    def form(self, bi: int, kind: int, cell: int) -> Form:
        matrix = self._forms[bi][kind]
        lo, hi = matrix.indptr[cell], matrix.indptr[cell + 1]
        return Form(matrix.indices[lo:hi], matrix.data[lo:hi], self.n_vars)

    def published(self) -> tuple[sp.csr_matrix, np.ndarray, list[tuple[int, int, int]]]:
        """The published equations, one per distinct (set, kind, measure), with the
        (release, kind, cell) of their first occurrence; earlier releases first."""
        rows, values, sources, seen = [], [], [], set()
        order = sorted(range(len(self.releases)), key=lambda i: self.releases[i].new)
        for bi in order:
            rel = self.releases[bi]
            figs = rel.figures
            for kind in figs.kinds():
                for c in np.flatnonzero(~rel.suppressed):
                    key = (int(figs.hashes[kind, c]), kind, rel.measure if kind else "")
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append(self._forms[bi][kind][int(c)])
                    values.append(float(figs.values[kind, c]))
                    sources.append((bi, kind, int(c)))
        R = sp.vstack(rows, format="csr") if rows else sp.csr_matrix((0, self.n_vars))
        return R, np.asarray(values), sources

    def small_classes(self, R: sp.csr_matrix, k: int) -> list[Form]:
        """Forms of the published classes of 1..k-1 persons (real atoms that no published
        equation separates, with their phantoms)."""
        real = R[:, :self.n_atoms].tocoo()
        sig = np.zeros(self.n_atoms, dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.add.at(sig, real.col, mix64(real.row.astype(np.uint64) + np.uint64(1)))
        _, cls = np.unique(sig, return_inverse=True)
        size = np.bincount(cls, weights=self.sizes)
        out = []
        for c in np.flatnonzero((size >= 1) & (size < k)):
            atoms = np.flatnonzero(cls == c)
            cols = np.concatenate([atoms] + [index[atoms][index[atoms] >= 0] for index in self.phantom.values()])
            out.append(Form(cols, np.ones(len(cols)), self.n_vars))
        return out


def _status_can_flip(releases: Sequence[AuditRelease], measure: str) -> bool:
    """Whether the rate ``measure`` gets phantoms: no release tells who has its status."""
    rates = [r.reads for r in releases if r.figures.is_rate and r.measure == measure]
    if any(reads is None for reads in rates):
        return False
    merged = Reads(status=frozenset().union(*(r.status for r in rates)),
                   cohort=frozenset().union(*(r.cohort for r in rates)))
    return all(status_can_flip(merged, measure, r.reads, r.measure if r.figures.is_rate else "")
               for r in releases)


class _ComponentLPs:
    """HiGHS models, one per connected component of the published equations.

    ``hot``: only the objective changes between solves of one component, so the last basis
    stays primal feasible: primal simplex without presolve starts hot (3x fewer seconds per
    solve at 40 releases). Its optimal duals, though, are another vertex of a degenerate
    dual, and they name worse cells to hide; the binding rows of a failing figure come
    from models with HiGHS's defaults (``cold``), solved only for failures."""

    def __init__(self, R: sp.csr_matrix, values: np.ndarray, n_vars: int, ub: float):
        self.R, self.values, self.ub, self.hot = R, values, ub, True
        nr = R.shape[0]
        pattern = sp.csr_matrix((np.ones(R.nnz), R.indices, R.indptr), shape=R.shape)
        graph = sp.bmat([[None, pattern], [pattern.T, None]], format="csr") if nr else \
            sp.csr_matrix((n_vars, n_vars))
        _, labels = connected_components(graph, directed=False)
        self.row_label = labels[:nr]
        self.var_label = labels[nr:] if nr else labels
        self.models: dict[int, tuple[highspy.Highs, np.ndarray, np.ndarray]] = {}
        self.solves = 0

    def twin(self) -> _ComponentLPs:
        """The same equations and components in models of its own (another thread's)."""
        twin = copy.copy(self)
        twin.models, twin.solves = {}, 0
        return twin

    def cold(self) -> _ComponentLPs:
        """The same equations and components, solved with HiGHS's defaults."""
        twin = copy.copy(self)
        twin.hot, twin.models, twin.solves = False, {}, 0
        return twin

    def _model(self, label: int):
        if label not in self.models:
            rows = np.flatnonzero(self.row_label == label)
            cols = np.flatnonzero(self.var_label == label)
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            h.setOptionValue("threads", 1)
            if self.hot:
                h.setOptionValue("presolve", "off")
                h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            n = len(cols)
            h.addCols(n, np.zeros(n), np.zeros(n), np.full(n, self.ub), 0,
                      np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0))
            if len(rows):
                sub = self.R[rows][:, cols].tocsr()
                h.addRows(len(rows), self.values[rows], self.values[rows], sub.nnz,
                          sub.indptr[:-1].astype(np.int32), sub.indices.astype(np.int32),
                          sub.data)
            self.models[label] = (h, rows, cols)
        return self.models[label]

    def bounds(self, form: Form) -> tuple[float, float, tuple[list, list], np.ndarray,
                                                   np.ndarray]:
        """LP min and max of a form; the binding rows (non-zero duals) and every row of the
        components involved; the optimal points of min and max."""
        lo, lo_binding, component, x_lo = self.optimum(form, 1.0)
        up, up_binding, _, x_up = self.optimum(form, -1.0)
        return lo, up, (lo_binding + up_binding, component), x_lo, x_up

    def optimum(self, form: Form, sign: float) -> tuple[float, list, list, np.ndarray]:
        """The LP min (``sign`` 1) or max (-1) of a form, per component the binding rows and
        every row, and the optimal point."""
        total = 0.0
        binding, component = [], []
        point = np.zeros(form.width)
        vars_, coefs = form.indices, form.data
        for label in np.unique(self.var_label[vars_]):
            h, rows, cols = self._model(int(label))
            mask = self.var_label[vars_] == label
            component.append(rows)
            idx = np.searchsorted(cols, vars_[mask]).astype(np.int32)
            h.changeColsCost(len(cols), np.arange(len(cols), dtype=np.int32), np.zeros(len(cols)))
            h.changeColsCost(len(idx), idx, sign * coefs[mask])
            h.run()
            self.solves += 1
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                raise RuntimeError("the joint attacker LP did not solve: "
                                   + h.modelStatusToString(h.getModelStatus()))
            total += sign * h.getInfo().objective_function_value
            sol = h.getSolution()
            point[cols] = np.asarray(sol.col_value)
            duals = np.asarray(sol.row_dual) if len(rows) else np.zeros(0)
            binding.append(rows[np.abs(duals) > 1e-9])
        return total, binding, component, point


def joint_audit(releases: list[AuditRelease], signatures: Signatures, k: int,
                recheck_earlier: bool = True, deadline: float | None = None) -> JointResult:
    """Audits the new releases (``new=True``) with the earlier ones; hides more cells of
    the new releases until every figure is protected. ``signatures`` must already include
    every release given. Raises ProtectionRefused if nothing new can be hidden to fix it,
    and AuditUnfinished once ``time.monotonic()`` passes ``deadline``."""
    result = JointResult()
    new = [i for i, r in enumerate(releases) if r.new]
    pool: _Points | None = None
    proven: set[bytes] = set()        # forms and requirements met in an earlier round
    while True:
        result.rounds += 1
        check_deadline(deadline)
        model = _Model(releases, signatures)
        if pool is None or pool.width != model.n_vars:
            pool, proven = _Points(model.truth), set()
        R, values, sources = model.published()
        ub = float(max([1.0] + [float(r.figures.values[0].max()) for r in releases]))
        lps = _ComponentLPs(R, values, model.n_vars, ub)
        explain = lps.cold()
        checks = [q for i in new for q in _quantities(releases[i], i)]
        if recheck_earlier:
            checks += [q for i, r in enumerate(releases) if not r.new for q in _quantities(r, i)]
        forms, needs, seen = [], [], set()
        for bi, kind, cell, kq in checks:
            rel = releases[bi]
            key = (int(rel.figures.hashes[kind, cell]), kind, rel.measure if kind else "")
            if key in seen:
                continue
            seen.add(key)
            forms.append(model.form(bi, kind, cell))
            needs.append((int(rel.figures.values[kind, cell]), kq))
        for form in model.small_classes(R, k):
            forms.append(form)
            needs.append((int(round(float(form.data @ model.truth[form.indices]))), k))
        result.quantities += len(forms)
        open_ = [(form, value, kq, requirement) for form, (value, kq) in zip(forms, needs)
                 if (requirement := _requirement_key(form, value, kq)) not in proven]
        solvers = [lps] + [lps.twin() for _ in range(WORKERS - 1)]
        outcomes = _prove_all(solvers, pool, open_, deadline)
        failures = []
        for (form, _, _, requirement), ok in zip(open_, outcomes):
            if ok:
                proven.add(requirement)
            else:
                failures.append(explain.bounds(form)[2])
        result.solves += sum(s.solves for s in solvers) + explain.solves
        if not failures:
            return result
        added = False
        for active in failures:
            cell = _cheapest(releases, sources, active)
            if cell is None:
                continue
            bi, c = cell
            if not releases[bi].suppressed[c]:
                releases[bi].suppressed[c] = True
                result.added.setdefault(bi, set()).add(c)
                added = True
        if not added:
            if not _publish_what_is_public(releases, model, R, values, sources, ub, k, pool):
                raise ProtectionRefused(CANNOT_RELEASE)
            pool = None     # a published row can cut fractional points off: check afresh


def _prove_all(solvers: list[_ComponentLPs], pool: _Points, figures: list, deadline: float | None
               ) -> list[bool]:
    """Per figure (form, value, k, key), whether its requirement holds; the figures are shared
    out among the solvers (one HiGHS model each, solved side by side: HiGHS lets go of
    Python's lock while it solves), with the known points in common. Which figures hold does
    not depend on who checks them, so the outcome is the same as one at a time."""
    outcomes = [False] * len(figures)

    def check(worker: int) -> None:
        for i in range(worker, len(figures), len(solvers)):
            check_deadline(deadline)
            form, value, k, _ = figures[i]
            outcomes[i] = _proven(solvers[worker], pool, form, value, k)

    if len(solvers) == 1 or len(figures) < 2 * len(solvers):
        for worker in range(len(solvers)):
            check(worker)
        return outcomes
    with ThreadPoolExecutor(len(solvers) - 1) as pool_of_threads:
        others = [pool_of_threads.submit(check, w) for w in range(1, len(solvers))]
        check(0)
        for other in others:
            other.result()
    return outcomes


def _proven(lps: _ComponentLPs, pool: _Points, form: Form, value: int, k: int) -> bool:
    """Whether the figure's requirement holds: the known points' reach, then the LP optimum
    of the side they leave short, then of the other side. Each optimum joins the points."""
    lo, up = pool.reach(form)
    if requirement_met(value, k, lo, up):
        return True
    first = -1.0 if lo <= max(value - 1, 0) and up < value + 1 else 1.0
    for sign in (first, -first):
        bound, _, _, point = lps.optimum(form, sign)
        pool.add(point)
        if sign > 0:
            lo = math.ceil(bound - 1e-6)
        else:
            up = math.floor(bound + 1e-6)
        if requirement_met(value, k, lo, up):
            return True
    return False


def _requirement_key(form: Form, value: int, k: int) -> bytes:
    """A figure's form (over the audit's variables) and requirement, as one key."""
    order = np.argsort(form.indices, kind="stable")
    return (np.asarray(form.indices[order], dtype=np.int64).tobytes() + b"|"
            + np.asarray(form.data[order], dtype=float).tobytes() + f"|{value}|{k}".encode())


class _Points:
    """Known feasible points of the attacker's LP (the truth and every optimum found), as
    rows: a figure that some of them put below and above its requirement needs no solve.
    Shared by the threads of one audit (``_prove_all``)."""

    def __init__(self, first: np.ndarray):
        self.width = len(first)
        self._rows = np.zeros((64, len(first)))
        self._rows[0] = first
        self._n = 1
        self._lock = threading.Lock()

    def add(self, point: np.ndarray) -> None:
        with self._lock:
            if self._n == len(self._rows):
                self._rows = np.concatenate([self._rows, np.zeros_like(self._rows)])
            self._rows[self._n] = point
            self._n += 1

    def reach(self, form: Form) -> tuple[int, int]:
        """The least and greatest integer the form takes at the points, rounded inward."""
        values = self.values(form)
        return math.ceil(values.min() - 1e-6), math.floor(values.max() + 1e-6)

    def values(self, form: Form) -> np.ndarray:
        """The form's value at every point."""
        with self._lock:
            rows, n = self._rows, self._n
        return rows[:n, form.indices] @ form.data


def check_deadline(deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise AuditUnfinished()


def _publish_what_is_public(releases: Sequence[AuditRelease], model: _Model, R: sp.csr_matrix,
                            values: np.ndarray, sources: list[tuple[int, int, int]], ub: float,
                            k: int, pool: _Points) -> bool:
    """Publish the hidden cells of new releases whose every figure the earlier releases
    already determine exactly (a ten-year band next to its two published five-year halves):
    hiding them protects nothing and cannot be protected, so it would only refuse the table.
    Their equations follow from earlier ones, so no other bound changes. Small figures are
    never published this way. True if a cell was published. The known points of the whole
    model satisfy the earlier releases' equations too: a figure on which two of them reach two
    integers is not determined, without a solve."""
    earlier = [i for i, (bi, _, _) in enumerate(sources) if not releases[bi].new]
    lps = _ComponentLPs(R[earlier], values[earlier], model.n_vars, ub)
    published = False
    for bi, rel in enumerate(releases):
        if not rel.new:
            continue
        vals = rel.figures.values
        for c in np.flatnonzero(rel.suppressed):
            if any(1 <= vals[kind, c] < k for kind in rel.figures.kinds()):
                continue
            if all(_determined(lps, pool, model.form(bi, kind, int(c)), float(vals[kind, c]))
                   for kind in rel.figures.kinds()):
                rel.suppressed[c] = False
                if rel.forced is None:
                    rel.forced = np.zeros(len(rel.suppressed), dtype=bool)
                rel.forced[c] = True              # public: never hidden again in this audit
                published = True
    return published


def _determined(lps: _ComponentLPs, pool: _Points, form: Form, value: float) -> bool:
    lo, up = pool.reach(form)
    if lo < up:
        return False
    lo, up = lps.bounds(form)[:2]
    return math.ceil(lo - 1e-6) == math.floor(up + 1e-6) == round(value)


def _cheapest(releases, sources, active) -> tuple[int, int] | None:
    """The cheapest published cell of a new release among the binding equations, else
    among every equation of the components involved."""
    for group in active:
        cell = _cheapest_of(releases, sources, np.concatenate(group) if group else [])
        if cell is not None:
            return cell
    return None


def _cheapest_of(releases, sources, rows) -> tuple[int, int] | None:
    best = None
    for r in rows:
        bi, _, c = sources[int(r)]
        rel = releases[bi]
        if not rel.new or rel.suppressed[c] or (rel.forced is not None and rel.forced[c]):
            continue
        cost = (float(rel.figures.values[DEN, c]), bi, c)
        if best is None or cost < best:
            best = cost
    return None if best is None else (best[1], best[2])
