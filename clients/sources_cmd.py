"""``linkage sources``: the sources the broker knows and the CSV columns each expects.

A provider runs it before the first ``linkage encode``: the payload columns listed here must
be in the CSV (``--header`` prints them as a header line to start from); the identifier
columns are the schema's features plus ``--id-column`` and ``--exact-column``.
"""

from __future__ import annotations

import argparse
import json

from linkage.sources import SOURCES, Attribute, SourceSpec, source_spec


def _rules(attribute: Attribute) -> str:
    if attribute.codes == "nationality":
        return "NIS code (150) or ISO 3166 alpha-3 (BEL)"
    if attribute.allowed:
        return "one of " + ", ".join(attribute.allowed)
    if attribute.kind == "int" and (attribute.minimum is not None or attribute.maximum is not None):
        return f"whole number {attribute.minimum}..{attribute.maximum}"
    return {"date": "YYYY-MM-DD", "bool": "1 or 0", "int": "whole number"}.get(
        attribute.kind, f"text matching {attribute.pattern}" if attribute.pattern else "text")


def _as_dict(spec: SourceSpec) -> dict:
    return {"name": spec.name, "description": spec.description, "payload_version": spec.payload_version,
            "payload": [{"column": a.name, "kind": a.kind, "values": _rules(a), "description": a.description}
                        for a in spec.payload]}


def identifier_columns(schema: str) -> list[str]:
    """The CSV columns a linkage schema's features read, in schema order."""
    from linkage.encoding import load_schema
    from linkage.encoding.features import plan_features

    features = plan_features(load_schema(schema).clkhash_schema().fields)
    return list(dict.fromkeys(c for feature in features if feature is not None for c in feature.columns))


def run(args: argparse.Namespace) -> int:
    specs = [source_spec(name) for name in args.names] if args.names else list(SOURCES.values())
    if args.json:
        print(json.dumps([_as_dict(spec) for spec in specs], indent=2, ensure_ascii=False))
        return 0
    identifiers = identifier_columns(args.schema)
    if args.header:
        for spec in specs:
            payload = [a.name for a in spec.payload if a.name not in identifiers]
            print(",".join(["record_id", "insz", *identifiers, *payload]))
        return 0
    for spec in specs:
        print(f"{spec.name}: {spec.description}  [payload version {spec.payload_version}]")
        width = max((len(a.name) for a in spec.payload), default=0)
        for attribute in spec.payload:
            print(f"  {attribute.name:<{width}}  {_rules(attribute)}\n  {'':<{width}}  {attribute.description}")
        print()
    print(f"Identifier columns of the schema {args.schema}: {', '.join(identifiers)}; add the columns you "
          "name with --id-column (record reference) and --exact-column (national number).")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "sources", help="list the sources and the CSV columns each expects",
        description="List each source's payload columns: the columns 'linkage encode --source NAME' "
                    "needs besides the identifiers, with their allowed values.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these sources (default: all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--header", action="store_true",
                        help="print a CSV header line per source: record_id, insz, the schema's "
                        "identifier columns and the payload")
    parser.add_argument("--schema", default="belgian-v4", metavar="SCHEMA",
                        help="linkage schema whose identifier columns to list (default belgian-v4)")
    parser.set_defaults(func=run)
