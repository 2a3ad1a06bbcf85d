"""Belgian municipalities by NIS (REFNIS) code, date-aware across the 2019 and 2025 mergers.

`data/municipalities.csv` has every municipality code in force on or after 1 January 1995
(when Brabant was split, so that every code since has one province): its names, province
(empty in Brussels), region, validity and, for a code that ended, the code it was merged
into or renumbered to. `data/areas.csv` names the regions and provinces.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from linkage.errors import LinkageError

COVERAGE_START = dt.date(1995, 1, 1)
FLEMISH_REGION = "02000"
_NIS = re.compile(r"[0-9]{5}")


class GeographyError(LinkageError, ValueError):
    """A municipality code or date the table cannot answer for."""


@dataclass(frozen=True)
class Area:
    level: str  # "region" or "province"
    nis: str
    name: str
    name_fr: str
    parent: str | None


@dataclass(frozen=True)
class Municipality:
    nis: str
    name: str
    province: str | None  # None in the Brussels-Capital Region, which has no province
    region: str
    name_fr: str = ""
    valid_from: dt.date | None = None  # None: in force since before COVERAGE_START
    valid_to: dt.date | None = None  # None: still in force
    successor: str | None = None
    checked: str = ""

    def in_force(self, on: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (self.valid_to is None or on <= self.valid_to)


@dataclass(frozen=True)
class Hierarchy:
    """Municipalities in force on a date under their provinces and regions, for a table dimension.

    `categories` are the municipality codes (leaves) in display order; `parents` maps each
    municipality to its province (to its region in Brussels) and each province to its region;
    `names` gives the Dutch name of every code.
    """

    categories: tuple[str, ...]
    parents: dict[str, str]
    names: dict[str, str]


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _data(name: str) -> list[dict[str, str]]:
    text = (resources.files("linkage.geography") / "data" / name).read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def areas() -> dict[str, Area]:
    """Regions and provinces by NIS code."""
    return {r["nis"]: Area(r["level"], r["nis"], r["name_nl"], r["name_fr"], r["parent"] or None)
            for r in _data("areas.csv")}


@cache
def _table() -> dict[str, Municipality]:
    table = {
        r["nis"]: Municipality(
            nis=r["nis"], name=r["name_nl"], province=r["province"] or None, region=r["region"],
            name_fr=r["name_fr"], valid_from=_date(r["valid_from"]), valid_to=_date(r["valid_to"]),
            successor=r["successor"] or None, checked=r["checked"],
        )
        for r in _data("municipalities.csv")
    }
    known = areas()
    for m in table.values():
        if m.region not in known or (m.province is not None and known[m.province].parent != m.region):
            raise GeographyError(f"municipality table: {m.nis} has an unknown province or region")
        if (m.valid_to is None) != (m.successor is None) or (m.successor and m.successor not in table):
            raise GeographyError(f"municipality table: {m.nis} must have a successor exactly when it ended")
    return table


def _lookup(nis: str) -> Municipality:
    if not isinstance(nis, str) or not _NIS.fullmatch(nis):
        raise GeographyError("a municipality NIS code has five digits (for example 11002 for Antwerpen)")
    try:
        return _table()[nis]
    except KeyError:
        raise GeographyError(
            f"{nis} is not a Belgian municipality code in force on or after {COVERAGE_START}"
        ) from None


def _check_date(on: dt.date) -> None:
    if on < COVERAGE_START:
        raise GeographyError(f"the municipality table covers {COVERAGE_START} onwards; {on} is earlier")


def municipality(nis: str, on: dt.date) -> Municipality:
    """The municipality with this code on a date; an error if the code was not in force then."""
    _check_date(on)
    found = _lookup(nis)
    if not found.in_force(on):
        period = f"{found.valid_from or 'before ' + str(COVERAGE_START)} to {found.valid_to or 'now'}"
        raise GeographyError(f"municipality code {nis} ({found.name}) was in force from {period}, not on {on}; "
                             "use current_code() to bridge an old code to the one in force")
    return found


def province_of(nis: str) -> str | None:
    """The province of a municipality code, as it was while the code was in force (None in Brussels)."""
    return _lookup(nis).province


def region_of(nis: str) -> str:
    return _lookup(nis).region


def current_code(old_nis: str, on: dt.date) -> str:
    """The code in force on a date for the territory of a code (following mergers forward).

    A code that only began after `on` cannot be bridged backwards (a merged municipality
    covers several older ones): that is an error.
    """
    _check_date(on)
    found = _lookup(old_nis)
    if found.valid_from is not None and on < found.valid_from:
        raise GeographyError(f"municipality code {old_nis} begins on {found.valid_from}, after {on}; "
                             "a merged municipality cannot be split back into its former ones")
    while not found.in_force(on):
        found = _table()[found.successor]  # type: ignore[index]
    return found.nis


def municipalities(on: dt.date, region: str | None = None) -> list[Municipality]:
    """Municipalities in force on a date, optionally of one region, by province and code."""
    _check_date(on)
    chosen = [m for m in _table().values() if m.in_force(on) and (region is None or m.region == region)]
    return sorted(chosen, key=lambda m: (m.region, m.province or "", m.nis))


def hierarchy(on: dt.date, region: str | None = FLEMISH_REGION) -> Hierarchy:
    """Region -> province -> municipality on a date (default: the Flemish Region)."""
    leaves = municipalities(on, region)
    if not leaves:
        raise GeographyError(f"no municipality of region {region} is in force on {on}")
    parents: dict[str, str] = {}
    names: dict[str, str] = {}
    known = areas()
    for m in leaves:
        parents[m.nis] = m.province or m.region
        names[m.nis] = m.name
        if m.province is not None:
            parents[m.province] = m.region
            names[m.province] = known[m.province].name
        names[m.region] = known[m.region].name
    return Hierarchy(tuple(m.nis for m in leaves), parents, names)
