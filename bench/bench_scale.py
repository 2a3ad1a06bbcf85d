"""Flanders scale on this machine: encoding throughput, link time and peak memory.

Flanders: KSZ 6.7 million persons, VDAB 600,000, education 1.2 million, integration
100,000 (issue #10; targets: encoding >= 40,000 records/s with 2 workers, linking in
<= 10 min and <= 16 GB). The development machine has 2 cores and 24 GB shared by others, so
the benchmark measures two fractions of Flanders and extrapolates: a synthetic population
of KSZ-fraction size (``linkage synth``), the other sources sampled down to their Flanders
share, each encoded with ``linkage encode --workers 2`` (schema belgian-v4, national-number
token) and all four linked with ``linkage match`` at its defaults, each command in its own
process; printed per fraction: encoding rate, link time per stage and peak memory, and F1 and
the recall gap between origin groups per pair with KSZ against the generator's truth. Growth is fitted as time ~ records^b between the two fractions and carried to
Flanders (fraction 1) and to Belgium (KSZ 12 million, the others in proportion), taking the
larger of that power law and a straight line through the two points: these two lines are
extrapolations, not measurements, and say so.

Run: ``.venv/bin/python bench/bench_scale.py`` (1 % and 2 % of Flanders, a few minutes);
``BENCH_SIZE=full`` for 10 % and 20 % (KSZ 670,000 and 1.34 million; about 6 minutes);
``BENCH_FRACTIONS=0.05,1.0`` for any two fractions: 1.0 is Flanders itself, measured rather than
extrapolated (about 35 minutes, 8 GB for the generator; run it under ``../shared/tools/capped``).
``BENCH_EXHAUSTIVE_BUDGET`` and ``BENCH_DASK`` pass ``--exhaustive-budget`` and ``--dask`` to
``linkage match`` (see MATCH_OPTIONS). Files go to bench-out/scale/.
"""

from __future__ import annotations

import csv
import math
import os
import random
import shutil
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import (  # noqa: E402
    ROOT, SOURCES, encode, fresh_folder, match, recall_gap, sampling_gap, score, synth, truth_and_origin,
)

from linkage.extract import read_extract  # noqa: E402
from linkage.matching.groups_csv import read_groups  # noqa: E402

FULL = os.environ.get("BENCH_SIZE") == "full"
FRACTIONS = (tuple(float(f) for f in os.environ["BENCH_FRACTIONS"].split(",")) if "BENCH_FRACTIONS" in os.environ
             else (0.10, 0.20) if FULL else (0.01, 0.02))
FLANDERS = {"ksz": 6_700_000, "vdab": 600_000, "education": 1_200_000, "integration": 100_000}
BELGIUM_KSZ = 12_000_000
KSZ_COVERAGE = 0.995
"""Share of synthetic persons with a KSZ record (``SynthConfig.ksz_coverage``)."""
SEED = 6_062_026
WORKERS = 2
TARGETS = {"encode_rate": 40_000, "link_s": 600, "link_gb": 16}
SCHEMA = "belgian-v4"
MATCH_OPTIONS = tuple(option for name, flag in (("BENCH_EXHAUSTIVE_BUDGET", "--exhaustive-budget"),
                                                ("BENCH_DASK", "--dask"))
                      if name in os.environ for option in (flag, os.environ[name]))
"""``BENCH_EXHAUSTIVE_BUDGET=1e10``: LSH settles what it can beyond that many comparisons per
pair (the path Belgium takes on one machine); ``BENCH_DASK=local:2``: partitions on Dask."""
OUT = ROOT / "bench-out" / "scale"


def sample_csv(path: Path, keep: int, rng: random.Random) -> int:
    """Keep ``keep`` data rows of a synth CSV (one record per line), chosen at random."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    header, rows = lines[0], lines[1:]
    if keep < len(rows):
        rows = [rows[i] for i in sorted(rng.sample(range(len(rows)), keep))]
    path.write_text(header + "".join(rows), encoding="utf-8")
    return len(rows)


def measure(fraction: float, secret: Path) -> dict:
    folder = OUT / f"{fraction:.2f}"
    folder.mkdir(parents=True)
    targets = {source: round(count * fraction) for source, count in FLANDERS.items()}
    step = synth(folder, math.ceil(targets["ksz"] / KSZ_COVERAGE), SEED)
    rng = random.Random(SEED)
    sizes = {source: sample_csv(folder / "synth" / f"{source}.csv", targets[source], rng) for source in SOURCES}
    print(f"\n{fraction:.0%} of Flanders: " + ", ".join(f"{s} {n:,}" for s, n in sizes.items())
          + f" (synth {step.seconds:.0f} s)")
    encoded, encode_s, encode_gb = [], 0.0, 0.0
    for source in SOURCES:
        path, step = encode(folder, source, SCHEMA, secret, workers=WORKERS)
        encoded.append(path)
        encode_s += step.seconds
        encode_gb = max(encode_gb, step.peak_rss_gb)
        print(f"  encode {source:<12} {sizes[source]:>10,} records {step.seconds:7.1f} s "
              f"{sizes[source] / step.seconds:>9,.0f} records/s  peak {step.peak_rss_gb:.2f} GB")
    groups, quality, step = match(folder, encoded, options=MATCH_OPTIONS)
    linked = sum(p["linked"] for p in quality["pairs"])
    print(f"  match  {sum(sizes.values()):>23,} records {step.seconds:7.1f} s  peak {step.peak_rss_gb:.2f} GB"
          f"  ({linked:,} links)")
    stages = quality.get("seconds", {})
    print("    stages: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in stages.items()))
    report_quality(groups, folder, encoded)
    shutil.rmtree(folder / "synth")
    return {"records": sum(sizes.values()), "encode_rate": sum(sizes.values()) / encode_s,
            "encode_gb": encode_gb, "link_s": step.seconds, "link_gb": step.peak_rss_gb}


def report_quality(groups: Path, folder: Path, encoded: list[Path]) -> None:
    """F1 per pair with KSZ and the recall gap between origin groups, against the generator's
    truth for the records that were kept."""
    truth, origin = truth_and_origin(folder)
    kept = {(source, record_id) for source, path in zip(SOURCES, encoded)
            for record_id in read_extract(path, payload=()).record_ids}
    truth = {key: person for key, person in truth.items() if key in kept}
    for result in score(groups, truth, origin):
        if "ksz" in result.sources:
            gap, low, high = recall_gap(result)
            noise, noise90 = sampling_gap(result)
            print(f"    {'-'.join(result.sources):<18} P {result.precision:.4f} R {result.recall:.4f} "
                  f"F1 {result.f1:.4f}  recall gap {gap:.3f} ({low} / {high}; sampling alone "
                  f"{noise:.3f}, 90 % {noise90:.3f})")
    missed = explain_misses(groups, folder, truth, "integration")
    print("    ksz-integration persons missed, by the number the integration record holds: "
          + ", ".join(f"{reason} {count:,}" for reason, count in missed.most_common()))


def explain_misses(groups: Path, folder: Path, truth: dict, source: str) -> Counter:
    """Records of ``source`` not grouped with their person's KSZ record, by what their national
    number is: the person's current one, the BIS number it replaced, another person's, none; and
    a second record of a person whose other record of ``source`` did link."""
    group_of = {(s, rid): gid for gid, s, rid in read_groups(groups) if s in ("ksz", source)}
    in_ksz = {person for (s, _), person in truth.items() if s == "ksz"}
    ksz_group = {truth[key]: gid for key, gid in group_of.items() if key[0] == "ksz"}
    numbers = {}
    with open(folder / "synth" / "persons.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            numbers[row["person_id"]] = (row["insz"], row["bis_previous"])
    held = {}
    with open(folder / "synth" / f"{source}.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            held[row["record_id"]] = "".join(ch for ch in row["insz"] if ch.isdigit())
    found = {truth[key] for key, gid in group_of.items()
             if key[0] == source and ksz_group.get(truth[key]) == gid}
    reasons: Counter = Counter()
    for (s, rid), person in truth.items():
        if s != source or person not in in_ksz or (
                person in ksz_group and group_of.get((s, rid)) == ksz_group[person]):
            continue
        current, replaced = numbers[person]
        number = held.get(rid, "")
        reasons["second record, first linked" if person in found else
                "no number" if not number else
                "BIS number replaced in KSZ" if number == replaced else
                "current number" if number == current else "another person's number"] += 1
    return reasons


def main() -> None:
    print(f"bench_scale: {' and '.join(f'{f:.0%}' for f in FRACTIONS)} of Flanders on {os.cpu_count()} cores, "
          f"{WORKERS} encoding workers ({'full' if FULL else 'quick; BENCH_SIZE=full for 10 % and 20 %'})")
    secret = fresh_folder(OUT)
    small, large = (measure(fraction, secret) for fraction in FRACTIONS)
    growth = {key: math.log(large[key] / small[key]) / math.log(large["records"] / small["records"])
              for key in ("link_s", "link_gb")}
    print(f"\nencoding: {large['encode_rate']:,.0f} records/s with {WORKERS} workers over "
          f"{large['records']:,} records (target >= {TARGETS['encode_rate']:,}: "
          f"{'ok' if large['encode_rate'] >= TARGETS['encode_rate'] else 'MISSED'}), peak {large['encode_gb']:.2f} GB")
    print(f"link growth between the fractions: time ~ records^{growth['link_s']:.2f}, "
          f"memory ~ records^{growth['link_gb']:.2f}")
    flanders = sum(FLANDERS.values())
    for label, records in (("Flanders", flanders), ("Belgium", flanders * BELGIUM_KSZ / FLANDERS["ksz"])):
        measured = abs(large["records"] - records) < 0.01 * records
        seconds, gb = ((large[key] if measured else _extrapolate(small, large, key, records))
                       for key in ("link_s", "link_gb"))
        encode_min = records / large["encode_rate"] / 60
        fits = seconds <= TARGETS["link_s"] and gb <= TARGETS["link_gb"]
        print(f"{'MEASURED' if measured else 'EXTRAPOLATED'} {label} ({records:,.0f} records): "
              f"encoding {encode_min:.0f} min, link "
              f"{seconds / 60:.1f} min and {gb:.1f} GB -> "
              f"{'within' if fits else 'outside'} {TARGETS['link_s'] // 60} min / {TARGETS['link_gb']} GB")


def _extrapolate(small: dict, large: dict, key: str, records: float) -> float:
    """The larger of a straight line through the two measurements (a fixed part plus a part
    per record) and the fitted power law: the cautious reading of two points."""
    slope = (large[key] - small[key]) / (large["records"] - small["records"])
    line = large[key] + slope * (records - large["records"])
    exponent = math.log(large[key] / small[key]) / math.log(large["records"] / small["records"])
    return max(line, large[key] * (records / large["records"]) ** exponent)

if __name__ == "__main__":
    main()
