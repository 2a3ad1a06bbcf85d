"""The perturbation table weighed in bench/bench_cellkey.py."""

import numpy as np
import pytest

from linkage.disclosure.cellkey import MODULUS, PerturbationTable


def test_perturbation_table_rows_are_unbiased_with_the_variance_asked():
    table = PerturbationTable.build(max_noise=2, variance=1.0, floor=5)
    support = np.arange(-2, 3)
    for i, row in enumerate(table.noise):
        assert row.sum() == pytest.approx(1.0)
        assert row @ support == pytest.approx(0.0, abs=1e-8)
        targets = i + support[row > 0]
        assert (targets >= 5).all() if i >= 5 else (targets == i).all()
    assert table.noise[-1] @ support ** 2 == pytest.approx(1.0)
    assert table.noise[0][2] == 1.0                      # zero stays zero


def test_noise_follows_the_table_and_never_goes_below_the_floor():
    table = PerturbationTable.build(2, 1.0, 5)
    keys = np.random.default_rng(0).integers(0, MODULUS, 20000)
    noise = np.array([table.noise_for(50, int(k)) for k in keys])
    assert abs(noise.mean()) < 0.05 and abs(noise.var() - 1.0) < 0.05
    assert all(5 + table.noise_for(5, int(k)) >= 5 for k in keys[:2000])
    assert table.noise_for(3, 12345) == 0
