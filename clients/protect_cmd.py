"""``linkage protect``: disclosure control for a table given as leaf cells in a CSV."""

from __future__ import annotations

import argparse
import sys

from linkage.disclosure import DEFAULT_K, ReleaseLedger, TableError, protect
from linkage.disclosure.csvio import read_hierarchy, read_leaf_table, write_table
from linkage.disclosure.protect import METHODS

EXAMPLE = """examples:
  linkage protect --threshold 5 --dimensions origin,sex --count persons table.csv -o out.csv
  linkage protect --dimensions origin,region --count jobseekers --numerator employed \\
      --hierarchy region=municipality_province.csv rates.csv -o out.json

The input has one row per combination of leaf categories (left-out combinations count as
zero). Margins ("Total") and hierarchy levels are computed. The output is the table to
publish: every cell with its status (published or suppressed, never why: a reason would state
or bound the hidden value) and an empty value where suppressed. How many cells were hidden
for which reason is printed here, for you, not written to the output.
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "protect",
        help="protect a table of person counts or rates (suppression + audit)",
        description="Primary suppression (cells of 1..k-1 persons; rates whose numerator, "
        "complement or denominator is below k), secondary suppression over the table with "
        "its margins and hierarchies, and an attacker audit proving every unsafe cell keeps "
        "an interval of at least k.",
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("table", metavar="TABLE.csv", help="leaf cells, UTF-8 CSV with a header")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.csv",
                        help="where to write every cell (.csv, or .json with the audit summary)")
    parser.add_argument("--threshold", type=int, default=DEFAULT_K, metavar="K",
                        help=f"smallest safe number of persons (default {DEFAULT_K})")
    parser.add_argument("--minimum", type=int, default=2, metavar="K",
                        help="refuse a threshold below this (default 2)")
    parser.add_argument("--dimensions", required=True, metavar="A,B[,C]",
                        help="columns holding the categories, in table order")
    parser.add_argument("--count", required=True, metavar="COLUMN",
                        help="column with the number of persons (the denominator of a rate)")
    parser.add_argument("--numerator", metavar="COLUMN",
                        help="column with the numerator: makes it a rate table")
    parser.add_argument("--hierarchy", action="append", default=[], metavar="DIM=FILE.csv",
                        help="child,parent CSV giving a dimension's hierarchy (repeatable)")
    parser.add_argument("--sensitive", action="append", default=[], metavar="DIM",
                        help="status-like dimension: flag group disclosure (everyone of a "
                        "margin in one category); repeatable")
    parser.add_argument("--method", choices=METHODS, default="hypercube",
                        help="secondary suppression: hypercube (default), gauss, or optimal "
                        "(MIP, small tables)")
    parser.add_argument("--coarsen", action="store_true",
                        help="answer one hierarchy level coarser instead of refusing")
    parser.add_argument("--ledger", metavar="FILE",
                        help="release ledger (SQLite) to audit against and record into")
    parser.add_argument("--snapshot", metavar="ID", help="data snapshot id (with --ledger)")
    parser.add_argument("--population", default="", metavar="NAME",
                        help="population/cohort the counts describe (with --ledger)")
    parser.set_defaults(func=run)


def _hierarchies(specs: list[str]) -> dict[str, dict[str, str]]:
    out = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise TableError(f"--hierarchy {spec!r}: write it as DIMENSION=FILE.csv")
        out[name.strip()] = read_hierarchy(path)
    return out


def run(args: argparse.Namespace) -> int:
    names = [n.strip() for n in args.dimensions.split(",") if n.strip()]
    if not names:
        raise TableError("--dimensions names no column; give e.g. --dimensions origin,sex")
    if args.ledger and not args.snapshot:
        raise TableError("--ledger needs --snapshot: the id of the linkage run behind the counts")
    dims, counts, numerators = read_leaf_table(args.table, names, args.count, args.numerator,
                                               _hierarchies(args.hierarchy))
    ledger = ReleaseLedger(args.ledger) if args.ledger else None
    try:
        table = protect(dims, counts, args.threshold, numerators, ledger, args.snapshot,
                        minimum=args.minimum, population=args.population,
                        numerator_measure=args.numerator or "numerator",
                        sensitive=args.sensitive, method=args.method, coarsen=args.coarsen)
    finally:
        if ledger is not None:
            ledger.close()
    write_table(args.output, table, args.count, args.numerator or "numerator")
    tally = table.counts()
    coarser = f"; answered coarser in {', '.join(table.coarsened)}" if table.coarsened else ""
    print(f"linkage protect: {len(table.cells)} cells: {tally['published']} published, "
          f"{tally['primary']} primary, {tally['secondary']} secondary; audit passed "
          f"({table.audit.cells_checked} unsafe cells checked){coarser}", file=sys.stderr)
    return 0
