"""Benchmark: a four-dimensional table over one million linked persons, with disclosure control;
and the difference linkage errors make per origin group, against the generator's truth.

Builds the linked input synthetically here (entity ids are given, as after a linkage run)
with realistic shapes: a KSZ record for everyone, nationality histories drawn from the
origin mix of the Flemish Region, a VDAB registration for a fifth. Then answers

    population = "ksz", period = 2022, measures = ["persons", "employment_rate"],
    dimensions = ["origin_group:sem", "sex", "age_band", "province"]

through :func:`linkage.aggregate.service.answer_request` (exact counts with DuckDB, then
primary and secondary suppression with its audit) and prints the time of each step.

Second part: a synthetic population from ``linkage synth`` (20,000 persons; 3,000 with
``BENCH_QUICK=1``) is encoded with the real schema, linked with the real matching engine,
and two tables are computed over the run and over the truth (``persons.csv``); the
difference per origin group is what linkage errors do to the figures.

Run: ``.venv/bin/python bench/bench_aggregate.py`` (``BENCH_QUICK=1``: 50,000 persons and a
two-dimensional table).
The target is under 2 seconds for the whole answer on the 2-core machine.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from linkage import geography  # noqa: E402
from linkage.aggregate.compute import LinkedData, compute, source_table  # noqa: E402
from linkage.aggregate.truth import compare, format_comparison, truth_linked_data  # noqa: E402
from linkage.encoding.encode import encode_csv  # noqa: E402
from linkage.matching import encoded_set, link  # noqa: E402
from linkage.synth import generate  # noqa: E402
from linkage.aggregate.request import validate_request  # noqa: E402
from linkage.aggregate.service import answer_request  # noqa: E402
from linkage.sources import SEP_CODES, SEP_YEARS  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
PERSONS = 50_000 if QUICK else 1_000_000
SYNTH_PERSONS = 3_000 if QUICK else 20_000
DIMENSIONS = ["origin_group:sem", "sex"] + ([] if QUICK else ["age_band:broad", "region"])
"""Four dimensions at full size; two at the quick size, where 50,000 persons over four
dimensions leave so many small cells that secondary suppression dominates (minutes)."""
TARGET_SECONDS = 2.0

# NIS nationality codes with rough weights for the foreign-origin population of Flanders.
FOREIGN = {
    "129": 14, "354": 12, "262": 8, "128": 4, "124": 5, "139": 5, "106": 3, "111": 3, "103": 2,
    "109": 2, "123": 1.5, "145": 2, "143": 2, "153": 2, "306": 3, "322": 2, "314": 2, "261": 3,
    "254": 2, "251": 2, "207": 3, "218": 2, "214": 2, "513": 1.5, "402": 1,
}


def synthetic_linked_data(n: int, seed: int = 2024) -> LinkedData:
    rng = np.random.default_rng(seed)
    codes = np.array(list(FOREIGN), dtype=object)
    weights = np.array(list(FOREIGN.values()), dtype=float)
    foreign = codes[rng.choice(len(codes), size=n, p=weights / weights.sum())]
    belgian = np.full(n, "150", dtype=object)
    kind = rng.choice(4, size=n, p=[0.72, 0.11, 0.14, 0.03])  # Belgian, non-Belgian, Belgian of foreign origin, gaps
    naturalised = rng.random(n) < 0.5
    current = np.where(kind == 1, foreign, belgian)
    first = np.where((kind == 1) | ((kind == 2) & naturalised), foreign, belgian)
    father = np.where(kind >= 1, foreign, belgian)
    mother = np.where((kind == 1) | ((kind == 2) & (rng.random(n) < 0.6)), foreign, belgian)
    father = np.where((kind == 3) & (rng.random(n) < 0.7), None, father)
    mother = np.where((kind == 3) & (rng.random(n) < 0.3), None, mother)

    municipalities = [m.nis for m in geography.municipalities(dt.date(2025, 1, 1))]
    sep_codes = np.array(SEP_CODES, dtype=object)
    # About 72% at work, 8% job seekers, 18% inactive, 2% unknown (Flemish 20-64 levels).
    share = {"1": 0.72, "2": 0.08, "3": 0.18, "4": 0.02}
    per_class = {c: sum(code[0] == c for code in SEP_CODES) for c in share}
    sep_weights = np.array([share[c[0]] / per_class[c[0]] for c in SEP_CODES])
    ksz = {
        "entity_id": pa.array(np.arange(n, dtype=np.int64)),
        "sex": pa.array(np.where(rng.random(n) < 0.5, "M", "F"), pa.string()),
        "birth_year": pa.array(rng.integers(1935, 2010, n).astype(np.int32)),
        "municipality": pa.array(np.array(municipalities, dtype=object)[rng.integers(0, len(municipalities), n)],
                                 pa.string()),
        "nat_current": pa.array(current, pa.string()),
        "nat_first": pa.array(first, pa.string()),
        "nat_first_father": pa.array(father, pa.string()),
        "nat_first_mother": pa.array(mother, pa.string()),
    }
    for year in SEP_YEARS:
        ksz[f"sep_{year}"] = pa.array(sep_codes[rng.choice(len(sep_codes), n, p=sep_weights / sep_weights.sum())],
                                      pa.string())
    job_seekers = rng.choice(n, n // 5, replace=False)
    start = np.datetime64("2022-01-01") + rng.integers(0, 365, len(job_seekers)).astype("timedelta64[D]")
    exit_ = start + rng.integers(10, 900, len(job_seekers)).astype("timedelta64[D]")
    vdab = {
        "entity_id": pa.array(job_seekers.astype(np.int64)),
        "registration_date": pa.array(start, pa.date32()),
        "exit_date": pa.array(exit_, pa.date32()),
        "exit_reason": pa.array(np.where(rng.random(len(job_seekers)) < 0.55, "work", "other"), pa.string()),
        "education_level": pa.array(np.array(["low", "medium", "high"], dtype=object)[
            rng.integers(0, 3, len(job_seekers))], pa.string()),
    }
    return LinkedData({"ksz": pa.table(ksz), "vdab": pa.table(vdab)}, snapshot="bench")


def timed_answer(data: LinkedData, measures: list[str]) -> None:
    request = validate_request({
        "authorisation": "BENCH", "population": "ksz", "period": 2022, "measures": measures,
        "dimensions": DIMENSIONS, "reference_date": dt.date(2023, 12, 31),
    })
    t0 = time.perf_counter()
    tables = compute(request, data)
    exact = time.perf_counter() - t0
    t0 = time.perf_counter()
    answer = answer_request(request, data, k=5)
    total = time.perf_counter() - t0
    cells = sum(len(t.cells) for t in answer.tables)
    leaves = sum(len(t.counts) for t in tables.values())
    suppressed = sum(c.suppressed for t in answer.tables for c in t.cells)
    verdict = "" if QUICK else (" - within target" if total < TARGET_SECONDS else " - OVER TARGET")
    print(f"\n{', '.join(measures)} by {' x '.join(d.name for d in tables[measures[0]].dimensions)}: "
          f"{leaves:,} leaf cells, {cells:,} cells with margins, {suppressed:,} suppressed")
    print(f"  exact counts (DuckDB): {exact:.2f} s; disclosure control: {total - exact:.2f} s; "
          f"whole answer: {total:.2f} s{verdict}")


def main() -> int:
    t0 = time.perf_counter()
    data = synthetic_linked_data(PERSONS)
    print(f"built {PERSONS:,} linked persons in {time.perf_counter() - t0:.1f} s "
          f"(target: one table answered in < {TARGET_SECONDS:.0f} s at 1,000,000 persons"
          f"{'; QUICK size' if QUICK else ''})")
    # A warm-up call, so that one-off costs (code tables, imports) are not in the figures.
    compute(validate_request({"authorisation": "BENCH", "population": "ksz", "period": 2022,
                              "measures": ["persons"], "dimensions": DIMENSIONS,
                              "reference_date": dt.date(2023, 12, 31)}), data)
    timed_answer(data, ["employment_rate"])
    timed_answer(data, ["persons"])
    timed_answer(data, ["persons", "employment_rate"])
    linkage_effect()
    return 0


LINKAGE_REQUESTS = [
    {"population": "vdab", "period": 2022, "measures": ["persons", "outflow_to_work_12m", "employment_rate"]},
    {"population": "integration", "period": 2021, "measures": ["integration_completion_rate",
                                                              "employment_rate_after_2y"]},
    {"population": "education", "period": 2023, "measures": ["school_delay_rate"]},
]
"""Populations outside KSZ: their origin (and employment) comes through the link to KSZ."""


def linkage_effect() -> None:
    """Tables over a real linkage run against the truth, per SEM origin group."""
    with tempfile.TemporaryDirectory() as folder:
        directory = Path(folder)
        t0 = time.perf_counter()
        generate(SYNTH_PERSONS, 2024, directory)
        extracts = {
            source: encode_csv(directory / f"{source}.csv", "belgian-v1", b"bench-secret" * 3, source=source,
                               id_column="record_id", exact_column="insz")[0]
            for source in ("ksz", "vdab", "integration", "education")
        }
        result = link([encoded_set(e) for e in extracts.values()])
        linked = LinkedData({source: source_table(extracts[source], ids)
                             for source, ids in zip(extracts, result.group_ids)}, "bench-run")
        truth = truth_linked_data(directory)
        print(f"\nlinkage effect: {SYNTH_PERSONS:,} synthetic persons generated, encoded and linked "
              f"in {time.perf_counter() - t0:.1f} s (threshold {result.threshold:.3f}, {result.threshold_origin})")
        for fields in LINKAGE_REQUESTS:
            request = validate_request({
                "authorisation": "BENCH", "dimensions": ["origin_group:sem"],
                "reference_date": dt.date(2024, 12, 31), **fields,
            })
            observed, expected = compute(request, linked), compute(request, truth)
            for name in request.measures:
                print(f"\n{name}, population {request.population} {request.periods[0]}: "
                      "linked run against the truth, by SEM origin group")
                print(format_comparison(compare(observed[name], expected[name], "origin_group:sem:sem_regions")))


if __name__ == "__main__":
    sys.exit(main())
