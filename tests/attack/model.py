"""The attacker's linear model: every released figure as a row over atoms of persons.

Atoms are the product of the feature classes (:mod:`tests.attack.features`). Atoms that no
released figure tells apart are merged into one column (their persons can only ever appear
together), so the model stays small: its columns are the distinct ways a person can be
counted by the releases. Releases on several linkage runs: with ``nested_runs`` the
attacker assumes each run holds every person of the run before plus newcomers (next
year's extract), so a run's persons are the earlier run's persons plus a block of
non-negative newcomers; otherwise every run has its own persons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from linkage.aggregate.dimensions import ResolvedDimension, parse_dimension, resolve

from tests.attack.features import Context, Predicate, build_features, release_predicates
from tests.attack.releases import Release, ReleasedTable

TOTAL = "Total"
MAX_ATOMS = 4_000_000


@dataclass(frozen=True)
class FigureId:
    """One released figure: release index, table index, cell index, and which number."""

    release: int
    table: int
    cell: int
    what: str           # "count" (persons or denominator), "numerator" or "complement"


def resolved_dimensions(release: Release) -> list[ResolvedDimension]:
    return [resolve(parse_dimension(name), release.periods, release.reference_date)
            for name in release.dimensions]


def cell_matches(table: ReleasedTable, dims: Sequence[ResolvedDimension]) -> np.ndarray:
    """(cells x leaves) booleans: which leaf cells each cell (margins included) sums."""
    n = len(table.cells)
    matches = np.ones((n, 1), dtype=bool)
    for d, dim in enumerate(dims):
        index = {c: i for i, c in enumerate(dim.categories)}
        chosen = np.zeros((n, len(dim.categories)), dtype=bool)
        for row, cell in enumerate(table.cells):
            category = cell.key[d]
            if category == TOTAL:
                chosen[row] = True
            elif category in index:
                chosen[row, index[category]] = True
            else:
                raise ValueError(f"cell {cell.key} names {category!r}, not a category of {dim.name}")
        matches = (matches[:, :, None] & chosen[:, None, :]).reshape(n, -1)
    return matches


class AtomModel:
    """Rows of every released figure over merged atom columns."""

    def __init__(self, releases: Sequence[Release], *, nested_runs: bool = True, seed: int = 0):
        self.releases = list(releases)
        self.runs = list(dict.fromkeys(r.run for r in self.releases))
        self.nested_runs = nested_runs
        self.dimensions = [resolved_dimensions(r) for r in self.releases]
        self.predicates = [release_predicates(r.population, r.periods, [t.measure for t in r.tables],
                                              dims, r.reference_date)
                           for r, dims in zip(self.releases, self.dimensions)]
        context = Context({p for r in self.releases for p in r.periods},
                          {r.reference_date for r in self.releases})
        everything = [p for per in self.predicates for period in per.values() for p in _all(period)]
        self.features = build_features([p for p in everything if p.attrs], context)
        self._locate = {p.key: (f, j) for f, feat in enumerate(self.features)
                        for j, p in enumerate(feat.predicates)}
        shape = tuple(f.n_classes for f in self.features)
        self.n_atoms = int(np.prod(shape)) if shape else 1
        if self.n_atoms > MAX_ATOMS:
            raise ValueError(f"{self.n_atoms} atoms: the releases are too varied for this attacker")
        self._classes = np.unravel_index(np.arange(self.n_atoms), shape) if shape else ()
        self._matches = [[cell_matches(t, dims) for t in r.tables]
                         for r, dims in zip(self.releases, self.dimensions)]
        self._codes: dict = {}
        self._build(np.random.default_rng(seed))

    # -- per-atom membership -------------------------------------------------------------

    def _coded(self, predicate: Predicate, categories: Sequence | None, atoms: np.ndarray | None
               ) -> np.ndarray:
        """The predicate's output per atom: a boolean, or the index of a dimension's category."""
        def code(value) -> int:
            return bool(value) if categories is None else categories.index(value)

        size = self.n_atoms if atoms is None else len(atoms)
        if not predicate.attrs:
            return np.full(size, code(predicate.evaluate(())), dtype=np.int64)
        key = (predicate.key, None if categories is None else tuple(categories))
        per_class = self._codes.get(key)
        if per_class is None:
            f, j = self._locate[predicate.key]
            per_class = self._codes[key] = np.array([code(v) for v in self.features[f].outputs[j]],
                                                    dtype=np.int64)
        f, _ = self._locate[predicate.key]
        classes = self._classes[f] if atoms is None else self._classes[f][atoms]
        return per_class[classes]

    def _membership(self, r: int, t: int, period: int, atoms: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per atom: in the cohort, in the numerator, and the leaf cell index."""
        spec = self.predicates[r][period]
        cohort_preds, numerator_preds = spec["measures"][self.releases[r].tables[t].measure]
        cohort = self._coded(spec["filter"], None, atoms).astype(bool)
        for p in cohort_preds:
            cohort &= self._coded(p, None, atoms).astype(bool)
        numerator = cohort.copy()
        for p in numerator_preds:
            numerator &= self._coded(p, None, atoms).astype(bool)
        codes = [self._coded(p, list(dim.categories), atoms)
                 for dim, p in zip(self.dimensions[r], spec["dimensions"])]
        shape = tuple(len(d.categories) for d in self.dimensions[r])
        leaf = np.ravel_multi_index(codes, shape) if codes else np.zeros(len(cohort), dtype=np.int64)
        return cohort, numerator, leaf

    def _blocks_of(self, run: str) -> list[int]:
        i = self.runs.index(run)
        return list(range(i + 1)) if self.nested_runs else [i]

    def _build(self, rng: np.random.Generator) -> None:
        n, n_blocks = self.n_atoms, len(self.runs)
        hashes = np.zeros((n_blocks, n), dtype=np.uint64)
        for r, release in enumerate(self.releases):
            blocks = self._blocks_of(release.run)
            for t, matches in enumerate(self._matches[r]):
                weights = rng.integers(1, 2**63, size=(2, matches.shape[0]), dtype=np.uint64)
                per_leaf = matches.T.astype(np.uint64) @ weights.T          # (leaves, 2)
                for period in release.periods:
                    cohort, numerator, leaf = self._membership(r, t, period)
                    h = np.where(cohort, per_leaf[leaf, 0], 0) + np.where(numerator, per_leaf[leaf, 1], 0)
                    for b in blocks:
                        hashes[b] += h.astype(np.uint64)
        flat = hashes.ravel()
        used = np.flatnonzero(flat)
        _, first = np.unique(flat[used], return_index=True)
        chosen = used[np.sort(first)]
        self.column_block, self.column_atom = np.divmod(chosen, n)
        self.n_columns = len(chosen)
        self.rows: dict[FigureId, np.ndarray] = {}
        for r, release in enumerate(self.releases):
            in_run = np.isin(self.column_block, self._blocks_of(release.run))
            atoms = self.column_atom[in_run]
            for t, matches in enumerate(self._matches[r]):
                count = np.zeros((matches.shape[0], self.n_columns), dtype=np.int64)
                numerator = np.zeros_like(count)
                for period in release.periods:
                    cohort, num, leaf = self._membership(r, t, period, atoms)
                    count[:, in_run] += matches[:, leaf] * cohort
                    numerator[:, in_run] += matches[:, leaf] * num
                for c in range(matches.shape[0]):
                    self.rows[FigureId(r, t, c, "count")] = count[c]
                    if release.tables[t].kind == "rate":
                        self.rows[FigureId(r, t, c, "numerator")] = numerator[c]
                        self.rows[FigureId(r, t, c, "complement")] = count[c] - numerator[c]

    def row(self, figure: FigureId) -> np.ndarray:
        return self.rows[figure]

    def figures(self) -> list[FigureId]:
        return list(self.rows)

    def released_value(self, figure: FigureId) -> int | None:
        cell = self.releases[figure.release].tables[figure.table].cells[figure.cell]
        if not cell.published:
            return None
        if figure.what == "count":
            return cell.count
        if cell.numerator is None:
            return None
        return cell.numerator if figure.what == "numerator" else cell.count - cell.numerator


def _all(period_spec: Mapping) -> list[Predicate]:
    out = [period_spec["filter"], *period_spec["dimensions"]]
    for cohort, numerator in period_spec["measures"].values():
        out += [*cohort, *numerator]
    return out

