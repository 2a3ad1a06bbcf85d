"""Disclosure-control figures.

1. Information loss: secondary suppressions of the hypercube, gauss and auto methods relative
   to the optimal MIP, over random small tables (mean and max ratio of the suppressed cost,
   value + 1 per cell, which the MIP minimises, and of the number of secondary cells), and
   the slowest table per method. ``auto`` is what the broker uses: hypercubes, then the MIP
   warm-started by them within fixed limits for tables of up to 1,000 cells.
2. Speed: time to protect and audit tables of about 2,000 cells with margins (2-, 3- and
   4-dimensional) and a 4-dimensional table of about 4,000 cells.

Run: ``.venv/bin/python bench/bench_disclosure.py`` (``BENCH_QUICK=1`` for small sizes).
"""

from __future__ import annotations

import itertools
import os
import statistics
import time

import numpy as np

from linkage.disclosure import Dimension, ProtectionRefused, protect

QUICK = os.environ.get("BENCH_QUICK") == "1"


def random_table(rng, shape, mean, hierarchy=False):
    dims = []
    for d, n in enumerate(shape):
        cats = [f"d{d}c{i}" for i in range(n)]
        parents = {}
        if hierarchy and n >= 4:
            parents = {c: f"d{d}g{i % 2}" for i, c in enumerate(cats)}
        dims.append(Dimension(f"dim{d}", cats, parents))
    keys = itertools.product(*(d.categories for d in dims))
    values = rng.poisson(mean, int(np.prod(shape)))
    return dims, {k: int(v) for k, v in zip(keys, values)}


def loss(table, counts_by_key):
    secondary = [c for c in table.cells if c.status == "secondary"]
    return len(secondary), sum(counts_by_key[c.key] + 1 for c in secondary)


def true_values(dims, table, counts):
    from linkage.disclosure.table import TableStructure
    st = TableStructure(dims)
    inner = np.zeros(st.n_inner, dtype=np.int64)
    for key, v in counts.items():
        inner[st.inner_index(key)] = v
    values = st.cell_values(inner)
    return {st.key(c): int(values[c]) for c in range(st.n_cells)}


def quality():
    rng = np.random.default_rng(2026)
    shapes = [((5, 4), False), ((6, 5), True), ((4, 3, 3), False), ((4, 4, 3), True)]
    per_shape = 3 if QUICK else 12
    ratios = {m: {"cost": [], "count": [], "seconds": []} for m in ("hypercube", "gauss", "auto")}
    for shape, hierarchy in shapes:
        for _ in range(per_shape):
            dims, counts = random_table(rng, shape, mean=6.0, hierarchy=hierarchy)
            try:
                best = protect(dims, counts, k=5, method="optimal")
            except ProtectionRefused:
                continue
            truth = true_values(dims, best, counts)
            n_opt, cost_opt = loss(best, truth)
            if n_opt == 0:
                continue
            for method in ratios:
                start = time.perf_counter()
                n, cost = loss(protect(dims, counts, k=5, method=method), truth)
                ratios[method]["seconds"].append(time.perf_counter() - start)
                ratios[method]["cost"].append(cost / cost_opt)
                ratios[method]["count"].append(n / n_opt)
    print(f"information loss vs optimal MIP ({len(ratios['gauss']['cost'])} random tables, "
          "2-D and 3-D, some with hierarchies, k=5)")
    for method, r in ratios.items():
        print(f"  {method:9s} suppressed cost ratio mean {statistics.mean(r['cost']):.3f} "
              f"max {max(r['cost']):.3f} ({sum(c > 1.2 for c in r['cost'])} above 1.2); secondary "
              f"cells ratio mean {statistics.mean(r['count']):.3f} max {max(r['count']):.3f}; "
              f"slowest table {max(r['seconds']):.2f} s")


def speed():
    rng = np.random.default_rng(7)
    cases = [((44, 44), 6.0), ((14, 11, 9), 6.0), ((8, 6, 5, 4), 8.0), ((10, 8, 6, 5), 10.0)]
    if QUICK:
        cases = [((20, 20), 6.0), ((6, 5, 4, 3), 8.0)]
    print("time to protect + audit (auto method, as the broker uses it; k=5, median of 3 runs)")
    for shape, mean in cases:
        dims, counts = random_table(rng, shape, mean)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            table = protect(dims, counts, k=5)
            times.append(time.perf_counter() - start)
        tally = table.counts()
        print(f"  {'x'.join(map(str, shape)):>10s}: {len(table.cells):5d} cells, "
              f"{tally['primary']:4d} primary, {tally['secondary']:4d} secondary: "
              f"{statistics.median(times):.3f} s  (audit: {table.audit.quantities_checked} "
              f"checks, {table.audit.integer_bounds} MIP, {table.audit.augmentations} added)")


if __name__ == "__main__":
    speed()
    quality()
