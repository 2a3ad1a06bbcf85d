"""Linkage quality on the synthetic population, end to end through the public commands:

``linkage synth`` -> ``linkage encode`` (schema belgian-v1) per source -> ``linkage match``
-> GROUPS.csv evaluated against truth.csv: precision, recall and F1 per source pair, recall
per origin group (SEM regions), and the remaining errors by origin group and by the kind of
corruption in the records involved.

Run: ``.venv/bin/python bench/bench_quality.py`` (``BENCH_QUICK=1`` for a small population;
``BENCH_PERSONS`` and ``BENCH_SEED`` override). Files go to bench-out/quality/.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import secrets
import shutil
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clients.cli import main as linkage  # noqa: E402
from linkage.matching.groups_csv import read_groups  # noqa: E402
from linkage.matching.quality import evaluate  # noqa: E402
from linkage.origin import group_of  # noqa: E402

QUICK = os.environ.get("BENCH_QUICK") == "1"
PERSONS = int(os.environ.get("BENCH_PERSONS", 10_000 if QUICK else 100_000))
SEED = int(os.environ.get("BENCH_SEED", 7))
SOURCES = ("ksz", "vdab", "integration", "education")
TARGET_F1 = {("ksz", "vdab"): 0.99, ("ksz", "education"): 0.99, ("ksz", "integration"): 0.97}
TARGET_SPREAD = 0.01
MIN_GROUP = 100
"""Origin groups with fewer true pairs than this are listed but left out of the spread."""
REFERENCE = dt.date(2025, 1, 1)
OUT = Path(__file__).resolve().parents[1] / "bench-out" / "quality"


def run(argv: list[str]) -> None:
    status = linkage(argv)
    if status != 0:
        raise SystemExit(f"linkage {argv[0]} failed with status {status}")


def prepare() -> list[str]:
    """Synthesise and encode; a source that fails to encode is left out (and said so)."""
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    secret = OUT / "linkage.secret"
    secret.write_text(secrets.token_hex(32) + "\n")
    secret.chmod(0o600)
    start = time.perf_counter()
    run(["synth", "--persons", str(PERSONS), "--seed", str(SEED), str(OUT / "synth")])
    print(f"synth: {time.perf_counter() - start:.1f} s")
    encoded = []
    for source in SOURCES:
        start = time.perf_counter()
        target = OUT / f"{source}.parquet"
        status = linkage(["encode", "--schema", "belgian-v1", "--secret-file", str(secret),
                          "--source", source, "--id-column", "record_id", "--exact-column", "insz",
                          "--max-rejected", str(PERSONS), "--quiet",
                          str(OUT / "synth" / f"{source}.csv"), "-o", str(target)])
        if status != 0:
            print(f"encode {source}: FAILED with status {status}; {source} is left out")
            continue
        print(f"encode {source}: {time.perf_counter() - start:.1f} s")
        encoded.append(str(target))
    return encoded


# -- corruption analysis: what differs between a record and the person behind it ------------

def _name(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if c.isalpha())


def _date(text: str) -> tuple[int, int, int] | None:
    text = text.strip()
    if re.fullmatch(r"\d{8}", text):
        return int(text[:4]), int(text[4:6]), int(text[6:])
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", text)
    if match:
        return int(match[1]), int(match[2]), int(match[3])
    match = re.fullmatch(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})", text)
    if match:
        return int(match[3]), int(match[2]), int(match[1])
    return None


def corruptions(record: dict, person: dict) -> set[str]:
    flags = set()
    insz = re.sub(r"\D", "", record.get("insz", ""))
    if not insz:
        flags.add("insz_missing")
    elif insz != person["insz"]:
        flags.add("insz_stale_bis" if insz == person["bis_previous"] else "insz_wrong")
    if _name(record["given_names"]) != _name(person["given_names"]):
        flags.add("given_names")
    if _name(record["surname"]) != _name(person["surname"]):
        flags.add("surname")
    if _date(record["birth_date"]) != _date(person["birth_date"]):
        flags.add("birth_date")
    if record["sex"] != person["sex"]:
        flags.add("sex")
    return flags


def load_truth():
    synth = OUT / "synth"
    truth, records = {}, {}
    with open(synth / "truth.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            truth[(row["source"], row["record_id"])] = row["person_id"]
    persons, origin = {}, {}
    with open(synth / "persons.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            persons[row["person_id"]] = row
            origin[row["person_id"]] = group_of("sem_regions", row["origin_country"] or None, REFERENCE)
    for source in SOURCES:
        with open(synth / f"{source}.csv", newline="") as handle:
            for row in csv.DictReader(handle):
                records[(source, row["record_id"])] = row
    return truth, persons, origin, records


def main() -> None:
    print(f"bench_quality: {PERSONS:,} persons, seed {SEED} ({'quick' if QUICK else 'full'})")
    encoded = prepare()
    sources = tuple(Path(path).stem for path in encoded)
    start = time.perf_counter()
    run(["match", *encoded, "-o", str(OUT / "groups.csv"), "--quality-json", str(OUT / "quality.json"),
         "--quiet"])
    print(f"match: {time.perf_counter() - start:.1f} s")
    quality = json.loads((OUT / "quality.json").read_text())
    truth, persons, origin, records = load_truth()
    groups = list(read_groups(OUT / "groups.csv"))
    encoded_ids = {(s, r) for s in sources for r in _record_ids(s)}
    rejected = sum(1 for s, r in truth if s in sources and (s, r) not in encoded_ids)
    if rejected:
        print(f"note: encode rejected {rejected:,} records; quality is measured on the rest")
    truth = {key: person for key, person in truth.items() if key in encoded_ids}
    results = evaluate(groups, truth, origin, sources)

    print(f"\nthreshold {quality['threshold']['value']} ({quality['threshold']['origin']}: "
          f"{quality['threshold']['reason']})")
    print(f"\n{'pair':<24} {'true':>7} {'linked':>7} {'P':>7} {'R':>7} {'F1':>7} {'target':>7} "
          f"{'R spread':>8}")
    for r in results:
        target = TARGET_F1.get(r.sources)
        spread = _spread(r)
        mark = "" if target is None else (" ok" if r.f1 >= target else " MISSED")
        print(f"{'-'.join(r.sources):<24} {r.true_pairs:>7,} {r.linked_pairs:>7,} {r.precision:>7.4f} "
              f"{r.recall:>7.4f} {r.f1:>7.4f} {target or '':>7} {spread:>8.4f}{mark}")

    print("\nrecall per origin group (SEM regions; persons in both sources)")
    shown = [r for r in results if r.sources[0] == "ksz"]
    labels = sorted({g for r in shown for g in r.recall_by_group})
    print(f"{'group':<24}" + "".join(f"{'-'.join(r.sources):>22}" for r in shown))
    for label in labels:
        cells = []
        for r in shown:
            found, total = r.recall_by_group.get(label, (0, 0))
            cells.append(f"{found / total:.4f} of {total:>6,}" if total else "-")
        print(f"{label:<24}" + "".join(f"{c:>22}" for c in cells))
    spreads = {"-".join(r.sources): round(_spread(r), 4) for r in shown}
    print(f"recall spread between groups with >= {MIN_GROUP} pairs: {spreads} (target <= {TARGET_SPREAD})")

    report_errors(groups, truth, persons, origin, records, sources)


def _record_ids(source: str) -> list[str]:
    import pyarrow.parquet as pq

    return pq.read_table(OUT / f"{source}.parquet", columns=["record_id"]).column(0).to_pylist()


def _spread(result) -> float:
    values = [found / total for found, total in result.recall_by_group.values() if total >= MIN_GROUP]
    return max(values) - min(values) if len(values) > 1 else 0.0


def report_errors(groups, truth, persons, origin, records, sources) -> None:
    """Missed and false links between ksz and each other source, by origin group and by the
    corruption in the non-ksz record (what differs from the person's true identifiers).

    A person is missed when none of their records in the source shares a group with one of
    their ksz records (a duplicate record left out is not a miss: one record per source per
    group is the rule)."""
    group_of_record = {(s, r): g for g, s, r in groups}
    by_person = defaultdict(lambda: defaultdict(list))
    for (source, record_id), person in truth.items():
        by_person[person][source].append(record_id)
    missed, false = Counter(), Counter()
    missed_origin, false_origin = Counter(), Counter()
    for person, holdings in by_person.items():
        ksz_groups = {group_of_record.get(("ksz", r)) for r in holdings.get("ksz", ())} - {None}
        for source in sources[1:]:
            if "ksz" not in holdings or source not in holdings:
                continue
            if any(group_of_record.get((source, r)) in ksz_groups for r in holdings[source]):
                continue
            flags = set().union(*(corruptions(records[(source, r)], persons[person])
                                  for r in holdings[source]))
            missed[(source, "+".join(sorted(flags)) or "clean")] += 1
            missed_origin[(source, origin[person])] += 1
    ksz_person = {g: truth[("ksz", r)] for g, s, r in groups if s == "ksz"}
    for g, source, record_id in groups:
        if source == "ksz" or g not in ksz_person:
            continue
        person = truth[(source, record_id)]
        if ksz_person[g] != person:
            flags = corruptions(records[(source, record_id)], persons[person])
            false[(source, "+".join(sorted(flags)) or "clean")] += 1
            false_origin[(source, origin[person])] += 1
    for title, counts in (("missed links (person in both, not linked)", missed),
                          ("false links (record linked to another person's ksz record)", false)):
        print(f"\n{title}, by corruption of the non-ksz record(s):")
        if not counts:
            print("  none")
        for (source, label), n in counts.most_common(25):
            print(f"  {source:<12} {label:<50} {n:>6,}")
    for title, counts in (("missed links by origin group", missed_origin),
                          ("false links by origin group", false_origin)):
        print(f"\n{title}:")
        if not counts:
            print("  none")
        for (source, label), n in sorted(counts.items()):
            print(f"  {source:<12} {label:<24} {n:>6,}")


if __name__ == "__main__":
    main()
