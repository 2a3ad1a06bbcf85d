"""The perturbation table of the cell-key method (ABS TableBuilder, ONS census 2021).

Weighed for the broker in ``bench/bench_cellkey.py`` and not adopted (docs/disclosure.md,
"Cell-key perturbation"): the broker publishes exact figures under suppression audited over
persons. The table is kept for that measurement, so that it can be repeated.

For an original count i the noise v is drawn by a cell key (uniform in [0, 2**32), the sum
of the record keys of the cell's persons) from a distribution on -D..D with mean 0 and
variance V (maximum entropy), never taking a count of ``floor`` or more below ``floor``, and
zero staying zero. Counts below the floor are not perturbed: in a released table they are
suppressed anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq, fsolve

from linkage.disclosure.errors import DisclosureError

MODULUS = 1 << 32


@dataclass(frozen=True)
class PerturbationTable:
    """Noise distributions per original count (rows 0..floor+D; larger counts use the
    last row, whose window -D..D is complete)."""

    max_noise: int
    variance: float
    floor: int
    noise: np.ndarray                # (rows, 2D+1) probabilities of noise -D..D

    @classmethod
    def build(cls, max_noise: int = 2, variance: float = 1.0, floor: int = 5
              ) -> PerturbationTable:
        if max_noise < 1 or variance <= 0 or floor < 1:
            raise DisclosureError("perturbation needs D >= 1, V > 0 and a floor >= 1")
        if variance >= max_noise ** 2:
            raise DisclosureError(f"variance {variance} is too large for noise within "
                                  f"+-{max_noise}; choose V < D**2")
        support = np.arange(-max_noise, max_noise + 1)
        rows = []
        for i in range(floor + max_noise + 1):
            rows.append(_row(i, support, variance, floor))
        return cls(max_noise, variance, floor, np.asarray(rows))

    def noise_for(self, count: int, key: int) -> int:
        if count < self.floor:
            return 0
        row = self.noise[min(count, len(self.noise) - 1)]
        u = key / MODULUS
        index = int(np.searchsorted(np.cumsum(row), u, side="right"))
        return int(min(index, len(row) - 1) - self.max_noise)


def _row(i: int, support: np.ndarray, variance: float, floor: int) -> np.ndarray:
    """Maximum-entropy distribution p(v) ~ exp(a v + b v^2) on the allowed noise values
    with mean 0 and variance V (lowered when the window is cut off below)."""
    out = np.zeros(len(support))
    allowed = (i + support >= floor) if i >= floor else (support == 0)
    lowest = support[allowed].min()
    if lowest >= 0:
        out[support == 0] = 1.0
        return out
    v = support[allowed].astype(float)
    target = min(variance, 0.9 * (-lowest) * v.max())

    def moments(params):
        a, b = params
        w = np.exp(a * v + b * v * v - np.max(a * v + b * v * v))
        p = w / w.sum()
        return p, np.array([p @ v, p @ (v * v) - target])

    if lowest == -v.max():                             # symmetric window: a = 0
        b = brentq(lambda b: moments((0.0, b))[1][1], -50.0, 5.0)
        p = moments((0.0, b))[0]
    else:
        a, b = fsolve(lambda x: moments(x)[1], x0=[0.0, -0.5], xtol=1e-12)
        p = moments((a, b))[0]
    out[allowed] = p
    return out
