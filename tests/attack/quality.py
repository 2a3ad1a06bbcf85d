"""The attacker's reading of a run's quality figures (``linkage runs --json``).

Per source the run states its records and how many KSZ records were linked to it; per sem
origin category the KSZ records, the linked ones and the linked rate, each withheld
(``null``) when small. Unknowns: per category, KSZ records linked to each source and not.
Every stated figure, every rounded rate (within half its last digit) and the public
withholding rule become constraints; every withheld figure is then bounded by LP/MIP.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from linkage.aggregate.compute import LinkedData
from server import quality as run_quality_figures

from tests.attack.attacker import Finding
from tests.attack.solve import Bounder, broken, intervals

ROUNDING = 0.5e-4
"""Rates are published rounded to four decimals."""


def figures_of(data: LinkedData, reference: dt.date, withhold: bool = True) -> dict[str, Any]:
    """A run's quality figures over ``data`` (each source linked as its entity ids say), as
    the broker computes them; ``withhold=False`` gives every figure (the truth that judges)."""
    sources = sorted(data.tables)
    groups = [np.asarray(data.tables[s]["entity_id"].to_numpy()) for s in sources]
    saved = run_quality_figures.MIN_COUNT
    run_quality_figures.MIN_COUNT = saved if withhold else 0
    try:
        return run_quality_figures.run_quality(sources, groups, {}, {"ksz": data.tables["ksz"]}, reference)
    finally:
        run_quality_figures.MIN_COUNT = saved


def _origin_figures(quality: Mapping[str, Any]) -> dict[str, dict[str, dict]]:
    return quality.get("origin", {}).get("linked_to_ksz_by_origin", {})


def withheld_figures(quality: Mapping[str, Any]) -> int:
    """How many per-origin figures the run withholds."""
    return sum(value is None for by_category in _origin_figures(quality).values()
               for figures in by_category.values() for value in figures.values())


def attack_quality(quality: Mapping[str, Any], truth: Mapping[str, Any]) -> list[Finding]:
    """Withheld figures of ``quality`` the attacker narrows below [a-1, a+1]; ``truth`` is the
    same run's figures without withholding (it only judges)."""
    by_source = _origin_figures(quality)
    categories = sorted({c for by_category in by_source.values() for c in by_category})
    sources = sorted(by_source)
    if not categories:
        return []
    n_cat = len(categories)
    n = n_cat * 2 * len(sources)              # per source, category: linked, not linked

    def column(s: int, c: int, linked: bool) -> int:
        return (s * n_cat + c) * 2 + (0 if linked else 1)

    def row(*columns: int, weights: list[float] | None = None) -> np.ndarray:
        out = np.zeros(n)
        for col, w in zip(columns, weights or [1.0] * len(columns)):
            out[col] += w
        return out

    def records(s: int, c: int) -> np.ndarray:
        return row(column(s, c, True), column(s, c, False))

    constraints = []
    minimum = int(quality.get("min_count", 0))
    ksz_records = quality.get("sources", {}).get("ksz", {}).get("records")
    for s, source in enumerate(sources):
        if s:                                   # every source sees the same KSZ records per category
            constraints += [(records(s, c) - records(0, c), 0, 0) for c in range(n_cat)]
        if ksz_records is not None:
            constraints.append((sum(records(s, c) for c in range(n_cat)), ksz_records, ksz_records))
        pairs = quality.get("pairs", {})
        links = pairs.get(f"ksz~{source}", pairs.get(f"{source}~ksz", {})).get("links")
        if links is not None:
            constraints.append((row(*(column(s, c, True) for c in range(n_cat))), links, links))
        for c, category in enumerate(categories):
            figures = by_source[source].get(category, {})
            linked, total = row(column(s, c, True)), records(s, c)
            for value, what in ((figures.get("ksz_records"), total), (figures.get("linked"), linked)):
                if value is not None:
                    constraints.append((what, value, value))
                elif minimum:
                    constraints.append((what, 0, minimum - 1))
            rate = figures.get("linked_rate")
            if rate is None and figures.get("linked") is not None and minimum:
                constraints.append((row(column(s, c, False)), 0, minimum - 1))
            elif rate is not None:                # linked - rate * records within the rounding
                constraints.append((linked - (rate + ROUNDING) * total, -np.inf, 0))
                constraints.append((linked - (rate - ROUNDING) * total, 0, np.inf))
    targets: dict[tuple, tuple[np.ndarray, int]] = {}
    for s, source in enumerate(sources):
        for c, category in enumerate(categories):
            figures, true = by_source[source].get(category, {}), _origin_figures(truth)[source][category]
            if figures.get("ksz_records") is None:
                targets[(source, category, "ksz_records")] = (records(s, c), true["ksz_records"])
            if figures.get("linked") is None:
                targets[(source, category, "linked")] = (row(column(s, c, True)), true["linked"])
            elif figures.get("linked_rate") is None:
                targets[(source, category, "not linked")] = (
                    row(column(s, c, False)), true["ksz_records"] - true["linked"])
    found = intervals(Bounder(n, constraints), targets)
    out = []
    for key, (_, value) in targets.items():
        low, high = found[key]
        if not low <= value <= high:
            raise AssertionError(f"{key}: true value {value} outside [{low}, {high}]: the model is wrong")
        if broken(value, low, high):
            out.append(Finding("/".join(key), value, low, high))
    return out
