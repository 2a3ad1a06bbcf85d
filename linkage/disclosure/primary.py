"""Primary suppression rules: which cells are unsafe, and what must stay uncertain.

Every unsafe figure becomes a ``Quantity``: a linear combination of cells whose true value
an attacker must not be able to pin down (see ``audit.requirement``). Rules:

* counts of persons: a cell with 1..k-1 persons is unsafe. A zero is published (it names
  nobody); a cell of k or more is safe.
* group disclosure in a count table, for the dimensions named ``sensitive`` (status-like
  attributes): when a margin's persons all fall in one category of that dimension (the
  category's count equals the margin's and the margin has two or more categories), the
  category cell is unsafe and the attacker must not learn that the other categories are
  empty (their sum, true value 0, must be able to reach k).
* rates (numerator over a denominator of persons): the cell is unsafe when the
  denominator is 1..k-1, or the numerator or the complement (denominator - numerator) is
  below k, zero included (0% or 100% of a group discloses the status of every member).
  An empty cell (denominator 0) is published.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from linkage.disclosure.audit import Quantity
from linkage.disclosure.errors import TableError
from linkage.disclosure.table import TableStructure

COUNT, NUMERATOR = 0, 1


@dataclass
class PrimaryResult:
    primary: np.ndarray                 # bool per cell
    reasons: dict[int, list[str]]
    quantities: list[Quantity]


def _add(result: PrimaryResult, cell: int, reason: str, quantity: Quantity) -> None:
    result.primary[cell] = True
    result.reasons.setdefault(cell, []).append(reason)
    result.quantities.append(quantity)


def count_rules(structure: TableStructure, counts: np.ndarray, k: int,
                sensitive: Sequence[str] = ()) -> PrimaryResult:
    """Threshold rule on person counts, plus group disclosure on ``sensitive`` dimensions."""
    result = PrimaryResult(np.zeros(structure.n_cells, dtype=bool), {}, [])
    for c in np.flatnonzero((counts >= 1) & (counts < k)):
        c = int(c)
        _add(result, c, f"count below {k}",
             Quantity(((COUNT, c, 1),), int(counts[c]), k, c))
    for name in sensitive:
        if name not in structure.names:
            raise TableError(f"sensitive dimension {name!r} is not a dimension of the table")
        d = structure.names.index(name)
        _group_disclosure(structure, counts, k, d, result)
    return result


def _group_disclosure(structure: TableStructure, counts: np.ndarray, k: int, d: int,
                      result: PrimaryResult) -> None:
    dim = structure.dimensions[d]
    nodes = structure.nodes[d]
    pos = {n: i for i, n in enumerate(nodes)}
    parent_of = np.array([pos[dim.parents[n]] if n in dim.parents else len(nodes) - 1
                          for n in nodes[:-1]] + [-1])
    n_children = np.bincount(parent_of[:-1], minlength=len(nodes))
    node_col = structure.cell_nodes[:, d]
    candidates = np.flatnonzero(node_col != len(nodes) - 1)
    for c in candidates:
        c = int(c)
        parent_node = parent_of[node_col[c]]
        if n_children[parent_node] < 2 or counts[c] <= 0:
            continue
        p_nodes = structure.cell_nodes[c].copy()
        p_nodes[d] = parent_node
        p = int(np.ravel_multi_index(tuple(p_nodes), structure.node_counts))
        if counts[p] == counts[c]:
            _add(result, c,
                 f"group disclosure: every person of the {dim.name} margin is in this category",
                 Quantity(((COUNT, p, 1), (COUNT, c, -1)), 0, k, c))


def rate_rules(structure: TableStructure, denominators: np.ndarray, numerators: np.ndarray,
               k: int) -> PrimaryResult:
    """Rate rule: denominator, numerator and complement must each reach k (group
    disclosure for 0% and 100% is the zero case of the numerator/complement rule)."""
    result = PrimaryResult(np.zeros(structure.n_cells, dtype=bool), {}, [])
    complements = denominators - numerators
    for c in np.flatnonzero(denominators > 0):
        c = int(c)
        den, num, comp = int(denominators[c]), int(numerators[c]), int(complements[c])
        if den < k:
            _add(result, c, f"denominator below {k}", Quantity(((COUNT, c, 1),), den, k, c))
        if num == 0:
            _add(result, c, "group disclosure: nobody in the group has the status (rate 0%)",
                 Quantity(((NUMERATOR, c, 1),), 0, k, c))
        elif num < k:
            _add(result, c, f"numerator below {k}", Quantity(((NUMERATOR, c, 1),), num, k, c))
        if comp == 0:
            _add(result, c, "group disclosure: everyone in the group has the status (rate 100%)",
                 Quantity(((COUNT, c, 1), (NUMERATOR, c, -1)), 0, k, c))
        elif comp < k:
            _add(result, c, f"complement (denominator - numerator) below {k}",
                 Quantity(((COUNT, c, 1), (NUMERATOR, c, -1)), comp, k, c))
    return result
