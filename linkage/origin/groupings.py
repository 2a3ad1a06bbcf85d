"""Groupings of origin countries into explicit, date-aware country sets (`data/groupings.toml`).

A grouping is an ordered list of rules (see the comments in the data file). Historic states
are placed by their successors: in a `countries` rule when all successors are listed there,
in a `member_of` rule when the state has its own membership entry (the GDR) or all its
successors are members on the day. States whose successors fall apart get an explicit
placement in the grouping's `historic` table; the loader checks that every country of the
code table is placed on every date where a membership changes.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from linkage.origin.countries import CountryCode, CountryTable, country_table
from linkage.origin.errors import OriginError

UNKNOWN_GROUP = "unknown"
"""The group of a person whose origin country is not known, in every grouping."""


@dataclass(frozen=True)
class Membership:
    """Date-aware membership of an organisation (the EU): key -> (first day, last day or None)."""

    name: str
    label: str
    source: str
    periods: dict[str, tuple[dt.date, dt.date | None]]
    table: CountryTable

    def is_member(self, key: str, on: dt.date) -> bool:
        period = self.periods.get(key)
        if period is not None:
            start, end = period
            return start <= on and (end is None or on <= end)
        successors = self.table.of_key(key).successors
        return bool(successors) and all(self.is_member(s, on) for s in successors)

    def change_dates(self) -> list[dt.date]:
        """Days on which some membership begins or ends (the day after the last day)."""
        days = set()
        for start, end in self.periods.values():
            days.add(start)
            if end is not None:
                days.add(end + dt.timedelta(days=1))
        return sorted(days)


@dataclass(frozen=True)
class Rule:
    group: str
    countries: frozenset[str] = frozenset()
    member_of: Membership | None = None
    otherwise: bool = False


class Grouping:
    """A named set of groups; `group_of` places a country (NIS code) on a reference date."""

    def __init__(self, name: str, label: str, source: str, rules: tuple[Rule, ...],
                 historic: dict[str, str], table: CountryTable):
        self.name = name
        self.label = label
        self.source = source
        self.rules = rules
        self.historic = historic
        self.table = table
        ordered = [rule.group for rule in rules]
        self.groups: tuple[str, ...] = tuple(dict.fromkeys([*ordered, UNKNOWN_GROUP]))
        self.date_aware = any(rule.member_of is not None for rule in rules)
        self._place_key = lru_cache(maxsize=None)(self._place)

    def __repr__(self) -> str:
        return f"Grouping({self.name!r})"

    @property
    def otherwise_group(self) -> str | None:
        return next((rule.group for rule in self.rules if rule.otherwise), None)

    def group_of(self, country: str | None, on: dt.date) -> str:
        """The group of an origin country given as a NIS code (None: "unknown")."""
        if country is None:
            return UNKNOWN_GROUP
        return self.group_of_code(self.table.get(country), on)

    def group_of_code(self, code: CountryCode, on: dt.date) -> str:
        if code.is_missing:
            return UNKNOWN_GROUP
        if not code.is_country:  # stateless or refugee: a member of no country set
            if self.otherwise_group is None:
                raise OriginError(f"grouping {self.name} has no group for a {code.kind} person")
            return self.otherwise_group
        return self._place_key(code.key, on if self.date_aware else None)

    def _place(self, key: str, on: dt.date | None) -> str:
        if key in self.historic:
            return self.historic[key]
        successors = self.table.of_key(key).successors
        for rule in self.rules:
            if rule.otherwise:
                return rule.group
            if rule.countries:
                if key in rule.countries or (successors and all(s in rule.countries for s in successors)):
                    return rule.group
            elif rule.member_of is not None and on is not None and rule.member_of.is_member(key, on):
                return rule.group
        raise OriginError(
            f"grouping {self.name} places no group for country {key}; add it to a list in groupings.toml"
        )

    def members(self, group: str, on: dt.date) -> list[CountryCode]:
        """The countries (preferred codes) in a group on a date, in NIS order."""
        if group not in self.groups:
            raise OriginError(f"grouping {self.name} has no group {group!r}; its groups are {', '.join(self.groups)}")
        rows = [self.table.of_key(key) for key in self.table.keys()]
        return sorted((row for row in rows if self.group_of_code(row, on) == group), key=lambda r: r.nis)

    def check_dates(self) -> list[dt.date]:
        """Dates on which every placement is checked: before, after and at every membership change."""
        days = {dt.date(1900, 1, 1), dt.date(2100, 1, 1)}
        for rule in self.rules:
            if rule.member_of is not None:
                days.update(rule.member_of.change_dates())
        return sorted(days)


def _date(text: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise OriginError(f"groupings.toml: {where}: {text!r} is not a date (YYYY-MM-DD)") from None


def _memberships(doc: dict[str, Any], table: CountryTable) -> dict[str, Membership]:
    result = {}
    for name, spec in doc.get("memberships", {}).items():
        periods = {}
        for key, (start, end) in spec["members"].items():
            table.of_key(key)
            periods[key] = (_date(start, f"{name}.{key}"), _date(end, f"{name}.{key}") if end else None)
        result[name] = Membership(name, spec["label"], spec.get("source", ""), periods, table)
    return result


def _rule(spec: dict[str, Any], where: str, memberships: dict[str, Membership], keys: set[str]) -> Rule:
    kinds = [k for k in ("countries", "member_of", "otherwise") if k in spec]
    if len(kinds) != 1 or "group" not in spec:
        raise OriginError(f"groupings.toml: {where}: a rule has a group and one of countries, member_of, otherwise")
    if "countries" in spec:
        unknown = sorted(set(spec["countries"]) - keys)
        if unknown:
            raise OriginError(f"groupings.toml: {where}: {', '.join(unknown)} not in the code table")
        return Rule(spec["group"], countries=frozenset(spec["countries"]))
    if "member_of" in spec:
        if spec["member_of"] not in memberships:
            raise OriginError(f"groupings.toml: {where}: no membership {spec['member_of']!r}")
        return Rule(spec["group"], member_of=memberships[spec["member_of"]])
    return Rule(spec["group"], otherwise=True)


def _grouping(name: str, spec: dict[str, Any], memberships: dict[str, Membership], table: CountryTable) -> Grouping:
    keys = set(table.keys())
    rules = tuple(_rule(r, f"{name} rule {i}", memberships, keys) for i, r in enumerate(spec["rules"], 1))
    if any(rule.otherwise for rule in rules[:-1]):
        raise OriginError(f"groupings.toml: {name}: an 'otherwise' rule must come last")
    seen: dict[str, str] = {}
    for rule in rules:
        for key in rule.countries:
            if key in seen:
                raise OriginError(f"groupings.toml: {name}: {key} is listed in both {seen[key]} and {rule.group}")
            seen[key] = rule.group
    historic = dict(spec.get("historic", {}))
    groups = {rule.group for rule in rules}
    for key, group in historic.items():
        if table.of_key(key).kind != "historic" or group not in groups:
            raise OriginError(f"groupings.toml: {name}.historic: {key} = {group!r} is not a historic state and a group")
    grouping = Grouping(name, spec["label"], spec.get("source", ""), rules, historic, table)
    for day in grouping.check_dates():
        for key in keys:
            grouping._place_key(key, day if grouping.date_aware else None)
    return grouping


def parse_groupings(doc: dict[str, Any], table: CountryTable) -> tuple[dict[str, Membership], dict[str, Grouping]]:
    """Validate a groupings document against a code table."""
    if doc.get("format") != 1:
        raise OriginError("groupings.toml: unsupported format (expected format = 1)")
    memberships = _memberships(doc, table)
    groupings = {name: _grouping(name, spec, memberships, table) for name, spec in doc["groupings"].items()}
    return memberships, groupings


def groupings_document() -> dict[str, Any]:
    return tomllib.loads((resources.files("linkage.origin") / "data" / "groupings.toml").read_text("utf-8"))


@cache
def shipped_groupings() -> dict[str, Grouping]:
    """The groupings shipped with the package, validated."""
    return parse_groupings(groupings_document(), country_table())[1]
