"""``linkage registry``: what a statistics request can name.

Populations, measures (with their cohort and numerator in words), dimensions (with their
parameters), age-band sets, origin definitions and groupings: everything ``linkage
aggregate --request`` accepts, from the same registry the broker answers with.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from linkage.aggregate import registry
from linkage.aggregate.conditions import all_words
from linkage.errors import LinkageError

SECTIONS = ("populations", "measures", "dimensions", "age_bands", "definitions", "groupings")


def listing() -> dict[str, list[dict[str, Any]]]:
    """The registry as plain data, one list per section."""
    from linkage.origin.definitions import shipped_definitions
    from linkage.origin.groupings import shipped_groupings

    return {
        "populations": [{"name": name, "label": p.label, "periods": f"{p.first_period}-{p.last_period}",
                         "description": p.period_words} for name, p in registry.POPULATIONS.items()],
        "measures": [{"name": m.name, "label": m.label, "kind": m.kind, "populations": list(m.populations),
                      "cohort": all_words(m.cohort), "numerator": all_words(m.numerator) if m.numerator else "",
                      "description": m.description} for m in registry.MEASURES.values()],
        "dimensions": [{"name": form, "label": kind.label, "description": kind.description}
                       for form, kind in zip(registry._dimension_forms(), registry.DIMENSION_KINDS.values())],
        "age_bands": [{"name": name, "bands": list(registry.age_band_labels(name)),
                       "default": name == registry.DEFAULT_AGE_BANDS} for name in registry.AGE_BAND_SETS],
        "definitions": [{"name": d.name, "label": d.label, "version": d.version, "fingerprint": d.fingerprint,
                         "grouping": d.foreign_grouping.name} for d in shipped_definitions().values()],
        "groupings": [{"name": g.name, "label": g.label, "groups": list(g.groups)}
                      for g in shipped_groupings().values()],
    }


def _print_text(data: dict[str, list[dict[str, Any]]], sections: list[str]) -> None:
    for section in sections:
        print(f"{section.replace('_', ' ').upper()}")
        for item in data[section]:
            extra = {k: v for k, v in item.items() if k not in ("name", "label", "description")}
            print(f"  {item['name']}" + (f"  -  {item['label']}" if item.get("label") else ""))
            if item.get("description"):
                print(f"      {item['description']}")
            for key, value in extra.items():
                if value not in ("", [], False):
                    shown = ", ".join(map(str, value)) if isinstance(value, list) else value
                    print(f"      {key}: {shown}")
        print()
    print(f"registry version {registry.REGISTRY_VERSION}; a request names a population, measures and up to "
          f"{registry.MAX_DIMENSIONS} dimensions (see docs/aggregate.md)")


def run(args: argparse.Namespace) -> int:
    data = listing()
    sections = args.sections or list(SECTIONS)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise LinkageError(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if args.json:
        print(json.dumps({s: data[s] for s in sections}, indent=2, ensure_ascii=False))
    else:
        _print_text(data, sections)
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "registry", help="list measures, dimensions and groupings a request can use",
        description="List what a statistics request can name: populations, measures, dimensions, "
                    "age-band sets, origin definitions and groupings.")
    parser.add_argument("sections", nargs="*", metavar="SECTION",
                        help=f"only these sections ({', '.join(SECTIONS)}; default: all)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=run)
