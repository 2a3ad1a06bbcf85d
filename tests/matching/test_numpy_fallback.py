"""Without the compiled extension the engine falls back to the numpy kernel and says so."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest

from linkage.matching import kernel

from .helpers import population


def test_unbuilt_checkout_warns_and_links_with_numpy(monkeypatch):
    import linkage.matching

    monkeypatch.setitem(sys.modules, "linkage.matching._dice", None)   # import fails
    monkeypatch.delattr(linkage.matching, "_dice", raising=False)
    with pytest.warns(RuntimeWarning, match="not built"):
        fallback = importlib.reload(kernel)
    try:
        assert fallback.available_kernels() == ["numpy"]
        pop = population(21, 300, {"a": (1.0, 0.0, 0.0), "b": (0.5, 0.02, 0.0)})
        a, b = (fallback.as_words(np.asarray(s.clks)) for s in pop.sets)
        ia, ib, _ = fallback.threshold_pairs(a, b, 0.8)
        truth = pop.true_pairs(0, 1)
        assert {(int(i), int(j)) for i, j in zip(ia, ib)} >= truth
    finally:
        monkeypatch.undo()
        importlib.reload(kernel)
