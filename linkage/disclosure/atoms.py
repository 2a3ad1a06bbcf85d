"""The release model over persons: units, the person sets a table's cells count, and atoms.

A *unit* is one person (a 64-bit person key that is stable across runs; see
``docs/disclosure.md``). A released table counts, per cell, an exact multiset of units: the
denominator (persons in the cohort with the cell's categories) and, for a rate, the numerator
and its complement; a person is counted once per period of a table pooled over several years.
Whatever population, band set, grouping, definition, reference date, period list or measure
produced a cell, that multiset is what it counts, so two cells of any two releases are related
exactly by it: the employment rate of 2023 and the employment rate two years after 2021 count
the same persons with the same end-2023 position.

*Atoms* are the common refinement of every release: the persons with the same membership
(per release, the leaf cell and numerator flag of each of their entries) across all
releases. Each person keeps a 64-bit hash of their membership signature, updated per
release, so a new release only splits the atoms it touches. A set's identity is an
order-free hash of its entries (sum of mixed person keys modulo 2**64, with its size): the
same persons give the same cell, in any table, under any name.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from linkage.disclosure.table import TableStructure

DEN, NUM, COMP = 0, 1, 2
KINDS = ("den", "num", "comp")
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a bijection of uint64 that scatters nearby ids."""
    z = np.asarray(x, dtype=np.uint64).copy()
    with np.errstate(over="ignore"):
        z ^= z >> np.uint64(30)
        z *= _M1
        z ^= z >> np.uint64(27)
        z *= _M2
        z ^= z >> np.uint64(31)
    return z


def unit_ids(persons: np.ndarray, periods: np.ndarray) -> np.ndarray:
    """An id per (person key, period): a person is counted at most once per period."""
    with np.errstate(over="ignore"):
        return mix64(np.asarray(persons, dtype=np.uint64)
                     ^ mix64(np.asarray(periods, dtype=np.uint64) + np.uint64(0x9E3779B97F4A7C15)))


@dataclass(frozen=True)
class Membership:
    """The entries one table counts: each entry's person, inner (leaf) cell and, for a rate
    table, whether it is in the numerator. A person has one entry per period counted."""

    units: np.ndarray             # uint64 person keys (repeated across periods)
    leaf: np.ndarray              # int64 inner-cell index (TableStructure order)
    flag: np.ndarray | None = None


def _set_hashes(structure: TableStructure, leaf: np.ndarray, units: np.ndarray) -> np.ndarray:
    """Per cell, the hash of the set of ``units`` under it (sum of mixed ids mod 2**64,
    with the set size folded in)."""
    h = mix64(units)
    lo = np.bincount(leaf, weights=(h & np.uint64(0xFFFFFFFF)).astype(np.float64),
                     minlength=structure.n_inner)
    hi = np.bincount(leaf, weights=(h >> np.uint64(32)).astype(np.float64),
                     minlength=structure.n_inner)
    n = np.bincount(leaf, minlength=structure.n_inner).astype(np.float64)
    A = structure.A.astype(np.float64)
    lo_c = (A @ lo).astype(np.uint64)       # exact: < 2**32 * units < 2**53
    hi_c = (A @ hi).astype(np.uint64)
    n_c = (A @ n).astype(np.uint64)
    with np.errstate(over="ignore"):
        total = (hi_c << np.uint64(32)) + lo_c
        return mix64(total ^ mix64(n_c))


@dataclass
class TableFigures:
    """Every figure of one table as a set of units: ``hashes[kind, cell]`` and
    ``values[kind, cell]`` (denominator, numerator, complement; counts use only den)."""

    structure: TableStructure
    membership: Membership

    @cached_property
    def is_rate(self) -> bool:
        return self.membership.flag is not None

    @cached_property
    def values(self) -> np.ndarray:
        st, m = self.structure, self.membership
        den = st.cell_values(np.bincount(m.leaf, minlength=st.n_inner))
        if not self.is_rate:
            return den[None, :]
        num = st.cell_values(np.bincount(m.leaf[m.flag], minlength=st.n_inner))
        return np.stack([den, num, den - num])

    @cached_property
    def hashes(self) -> np.ndarray:
        st, m = self.structure, self.membership
        den = _set_hashes(st, m.leaf, m.units)
        if not self.is_rate:
            return den[None, :]
        f = m.flag
        return np.stack([den, _set_hashes(st, m.leaf[f], m.units[f]),
                         _set_hashes(st, m.leaf[~f], m.units[~f])])

    def kinds(self) -> range:
        return range(3 if self.is_rate else 1)


def signature_step(release_id: int, membership: Membership) -> np.ndarray:
    """The hash each unit of a release contributes to its membership signature."""
    code = membership.leaf.astype(np.uint64) * np.uint64(2)
    if membership.flag is not None:
        code = code + membership.flag.astype(np.uint64)
    with np.errstate(over="ignore"):
        return mix64(code + mix64(np.full(len(code), release_id + 1, dtype=np.uint64)))


def persons_of(memberships: Iterable[Membership]) -> np.ndarray:
    """The persons the memberships count, sorted, each once."""
    return np.unique(np.concatenate([np.zeros(0, dtype=np.uint64)]
                                    + [m.units for m in memberships]))


class Signatures:
    """Per person, the hash of their membership across every release recorded so far;
    persons with equal hashes form one atom. Updating with a release touches only its persons."""

    def __init__(self) -> None:
        self.units = np.zeros(0, dtype=np.uint64)     # sorted
        self.sig = np.zeros(0, dtype=np.uint64)

    def copy(self) -> Signatures:
        out = Signatures()
        out.units, out.sig = self.units.copy(), self.sig.copy()
        return out

    def subset(self, keep: np.ndarray) -> Signatures:
        """The signatures of the units ``keep`` (bool per unit) selects."""
        out = Signatures()
        out.units, out.sig = self.units[keep], self.sig[keep]
        return out

    def add(self, release_id: int, membership: Membership) -> None:
        persons, entry_person = np.unique(membership.units, return_inverse=True)
        new = np.setdiff1d(persons, self.units, assume_unique=True)
        if len(new):
            units = np.concatenate([self.units, new])
            sig = np.concatenate([self.sig, np.zeros(len(new), dtype=np.uint64)])
            order = np.argsort(units, kind="stable")
            self.units, self.sig = units[order], sig[order]
        step = np.zeros(len(persons), dtype=np.uint64)      # a person's entries, order-free
        with np.errstate(over="ignore"):
            np.add.at(step, entry_person, signature_step(release_id, membership))
            pos = np.searchsorted(self.units, persons)
            self.sig[pos] = mix64(self.sig[pos] ^ mix64(step))

    def positions(self, units: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.units, units)
