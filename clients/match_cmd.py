"""``linkage match``: link encoded files offline with the broker's engine; write GROUPS.csv."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from linkage.extract import load_encoded
from linkage.origin import origin_groups
from linkage.origin.rules import FIELDS
from linkage.sources import SOURCES
from linkage.files import write_atomic
from linkage.matching import MatchingError, encoded_set, link
from linkage.matching.groups_csv import write_groups
from linkage.matching.linkage_error import MIN_STRATUM
from server.dask_cluster import partitions

AGE_FIELDS = tuple(sorted({a.name for spec in SOURCES.values() for a in spec.payload if a.role}))
"""The payload columns that give the age rule its years (linkage.matching.ages)."""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "match",
        help="link encoded files (extracts or clkhash JSON) and write GROUPS.csv",
        description=(
            "Link encoded files with the broker's matching engine: exact tokens first, then "
            "CLK similarity, at most one record per source per group. Writes "
            "group_id,source,record_id for every record of a linked group."
        ),
    )
    parser.add_argument("encoded", nargs="+", metavar="ENCODED",
                        help="encoded extract (Parquet) or clkhash JSON file, one per source")
    parser.add_argument("-o", "--output", required=True, metavar="GROUPS.csv", help="groups file to write")
    parser.add_argument("--threshold", type=_threshold, metavar="T",
                        help="Dice threshold in (0, 1]; default: chosen from the score distribution")
    parser.add_argument("--blocking", choices=("auto", "none", "lsh"), default="auto",
                        help="auto: compare all pairs when affordable, else Hamming LSH (default)")
    parser.add_argument("--exhaustive-budget", type=_comparisons, metavar="N",
                        help="comparisons per pair of sources made exhaustively before 'auto' blocks "
                        "(default 4e10, 4e11 with the AVX-512 kernel, times the machines of a --dask cluster)")
    parser.add_argument("--dask", metavar="WHERE",
                        help="run the exhaustive comparisons in partitions on a Dask cluster: local:N "
                        "(N worker processes here) or a scheduler address (tcp://HOST:8786); the same "
                        "groups, and all pairs compared up to the budget times the cluster's machines")
    parser.add_argument("--no-token-veto", action="store_true",
                        help="trust exact-token links even when the CLKs contradict them")
    parser.add_argument("--singletons", action="store_true",
                        help="also write unlinked records, each in a group of its own")
    parser.add_argument("--quality-json", metavar="FILE",
                        help="write the run's quality figures (aggregates only) as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress display")
    parser.set_defaults(func=run)


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is outside (0, 1]; give a Dice score such as 0.8")
    return value


def run(args: argparse.Namespace) -> int:
    with _progress(args.quiet) as report:
        sets, strata = [], []
        for number, path in enumerate(args.encoded):
            report(f"reading {Path(path).name}", number / len(args.encoded))
            extract = _load(path)
            sets.append(encoded_set(extract))
            strata.append(origin_groups(extract.payload, dt.date.today()))
        with partitions(args.dask, args.exhaustive_budget) as (executor, limit):
            result = link(sets, args.threshold, report, blocking=args.blocking,
                          token_veto=not args.no_token_veto, strata=strata,
                          executor=executor, exhaustive_limit=limit)
        report("writing groups", 1.0)
        rows = write_groups(args.output, [s.source for s in sets], [s.record_ids for s in sets],
                            result.group_ids, singletons=args.singletons)
    if args.quality_json:
        _write_json(args.quality_json, result.quality)
    _print_summary(result, rows, args.output)
    return 0


def _comparisons(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of comparisons such as 4e11") from None
    if not 0 <= value < 1e18:
        raise argparse.ArgumentTypeError(f"{text} is not a number of comparisons from 0 to 1e18")
    return int(value)


def _load(path: str):
    try:
        return load_encoded(path, payload=FIELDS + AGE_FIELDS)   # what origin groups and ages need
    except OSError as exc:
        raise MatchingError(f"cannot read {path}: {exc.strerror or exc}") from None


def _write_json(path: str, document: dict) -> None:
    try:
        write_atomic(path, (json.dumps(document, indent=2) + "\n").encode())
    except OSError as exc:
        raise MatchingError(f"cannot write {path}: {exc.strerror}") from None


def _print_summary(result, rows: int, output: str) -> None:
    q = result.quality
    print(f"threshold {result.threshold:.3f} ({result.threshold_origin}: {q['threshold']['reason']})")
    for s in q["sets"]:
        print(f"  {s['source']}: {s['records']:,} records, {s['with_token']:,} with exact token, "
              f"{s['linked']:,} linked")
    for p in q["pairs"]:
        a, b = p["sources"]
        c = p["comparison"]
        model = p.get("model")
        decided = "" if model is None else (
            f"; model: {model['expected_matches']:,.0f} matches expected, "
            + (f"linked from {model['lowest_score_accepted']:.3f} ({model['links_decided_by']})"
               if model.get("lowest_score_accepted") is not None else "none linked by similarity"))
        print(f"  {a}-{b}: {p['linked']:,} linked ({p['exact']:,} exact token, "
              f"{p['similarity']:,} similarity; {c['scored']:,} comparisons, {c['method']}{decided})")
    if q["replaced_numbers_read"]:
        print(f"  {q['replaced_numbers_read']:,} records hold a national number that another source says "
              "was replaced (a former BIS number): read as the number that replaced it")
    if q["token_vetoed_records"]:
        print(f"  {q['token_vetoed_records']:,} records kept out of their exact-token group "
              "(their CLKs contradict the shared national number)")
    for p in q["pairs"]:
        _print_estimate(p)
    conflicts = sum(p["comparison"]["register_conflicts"] for p in q["pairs"]) \
        + q["solver"]["rejected_register_conflict"]
    if conflicts:
        print(f"  {conflicts:,} candidate pairs set aside: their national-register numbers differ")
    linked_groups = sum(n for size, n in q["groups"]["by_size"].items() if size != "1")
    print(f"{linked_groups:,} linked groups, {rows:,} rows written to {output}")


def _print_estimate(pair: dict) -> None:
    """The recall the match model expects for a pair, and per origin group when known."""
    estimate = pair.get("estimated_recall")
    if not estimate:
        return
    a, b = pair["sources"]
    if estimate["recall"] is None:
        print(f"  {a}-{b}: no recall estimate ({estimate['reason']})")
        return
    print(f"  {a}-{b}: estimated recall {estimate['recall']:.4f} "
          f"({estimate['expected_pairs']:,.0f} persons in both expected, "
          f"{estimate['expected_pairs'] - estimate['expected_found']:,.0f} not linked)")
    by = estimate.get("by_stratum")
    if by:
        rates = {group: f["recall"] for group, f in by["strata"].items()
                 if f["recall"] is not None and f["expected_pairs"] >= MIN_STRATUM}
        if not rates:
            return
        low, high = min(rates, key=rates.get), max(rates, key=rates.get)
        flag = "WARNING: " if by["gap_warning"] else ""
        spread = (f"{rates[low]:.4f} in every group" if rates[low] == rates[high] else
                  f"{rates[low]:.4f} ({low}) to {rates[high]:.4f} ({high}), a gap of {100 * by['gap']:.1f} pt")
        print(f"    {flag}by origin group of the {by['side']} record (groups of >= {MIN_STRATUM:.0f} "
              f"persons): {spread}")


@contextmanager
def _progress(quiet: bool) -> Iterator:
    """A progress callback: a rich progress bar on stderr when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        yield lambda stage, fraction: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("starting", total=1.0)

        def report(stage: str, fraction: float) -> None:
            bar.update(task, description=stage, completed=fraction)

        yield report
