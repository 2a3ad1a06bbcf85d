"""Payload attributes and source declarations: how one CSV cell becomes a typed value."""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass
from typing import Literal, Union

from linkage.errors import LinkageError

Kind = Literal["str", "int", "date", "bool", "category"]
KINDS: tuple[str, ...] = ("str", "int", "date", "bool", "category")
BIRTH_YEAR, EVENT = "birth_year", "event"
ROLES: dict[str, tuple[str, ...]] = {BIRTH_YEAR: ("int",), EVENT: ("date", "int")}
"""What an attribute may tell the matching engine, and the kinds it may have for it: the
person's year of birth, or a date (or year) at which the source dealt with the person. A
candidate pair whose age at the event is far from any age the confirmed pairs show does not
link (``linkage.matching.ages``)."""
Value = Union[str, int, bool, _dt.date, None]


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
    codes: str = ""
    """``nationality``: a NIS code or an ISO 3166 alpha-3 code, stored as the NIS code."""
    role: str = ""
    """One of ``ROLES`` or empty."""

    def parse(self, raw: str | None) -> Value:
        """Turn one CSV cell into a typed value; empty means missing (None)."""
        if raw is None or raw.strip() == "":
            return None
        text = raw.strip()
        if self.kind == "str":
            if self.codes == "nationality":
                text = _nationality(self.name, text)
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
    payload_version: str
    """Fingerprint of the declarations this source was loaded with; extracts carry it."""

    def with_role(self, role: str) -> Attribute | None:
        """The attribute that plays ``role`` (one of ``ROLES``), if any."""
        return next((attribute for attribute in self.payload if attribute.role == role), None)

    def attribute(self, name: str) -> Attribute:
        for attribute in self.payload:
            if attribute.name == name:
                return attribute
        raise KeyError(name)


def _nationality(name: str, text: str) -> str:
    from linkage.origin.countries import country_table
    from linkage.origin.errors import UnknownCodeError

    try:
        return country_table().normalise(text) or ""
    except UnknownCodeError as exc:
        raise PayloadError(f"{name}: {exc}") from None
