"""The four sources and the payload attributes each may carry.

The payload is declared here, per source, typed, so that an extract can never carry an
attribute the statistics registry does not need: ``linkage encode`` writes exactly these
columns (and nothing undeclared), the synthetic generator produces them, and the broker's
aggregation reads them. Changing a declaration changes ``PAYLOAD_VERSION``.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Literal, Union

from linkage.errors import LinkageError

PAYLOAD_VERSION = "1"

Kind = Literal["str", "int", "date", "bool", "category"]
Value = Union[str, int, bool, _dt.date, None]

SEP_YEARS = tuple(range(2019, 2025))
"""Years for which KSZ delivers the socio-economic position on 31 December."""

NAT_CODE = r"[0-9]{3}"
"""A Belgian NIS nationality code (three digits, 150 = Belgium)."""


class PayloadError(LinkageError, ValueError):
    """A payload value does not fit its declaration."""


@dataclass(frozen=True)
class Attribute:
    name: str
    kind: Kind
    description: str
    allowed: tuple[str, ...] = ()
    pattern: str = ""
    minimum: int | None = None
    maximum: int | None = None

    def parse(self, raw: str | None) -> Value:
        """Turn one CSV cell into a typed value; empty means missing (None)."""
        if raw is None or raw.strip() == "":
            return None
        text = raw.strip()
        if self.kind == "str":
            if self.pattern and not re.fullmatch(self.pattern, text):
                raise PayloadError(f"{self.name}: {text!r} does not match {self.pattern}")
            return text
        if self.kind == "category":
            if text not in self.allowed:
                raise PayloadError(
                    f"{self.name}: {text!r} is not one of {', '.join(self.allowed)}"
                )
            return text
        if self.kind == "int":
            try:
                number = int(text)
            except ValueError:
                raise PayloadError(f"{self.name}: {text!r} is not a whole number") from None
            if self.minimum is not None and number < self.minimum:
                raise PayloadError(f"{self.name}: {number} is below {self.minimum}")
            if self.maximum is not None and number > self.maximum:
                raise PayloadError(f"{self.name}: {number} is above {self.maximum}")
            return number
        if self.kind == "bool":
            lowered = text.lower()
            if lowered in ("1", "true", "yes", "ja"):
                return True
            if lowered in ("0", "false", "no", "nee"):
                return False
            raise PayloadError(f"{self.name}: {text!r} is not a yes/no value (use 1 or 0)")
        if self.kind == "date":
            try:
                return _dt.date.fromisoformat(text)
            except ValueError:
                raise PayloadError(f"{self.name}: {text!r} is not a date (use YYYY-MM-DD)") from None
        raise AssertionError(self.kind)


@dataclass(frozen=True)
class SourceSpec:
    name: str
    description: str
    payload: tuple[Attribute, ...]

    def attribute(self, name: str) -> Attribute:
        for attribute in self.payload:
            if attribute.name == name:
                return attribute
        raise KeyError(name)


def _nat(name: str, who: str) -> Attribute:
    return Attribute(name, "str", f"{who} (NIS nationality code; 150 = Belgian)", pattern=NAT_CODE)


SEP_CODES = (
    "111", "112", "121", "122", "123", "131", "132", "133",  # 1xx at work
    "211", "212", "213", "221", "222",  # 2xx job seeker
    "311", "312", "313", "321", "322", "331", "332", "341", "342", "351",  # 3xx not active
    "411",  # 4xx unknown / other
)

KSZ = SourceSpec(
    "ksz",
    "Crossroads Bank for Social Security data warehouse (Rijksregister and social-security positions)",
    (
        Attribute("sex", "category", "sex from the Rijksregister", allowed=("M", "F")),
        Attribute("birth_year", "int", "year of birth", minimum=1900, maximum=2100),
        Attribute("municipality", "str", "municipality of residence on 1 January of the last "
                  "SEP year (NIS code, 2025 version)", pattern=r"[0-9]{5}"),
        _nat("nat_current", "current nationality"),
        _nat("nat_first", "first registered nationality"),
        _nat("nat_first_father", "father's first nationality"),
        _nat("nat_first_mother", "mother's first nationality"),
        *(Attribute(f"sep_{year}", "category",
                    f"socio-economic position on 31 December {year} (KSZ nomenclature, 3 digits)",
                    allowed=SEP_CODES) for year in SEP_YEARS),
    ),
)

VDAB = SourceSpec(
    "vdab",
    "public employment service: the job-seeker registration of the person",
    (
        Attribute("registration_date", "date", "start of the registration as job seeker without work"),
        Attribute("exit_date", "date", "end of the registration (empty while registered)"),
        Attribute("exit_reason", "category", "why the registration ended",
                  allowed=("work", "training", "inactive", "moved", "other")),
        Attribute("education_level", "category", "highest education level (ISCED band)",
                  allowed=("low", "medium", "high", "foreign_unrecognised")),
    ),
)

INTEGRATION = SourceSpec(
    "integration",
    "Agentschap Integratie en Inburgering: the civic-integration trajectory",
    (
        Attribute("contract_date", "date", "date the integration contract was signed"),
        Attribute("status", "category", "state of the trajectory",
                  allowed=("ongoing", "attest", "effort_statement", "stopped", "exempt")),
        Attribute("attest_date", "date", "date of the integration certificate (attest)"),
        Attribute("nt2_level", "category", "highest Dutch (NT2) level certified (CEFR)",
                  allowed=("none", "A1", "A2", "B1", "B2", "C1", "C2")),
        Attribute("mo_test_passed", "bool", "social-orientation (MO) test passed"),
    ),
)

EDUCATION = SourceSpec(
    "education",
    "education administration: the pupil's last school year in Flemish education",
    (
        Attribute("school_year", "int", "start year of the school year (2022 = 2022-23)",
                  minimum=1990, maximum=2100),
        Attribute("level", "category", "level of education", allowed=("primary", "secondary")),
        Attribute("track", "category", "study track",
                  allowed=("primary", "ASO", "TSO", "KSO", "BSO", "dbso", "okan")),
        Attribute("delay_years", "int", "school delay in years against the grade expected "
                  "from the birth year (0 = on time)", minimum=0, maximum=10),
        Attribute("early_leaver", "bool", "left secondary education without a qualification "
                  "(empty while still in school)"),
    ),
)

SOURCES: dict[str, SourceSpec] = {spec.name: spec for spec in (KSZ, VDAB, INTEGRATION, EDUCATION)}


def source_spec(name: str) -> SourceSpec:
    """The declaration of a source, or a clear error naming the known ones."""
    try:
        return SOURCES[name]
    except KeyError:
        raise PayloadError(
            f"unknown source {name!r}; known sources are {', '.join(sorted(SOURCES))}"
        ) from None
