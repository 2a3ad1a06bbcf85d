"""Bounds on hidden figures: min and max over every non-negative integer solution consistent
with what was released (HiGHS LP, then a MIP where rounding the LP is not decisive)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import highspy
import numpy as np

INF = math.inf


class Bounder:
    """One LP over the model's columns, re-solved with a new objective per target."""

    def __init__(self, n_columns: int, constraints: Sequence[tuple[np.ndarray, float, float]]):
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        kinf = highspy.kHighsInf
        h.addCols(n_columns, np.zeros(n_columns), np.zeros(n_columns), np.full(n_columns, kinf),
                  0, np.array([], dtype=np.int32), np.array([], dtype=np.int32), np.array([]))
        for row, low, high in constraints:
            idx = np.flatnonzero(row).astype(np.int32)
            h.addRow(low if low > -INF else -kinf, high if high < INF else kinf, len(idx), idx,
                     row[idx].astype(np.float64))
        self.h, self.n = h, n_columns
        self.integer = False
        self.h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise AssertionError("the attacker's model is infeasible: it does not describe the "
                                 f"releases ({h.modelStatusToString(h.getModelStatus())})")

    def _minimum(self, row: np.ndarray) -> float:
        """The least value of row . y the attacker can prove (-inf when unbounded)."""
        h = self.h
        h.changeColsCost(self.n, np.arange(self.n, dtype=np.int32), row.astype(np.float64))
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return -INF
        if self.integer:
            # the dual bound is what the attacker can prove, even when the MIP stops early
            bound = h.getInfo().mip_dual_bound
            return bound if math.isfinite(bound) else -INF
        if status != highspy.HighsModelStatus.kOptimal:
            raise AssertionError(f"attacker LP: {h.modelStatusToString(status)}")
        return h.getInfo().objective_function_value

    def interval(self, row: np.ndarray) -> tuple[float, float]:
        low, high = self._minimum(row), -self._minimum(-row)
        return (math.ceil(low - 1e-6) if low > -INF else -INF,
                math.floor(high + 1e-6) if high < INF else INF)

    def set_integer(self, integer: bool, time_limit: float = 2.0) -> None:
        kind = highspy.HighsVarType.kInteger if integer else highspy.HighsVarType.kContinuous
        self.h.changeColsIntegrality(self.n, np.arange(self.n, dtype=np.int32), np.full(self.n, kind))
        self.h.setOptionValue("time_limit", time_limit if integer else INF)
        self.integer = integer


def broken(truth: int, low: float, high: float) -> bool:
    """Narrower than [a-1, a+1] (cut at 0), or pinned exactly."""
    if low == high:
        return True
    return low > max(truth - 1, 0) or high < truth + 1


def intervals(bounder: Bounder, targets: Mapping[object, tuple[np.ndarray, int]],
              integer_width: float = 6) -> dict[object, tuple[float, float]]:
    """Attacker interval of each target (row, true value); the LP first, then the MIP for
    targets whose rounded LP interval is still safe but narrow."""
    out = {}
    for key, (row, _) in targets.items():
        out[key] = bounder.interval(row)
    close = [key for key, (row, truth) in targets.items()
             if not broken(truth, *out[key]) and out[key][1] - out[key][0] <= integer_width]
    if close:
        bounder.set_integer(True)
        for key in close:
            low, high = bounder.interval(targets[key][0])
            out[key] = (max(out[key][0], low), min(out[key][1], high))
        bounder.set_integer(False)
    return out
