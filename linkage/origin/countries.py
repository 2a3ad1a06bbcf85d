"""The nationality code table: Belgian NIS country codes and ISO 3166, both ways.

`data/countries.csv` holds one row per NIS code: the country *key* it stands for (ISO 3166-1
alpha-2 for a current state, ISO 3166-3 alpha-4 or a lowercase name for a historic one),
its kind, ISO codes, names, the successors of a historic state and whether it is the
preferred NIS code of its key (several NIS codes can stand for one country). Groupings and
EU membership work on keys; persons' histories carry NIS codes.

A nationality cell may hold a NIS code, an ISO 3166-1 alpha-3 code or the alpha-2 code of a
current state. Kosovo has no ISO 3166 code; the user-assigned ``XK``/``XKX`` that the EU,
Belgian registers and most software use for it are in the table (pycountry lacks them).
Alpha-2 codes of former states are not read: ``CS`` meant Czechoslovakia and later Serbia
and Montenegro, so only their NIS and alpha-3 codes are unambiguous.
"""

from __future__ import annotations

import csv
import hashlib
import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from linkage.origin.errors import OriginError, UnknownCodeError

Kind = Literal["country", "historic", "unknown", "stateless", "refugee"]
KINDS: tuple[str, ...] = ("country", "historic", "unknown", "stateless", "refugee")
BELGIUM = "150"
"""NIS code of Belgium."""

_NIS = re.compile(r"[0-9]{3}")
_ALPHA3 = re.compile(r"[A-Za-z]{3}")
_ALPHA2 = re.compile(r"[A-Za-z]{2}")
EU_ALPHA2 = {"EL": "GR", "UK": "GB"}
"""The EU's own two-letter codes for Greece and the United Kingdom (ISO 3166 reserves them
for these countries), common in EU and Belgian administrative data."""


@dataclass(frozen=True)
class CountryCode:
    nis: str
    key: str
    kind: Kind
    iso2: str
    iso3: str
    name_nl: str
    name_en: str
    successors: tuple[str, ...]
    preferred: bool
    checked: str

    @property
    def is_country(self) -> bool:
        """Stands for a (current or historic) state, so it can be an origin country."""
        return self.kind in ("country", "historic")

    @property
    def is_missing(self) -> bool:
        """A code that says the nationality is not known: treated like an empty cell."""
        return self.kind == "unknown"


class CountryTable:
    """A validated code table with look-ups by NIS code, key and ISO alpha-3."""

    def __init__(self, rows: list[CountryCode], digest: str):
        self.digest = digest
        self.by_nis: dict[str, CountryCode] = {}
        self.preferred: dict[str, CountryCode] = {}
        for row in rows:
            if row.nis in self.by_nis:
                raise OriginError(f"code table: NIS code {row.nis} appears twice")
            self.by_nis[row.nis] = row
            if row.preferred:
                if row.key in self.preferred:
                    raise OriginError(f"code table: key {row.key} has two preferred NIS codes")
                self.preferred[row.key] = row
        keys = {row.key for row in rows}
        missing = sorted(keys - set(self.preferred))
        if missing:
            raise OriginError(f"code table: no preferred NIS code for {', '.join(missing)}")
        self.by_iso3 = {row.iso3: self.preferred[row.key] for row in rows if row.iso3}
        self.by_iso2 = {row.iso2: self.preferred[row.key] for row in rows if row.iso2 and row.kind == "country"}
        for alias, iso2 in EU_ALPHA2.items():
            if iso2 in self.by_iso2:
                self.by_iso2.setdefault(alias, self.by_iso2[iso2])
        for row in rows:
            unknown = [s for s in row.successors if s not in keys]
            if unknown:
                raise OriginError(
                    f"code table: successors {', '.join(unknown)} of NIS code {row.nis} are not in the table"
                )

    def __iter__(self):
        return iter(self.by_nis.values())

    def keys(self) -> list[str]:
        """Country keys of states (current and historic), each once."""
        return [key for key, row in self.preferred.items() if row.is_country]

    def get(self, nis: str) -> CountryCode:
        try:
            return self.by_nis[nis]
        except KeyError:
            raise UnknownCodeError("not a NIS nationality code in the code table") from None

    def of_key(self, key: str) -> CountryCode:
        """The preferred code of a country key."""
        try:
            return self.preferred[key]
        except KeyError:
            raise OriginError(f"{key!r} is not a country key of the code table") from None

    def normalise(self, raw: str | None) -> str | None:
        """A NIS code for a cell holding a NIS code, an ISO 3166 alpha-3 code or the alpha-2
        code of a current state (any case); None when empty.

        The error message never repeats the value (it is personal data).
        """
        if raw is None:
            return None
        text = raw.strip()
        if not text:
            return None
        if _NIS.fullmatch(text):
            if text in self.by_nis:
                return text
            raise UnknownCodeError("a 3-digit code that is not in the NIS nationality code table")
        if _ALPHA3.fullmatch(text):
            row = self.by_iso3.get(text.upper())
            if row is not None:
                return row.nis
            raise UnknownCodeError("a 3-letter code that is not an ISO 3166 alpha-3 code in the code table")
        if _ALPHA2.fullmatch(text):
            row = self.by_iso2.get(text.upper())
            if row is not None:
                return row.nis
            raise UnknownCodeError(
                "a 2-letter code that is not the ISO 3166 alpha-2 code of a current state in the code table "
                "(for a former state use its NIS or alpha-3 code)"
            )
        raise UnknownCodeError(
            "not a nationality code (use a 3-digit NIS code such as 150, ISO 3166 alpha-3 such as BEL "
            "or alpha-2 such as BE)"
        )


def _row(record: dict[str, str], line: int) -> CountryCode:
    kind = record["kind"]
    if kind not in KINDS:
        raise OriginError(f"code table line {line}: kind must be one of {', '.join(KINDS)}")
    if not _NIS.fullmatch(record["nis"]):
        raise OriginError(f"code table line {line}: nis must be three digits")
    return CountryCode(
        nis=record["nis"],
        key=record["key"],
        kind=kind,  # type: ignore[arg-type]
        iso2=record["iso2"],
        iso3=record["iso3"],
        name_nl=record["name_nl"],
        name_en=record["name_en"],
        successors=tuple(record["successors"].split()),
        preferred=record["preferred"] == "1",
        checked=record["checked"],
    )


def load_table(path: str | Path) -> CountryTable:
    """Read and validate a code table in the format of `data/countries.csv`."""
    data = Path(path).read_bytes()
    text = data.decode("utf-8")
    rows = [_row(rec, n) for n, rec in enumerate(csv.DictReader(text.splitlines()), start=2)]
    return CountryTable(rows, hashlib.sha256(data).hexdigest())


@cache
def country_table() -> CountryTable:
    """The code table shipped with the package."""
    with resources.as_file(resources.files("linkage.origin") / "data" / "countries.csv") as path:
        return load_table(path)

