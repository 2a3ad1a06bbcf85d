"""Origin definitions as data (`data/definitions.toml`): loaded, validated and fingerprinted.

Like a clkhash linkage schema, the document has a format version and each definition a
version; the fingerprint of a definition hashes its own entry, the groupings document and the
code table, so that any change that can change a classification changes the fingerprint.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from linkage.origin import rules
from linkage.origin.countries import CountryCode, CountryTable, country_table
from linkage.origin.errors import OriginError
from linkage.origin.groupings import Grouping, groupings_document, shipped_groupings
from linkage.origin.history import Origin

_REQUIRED = ("version", "label", "source", "foreign_when", "scheme", "missing", "country_precedence",
             "categories", "natural_grouping")


@dataclass(frozen=True)
class Definition:
    name: str
    version: str
    fingerprint: str
    label: str
    source: str
    scheme: str
    criteria: tuple[str, ...]
    missing: str
    foreign_grouping: Grouping
    foreign_group: str
    country_precedence: tuple[str, ...]
    reference_category: str
    foreign_category: str
    natural_grouping: str
    caveats: tuple[str, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category this definition can give, in display order."""
        if self.scheme == "by_current_nationality":
            middle: tuple[str, ...] = (self.foreign_category, rules.NON_BELGIAN)
        else:
            middle = (self.foreign_category,)
        return (self.reference_category, *middle, rules.UNDETERMINABLE, rules.UNKNOWN)

    @property
    def foreign_categories(self) -> tuple[str, ...]:
        """The categories of persons of foreign origin under this definition."""
        return self.categories[1:-2]

    def classify_values(self, values: dict[str, CountryCode | None], reference_date: dt.date) -> Origin:
        """Classify resolved codes (keys: rules.FIELDS)."""
        def is_foreign(code: CountryCode) -> bool:
            return self.foreign_grouping.group_of_code(code, reference_date) == self.foreign_group

        if self.scheme == "by_current_nationality":
            category, country = rules.by_current_nationality(
                values, is_foreign, self.missing, self.country_precedence,
                self.reference_category, self.foreign_category)
        else:
            category, country = rules.binary(
                values, self.criteria, is_foreign, self.missing, self.country_precedence,
                self.reference_category, self.foreign_category)
        return Origin(category, country, rules.generation(values))

    def describe(self) -> dict[str, Any]:
        """A JSON-safe description (for listings and for outputs to carry)."""
        return {
            "name": self.name, "version": self.version, "fingerprint": self.fingerprint,
            "label": self.label, "source": self.source, "scheme": self.scheme,
            "criteria": list(self.criteria), "missing": self.missing,
            "foreign_when": {"grouping": self.foreign_grouping.name, "group": self.foreign_group},
            "country_precedence": list(self.country_precedence), "categories": list(self.categories),
            "reference_category": self.reference_category, "natural_grouping": self.natural_grouping,
            "caveats": list(self.caveats),
        }


def _fields(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(f not in rules.FIELDS for f in value):
        raise OriginError(f"definitions.toml: {where} must be a list of {', '.join(rules.FIELDS)}")
    return tuple(value)


def _definition(name: str, spec: dict[str, Any], groupings: dict[str, Grouping], basis: str) -> Definition:
    where = f"definitions.{name}"
    absent = [key for key in _REQUIRED if key not in spec]
    if absent:
        raise OriginError(f"definitions.toml: {where} lacks {', '.join(absent)}")
    if spec["scheme"] not in rules.SCHEMES:
        raise OriginError(f"definitions.toml: {where}.scheme must be one of {', '.join(rules.SCHEMES)}")
    if spec["missing"] not in rules.MISSING_POLICIES:
        raise OriginError(f"definitions.toml: {where}.missing must be one of {', '.join(rules.MISSING_POLICIES)}")
    foreign = spec["foreign_when"]
    grouping = groupings.get(foreign.get("grouping"))
    if grouping is None or foreign.get("group") not in grouping.groups or grouping.otherwise_group is None:
        raise OriginError(f"definitions.toml: {where}.foreign_when must name a grouping with an 'otherwise' "
                          "rule and one of its groups")
    if spec["natural_grouping"] not in groupings:
        raise OriginError(f"definitions.toml: {where}.natural_grouping: no grouping {spec['natural_grouping']!r}")
    if spec["scheme"] == "binary":
        criteria = _fields(spec.get("criteria"), f"{where}.criteria")
    elif "criteria" in spec:
        raise OriginError(f"definitions.toml: {where}: scheme by_current_nationality always uses all four fields")
    else:
        criteria = rules.FIELDS
    names = spec["categories"]
    reference, foreign_category = names.get("reference"), names.get("foreign")
    fixed = {rules.NON_BELGIAN, rules.UNDETERMINABLE, rules.UNKNOWN}
    if not reference or not foreign_category or reference == foreign_category or {reference, foreign_category} & fixed:
        raise OriginError(f"definitions.toml: {where}.categories needs distinct 'reference' and 'foreign' names "
                          f"other than {', '.join(sorted(fixed))}")
    fingerprint = hashlib.sha256(
        json.dumps({"definition": spec, "basis": basis}, sort_keys=True, default=str).encode()
    ).hexdigest()
    return Definition(
        name=name, version=str(spec["version"]), fingerprint=fingerprint, label=spec["label"],
        source=spec["source"], scheme=spec["scheme"], criteria=criteria, missing=spec["missing"],
        foreign_grouping=grouping, foreign_group=foreign["group"],
        country_precedence=_fields(spec["country_precedence"], f"{where}.country_precedence"),
        reference_category=reference, foreign_category=foreign_category,
        natural_grouping=spec["natural_grouping"], caveats=tuple(spec.get("caveats", ())),
    )


def parse_definitions(doc: dict[str, Any], groupings: dict[str, Grouping], basis: str) -> dict[str, Definition]:
    """Validate a definitions document against validated groupings.

    `basis` is a digest of everything else a classification depends on (the groupings
    document and the code table); it goes into every definition's fingerprint.
    """
    if doc.get("format") != 1:
        raise OriginError("definitions.toml: unsupported format (expected format = 1)")
    return {name: _definition(name, spec, groupings, basis) for name, spec in doc["definitions"].items()}


def fingerprint_basis(groupings_doc: dict[str, Any], table: CountryTable) -> str:
    return hashlib.sha256(
        json.dumps({"groupings": groupings_doc, "codes": table.digest}, sort_keys=True, default=str).encode()
    ).hexdigest()


@cache
def shipped_definitions() -> dict[str, Definition]:
    """The definitions shipped with the package, validated."""
    doc = tomllib.loads((resources.files("linkage.origin") / "data" / "definitions.toml").read_text("utf-8"))
    return parse_definitions(doc, shipped_groupings(), fingerprint_basis(groupings_document(), country_table()))
