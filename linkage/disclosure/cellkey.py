"""Optional cell-key perturbation (ABS/ONS style), applied after suppression. Off by default.

* Record key: HMAC-SHA256(secret, entity id), first 4 bytes as an integer in [0, 2**32).
  It depends only on the person (the linked entity) and the secret, so it is the same in
  every table and every snapshot.
* Cell key: the sum of the record keys of the persons in the cell, modulo 2**32 (margins:
  the sum of their leaf cells' keys). The same set of persons always has the same key,
  so the same cell gets the same noise in every table: repeating or re-slicing a query
  cannot average the noise away.
* Perturbation table: for an original count i the noise v is drawn (by the cell key) from a
  distribution on -D..D with mean 0 and variance V (maximum entropy), never taking a
  count of ``floor`` or more below ``floor``, and zero staying zero. Counts below the
  floor are not perturbed: in a released table they are suppressed anyway.
* Rates are computed from the perturbed numerator and denominator (a true rate next to a
  perturbed count would let an attacker recover the true count).

Keep D, V and the secret confidential; publish only that small noise is added.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.optimize import brentq, fsolve

from linkage.disclosure.errors import DisclosureError
from linkage.disclosure.result import ProtectedTable
from linkage.disclosure.table import TableStructure

MODULUS = 1 << 32
MIN_SECRET_BYTES = 32


def load_secret(path: str | Path) -> bytes:
    """The cell-key secret from a file (at least 32 bytes; kept out of the command line)."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise DisclosureError(f"cannot read the cell-key secret {path}: {exc.strerror}") from None
    if len(secret) < MIN_SECRET_BYTES:
        raise DisclosureError(f"the cell-key secret in {path} is shorter than "
                              f"{MIN_SECRET_BYTES} bytes; generate a longer random one")
    return secret


def record_key(entity_id: str, secret: bytes) -> int:
    digest = hmac.new(secret, entity_id.encode("utf-8"), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def record_keys(entity_ids: Iterable[str], secret: bytes) -> np.ndarray:
    return np.fromiter((record_key(e, secret) for e in entity_ids), dtype=np.int64)


def cell_key(keys: Iterable[int]) -> int:
    return int(sum(int(k) for k in keys) % MODULUS)


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


def perturb(table: ProtectedTable, leaf_keys: Mapping[tuple[str, ...], int],
            ptable: PerturbationTable,
            numerator_leaf_keys: Mapping[tuple[str, ...], int] | None = None) -> ProtectedTable:
    """Adds cell-key noise to the published values of a protected table.

    ``leaf_keys`` maps each leaf cell to its cell key (sum of its persons' record keys mod
    2**32); margin keys are derived by summation. A rate table needs
    ``numerator_leaf_keys`` (the keys of the persons counted in the numerator).
    """
    if table.is_rate and numerator_leaf_keys is None:
        raise DisclosureError("a rate table needs the numerator's cell keys to be perturbed")
    structure = TableStructure(table.dimensions)
    den_keys = _cell_keys(structure, leaf_keys)
    num_keys = _cell_keys(structure, numerator_leaf_keys) if table.is_rate else None
    cells = []
    for c, cell in enumerate(table.cells):
        if cell.value is None:
            cells.append(cell)
            continue
        value = cell.value + ptable.noise_for(cell.value, int(den_keys[c]))
        numerator = cell.numerator
        if numerator is not None:
            numerator = numerator + ptable.noise_for(numerator, int(num_keys[c]))
            numerator = min(numerator, value)
        cells.append(replace(cell, value=value, numerator=numerator))
    return replace(table, cells=tuple(cells), _index={})


def _cell_keys(structure: TableStructure, leaf_keys: Mapping[tuple[str, ...], int]) -> np.ndarray:
    inner = np.zeros(structure.n_inner, dtype=np.int64)
    for key, value in leaf_keys.items():
        inner[structure.inner_index(key)] = int(value) % MODULUS
    return np.asarray(structure.A.astype(np.int64) @ inner, dtype=np.int64) % MODULUS
