"""`linkage origin classify` and `linkage origin definitions`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from linkage.origin import definitions, groupings
from linkage.origin.csvfile import OUTPUT_COLUMNS, classify_csv
from linkage.origin.rules import FIELDS


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (use YYYY-MM-DD)") from None


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "origin", help="classify nationality histories by origin; list origin definitions",
        description="Origin (herkomst) classification with versioned definitions.")
    actions = parser.add_subparsers(dest="origin_command", metavar="ACTION")
    actions.required = True

    classify = actions.add_parser(
        "classify", help="add origin columns to a CSV of nationality histories",
        description=f"Reads the columns {', '.join(FIELDS)} (NIS codes such as 150, or ISO 3166 "
                    f"alpha-3 such as BEL; empty = unknown) and writes the input with "
                    f"{', '.join(OUTPUT_COLUMNS)} added. Nothing is written when a row is bad.")
    classify.add_argument("input", metavar="INPUT.csv", help="CSV with the nationality-history columns")
    classify.add_argument("-o", "--output", required=True, metavar="OUTPUT.csv",
                          help="the input with origin columns added (written atomically)")
    classify.add_argument("--definition", required=True, help="origin definition (see `linkage origin definitions`)")
    classify.add_argument("--reference-date", required=True, type=_date, metavar="YYYY-MM-DD",
                          help="date on which EU membership is decided")
    classify.add_argument("--grouping", help="grouping of the origin country (default: the definition's own)")
    classify.add_argument("--delimiter", default=",", help="CSV delimiter (default ,)")
    classify.set_defaults(func=_classify)

    listing = actions.add_parser("definitions", help="list origin definitions and groupings with their country sets")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.add_argument("--reference-date", type=_date, default=dt.date.today(), metavar="YYYY-MM-DD",
                         help="date for the date-aware country sets (default: today)")
    listing.set_defaults(func=_list)


def _classify(args: argparse.Namespace) -> int:
    summary = classify_csv(args.input, args.output, args.definition, args.reference_date,
                           args.grouping, args.delimiter)
    d = summary.definition
    print(f"{summary.rows} rows classified with {d.name} v{d.version} (fingerprint {d.fingerprint[:16]}), "
          f"grouping {summary.grouping.name}, reference date {summary.reference_date} -> {args.output}",
          file=sys.stderr)
    return 0


def _listing(on: dt.date) -> dict:
    return {
        "reference_date": on.isoformat(),
        "definitions": [d.describe() for d in definitions()],
        "groupings": [
            {"name": g.name, "label": g.label, "source": g.source, "date_aware": g.date_aware,
             "groups": {group: [{"key": c.key, "nis": c.nis, "name": c.name_en, "checked": c.checked}
                                for c in g.members(group, on)]
                        for group in g.groups}}
            for g in groupings()
        ],
    }


def _list(args: argparse.Namespace) -> int:
    listing = _listing(args.reference_date)
    if args.json:
        json.dump(listing, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    out = sys.stdout
    print("Origin definitions", file=out)
    for d in listing["definitions"]:
        print(f"\n{d['name']} (version {d['version']}, fingerprint {d['fingerprint'][:16]})\n  {d['label']}", file=out)
        print(f"  source: {d['source']}", file=out)
        print(f"  foreign when the country is in {d['foreign_when']['group']} of grouping "
              f"{d['foreign_when']['grouping']}; criteria: {', '.join(d['criteria'])}", file=out)
        print(f"  origin country: first foreign value of {', '.join(d['country_precedence'])}", file=out)
        print(f"  categories: {', '.join(d['categories'])}; natural grouping: {d['natural_grouping']}", file=out)
        for caveat in d["caveats"]:
            print(f"  caveat: {caveat}", file=out)
    print(f"\nGroupings (country sets on {listing['reference_date']})", file=out)
    for g in listing["groupings"]:
        print(f"\n{g['name']}{' (date-aware)' if g['date_aware'] else ''}: {g['label']}", file=out)
        for group, members in g["groups"].items():
            names = ", ".join(f"{m['nis']} {m['name']}" for m in members) if members else "(origin country not known)"
            print(f"  {group} [{len(members)}]: {names}", file=out)
    return 0
