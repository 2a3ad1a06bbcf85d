"""Quality figures of a linkage run: aggregate counts and rates only.

Linkage errors that differ by origin bias exactly the gap being measured, so besides the
engine's own figures (per source pair, score histogram) a run reports, per source pair,
how many records were linked, and, where the KSZ payload carries the nationality history,
the share of KSZ records linked to each other source per origin category (definition
``sem``). In the origin breakdown, counts below :data:`MIN_COUNT`, and rates whose
numerator or complement is below it, are withheld (``null``), so that the figures can
never single out a small group; figures over whole extracts are given in full. The recall the
engine estimates without truth (``linkage.matching.linkage_error``) is given per source pair
and per origin group of the KSZ record (SEM regions), groups expected to hold fewer than
MIN_COUNT persons in both sources withheld, with a warning when groups differ by more than
1 pt.
"""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from itertools import combinations
from typing import Any, Mapping, Sequence

import numpy as np
import pyarrow as pa

MIN_COUNT = 10
ORIGIN_DEFINITION = "sem"
HISTORY_COLUMNS = ("nat_current", "nat_first", "nat_first_father", "nat_first_mother")


def _count(value: int) -> int | None:
    return int(value) if value >= MIN_COUNT else None


def _rate(part: int, whole: int) -> float | None:
    """A rate, withheld when its numerator or complement is below MIN_COUNT."""
    if part < MIN_COUNT or whole - part < MIN_COUNT:
        return None
    return round(part / whole, 4)


def pair_figures(sources: Sequence[str], groups: Sequence[np.ndarray]) -> dict[str, Any]:
    """Per source: records and share linked to any other source; per pair: links.

    A group holds at most one record per source, so a group id shared by two sources is
    exactly one link between them.
    """
    per_source = {}
    for index, (source, g) in enumerate(zip(sources, groups)):
        others = [other for k, other in enumerate(groups) if k != index]
        linked = int(np.isin(g, np.concatenate(others)).sum()) if others else 0
        per_source[source] = {"records": int(len(g)), "linked": linked,
                              "linked_rate": round(linked / len(g), 4) if len(g) else None}
    pairs = {}
    for (a, g_a), (b, g_b) in combinations(zip(sources, groups), 2):
        links = int(np.intersect1d(g_a, g_b, assume_unique=True).size)
        pairs[f"{a}~{b}"] = {
            "links": links,
            f"rate_of_{a}": round(links / len(g_a), 4) if len(g_a) else None,
            f"rate_of_{b}": round(links / len(g_b), 4) if len(g_b) else None,
        }
    return {"sources": per_source, "pairs": pairs}


def origin_figures(ksz_payload: pa.Table, ksz_groups: np.ndarray, sources: Sequence[str],
                   groups: Sequence[np.ndarray], reference_date: _dt.date) -> dict[str, Any]:
    """Share of KSZ records linked to each other source, per origin category."""
    from linkage.origin import NationalityHistory, classify

    columns = [ksz_payload.column(name).to_pylist() for name in HISTORY_COLUMNS]
    cache: dict[tuple, str] = {}
    categories = []
    for history in zip(*columns):
        if history not in cache:
            cache[history] = classify(ORIGIN_DEFINITION, NationalityHistory(*history), reference_date).category
        categories.append(cache[history])
    category_array = np.array(categories, dtype=object)
    figures: dict[str, Any] = {}
    totals = Counter(categories)
    for source, g in zip(sources, groups):
        if source == "ksz":
            continue
        linked = np.isin(ksz_groups, g)
        linked_by_category = Counter(category_array[linked].tolist())
        figures[source] = {
            category: {
                "ksz_records": _count(total),
                "linked": _count(linked_by_category.get(category, 0)),
                "linked_rate": _rate(linked_by_category.get(category, 0), total),
            }
            for category, total in sorted(totals.items())
        }
    return {"definition": ORIGIN_DEFINITION, "reference_date": reference_date.isoformat(),
            "linked_to_ksz_by_origin": figures}


def estimated_recall(engine_quality: Mapping[str, Any]) -> dict[str, Any]:
    """Per source pair, the recall the engine estimated without truth, and per origin group
    of the KSZ record; a group expected to hold fewer than MIN_COUNT persons in both sources
    is withheld (``null``). The figures are model expectations (fractional), not counts of
    persons."""
    out = {}
    for pair in engine_quality.get("pairs", []):
        estimate = pair.get("estimated_recall")
        if not estimate:
            continue
        key = "~".join(sorted(pair["sources"]))
        if estimate["recall"] is None:
            out[key] = {"recall": None, "reason": estimate["reason"]}
            continue
        figures = {"recall": estimate["recall"], "expected_pairs": _count(round(estimate["expected_pairs"]))}
        by = estimate.get("by_stratum")
        if by:
            figures["by_origin_of"] = by["side"]
            figures["by_origin"] = {group: f["recall"] if f["expected_pairs"] >= MIN_COUNT else None
                                    for group, f in by["strata"].items()}
            figures["gap"], figures["gap_warning"] = by["gap"], by["gap_warning"]
        out[key] = figures
    return out


def _engine_figures(engine_quality: Mapping[str, Any]) -> dict[str, Any]:
    """The engine's own figures, without the per-group estimates (given protected above)."""
    pairs = []
    for pair in engine_quality.get("pairs", []):
        pair = dict(pair)
        if "estimated_recall" in pair:
            pair["estimated_recall"] = {k: v for k, v in pair["estimated_recall"].items() if k != "by_stratum"}
        pairs.append(pair)
    return {**engine_quality, "pairs": pairs} if "pairs" in engine_quality else dict(engine_quality)


def run_quality(sources: Sequence[str], groups: Sequence[np.ndarray], engine_quality: Mapping[str, Any],
                payloads: Mapping[str, pa.Table], reference_date: _dt.date) -> dict[str, Any]:
    quality: dict[str, Any] = {
        "min_count": MIN_COUNT,
        **pair_figures(sources, groups),
        "estimated_recall": estimated_recall(engine_quality),
        "engine": _engine_figures(engine_quality),
    }
    if "ksz" in sources and "ksz" in payloads and set(HISTORY_COLUMNS) <= set(payloads["ksz"].column_names):
        ksz_groups = groups[list(sources).index("ksz")]
        quality["origin"] = origin_figures(payloads["ksz"], ksz_groups, sources, groups, reference_date)
    return quality
