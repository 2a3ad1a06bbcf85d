"""The secondary-suppression problem of one table: what every method is given.

A *pattern* is a bool per cell (True = suppressed). A method returns a pattern that keeps
``fixed`` cells suppressed and ``forced`` cells published, and tries to minimise the
information loss: the sum of ``cost`` over the cells it suppresses in addition to
``fixed``. The cost of a cell is its number of persons plus one, so small cells are hidden
before large margins and an empty cell still costs something.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from linkage.disclosure.audit import Quantity
from linkage.disclosure.table import TableStructure


def cell_cost(persons: np.ndarray) -> np.ndarray:
    """Information loss of suppressing each cell: its persons plus one."""
    return persons.astype(np.float64) + 1.0


@dataclass(frozen=True)
class SuppressionProblem:
    structure: TableStructure
    values: np.ndarray                # (measures, cells) true values; measure 0 is persons
    quantities: tuple[Quantity, ...]  # unsafe figures of this table
    fixed: np.ndarray                 # bool per cell: suppressed whatever (primary, or before)
    forced: np.ndarray                # bool per cell: published whatever (published before)
    cost: np.ndarray                  # float per cell, see ``cell_cost``

    @property
    def ub(self) -> float:
        """The attacker's upper bound on any cell: the population total."""
        return float(self.values[0].max())

    def loss(self, pattern: np.ndarray) -> float:
        """Information loss of a pattern: the cost of its cells beyond ``fixed``."""
        return float(self.cost[pattern & ~self.fixed].sum())
