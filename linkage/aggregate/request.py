"""Statistics requests: the TOML file a statistician writes, parsed and checked in full.

A request names only registered things (population, period, measures, dimensions) and an
authorisation; any other field is refused, because free-form filters make differencing
attacks easy. Example::

    authorisation = "IVC-24-001"
    population = "vdab"
    period = 2022                       # or a list of years, with the "period" dimension
    measures = ["persons", "outflow_to_work_12m"]
    dimensions = ["origin_group:sem", "sex", "age_band"]
    reference_date = 2024-12-31         # TOML date, or the string "2024-12-31"
"""

from __future__ import annotations

import calendar
import datetime as _dt
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from linkage.aggregate import dimensions as dims
from linkage.aggregate import registry
from linkage.aggregate.conditions import RegistryError
from linkage.aggregate.dimensions import DimensionRef

FIELDS = ("authorisation", "population", "period", "measures", "dimensions", "reference_date")
_AUTHORISATION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")


class RequestError(RegistryError):
    """A statistics request is malformed or names something the registry does not have."""


@dataclass(frozen=True)
class AggregateRequest:
    authorisation: str
    population: str
    periods: tuple[int, ...]
    measures: tuple[str, ...]
    dimensions: tuple[DimensionRef, ...]
    reference_date: _dt.date

    def to_dict(self) -> dict[str, Any]:
        """The canonical, JSON- and TOML-safe form (dimension defaults spelled out)."""
        return {
            "authorisation": self.authorisation,
            "population": self.population,
            "period": self.periods[0] if len(self.periods) == 1 else list(self.periods),
            "measures": list(self.measures),
            "dimensions": [d.key for d in self.dimensions],
            "reference_date": self.reference_date.isoformat(),
        }

    def to_toml(self) -> str:
        """The request as TOML text that :func:`parse_request` reads back to an equal request."""
        lines = []
        for name, value in self.to_dict().items():
            if isinstance(value, list):
                items = ", ".join(str(v) if isinstance(v, int) else _toml_string(v) for v in value)
                lines.append(f"{name} = [{items}]")
            elif isinstance(value, int):
                lines.append(f"{name} = {value}")
            else:
                lines.append(f"{name} = {_toml_string(value)}")
        return "\n".join(lines) + "\n"


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def load_request(path: str | Path) -> AggregateRequest:
    """Read and validate a request file."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a BOM (Windows editors) is allowed
    except OSError as exc:
        raise RequestError(f"cannot read the request file {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RequestError(f"the request file {path} is not UTF-8 text") from None
    return parse_request(text)


def parse_request(text: str) -> AggregateRequest:
    """Parse TOML text and validate it against the registry."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RequestError(f"the request is not valid TOML: {exc}") from None
    return validate_request(data)


def validate_request(data: Mapping[str, Any]) -> AggregateRequest:
    """Check every field of a parsed request; the first problem raises a RequestError."""
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise RequestError(
            f"unknown field(s) {', '.join(unknown)} in the request; a request has exactly "
            f"{', '.join(FIELDS)} (free-form filters are not allowed: choose a registered "
            "population, measures and dimensions)"
        )
    missing = [name for name in FIELDS if name not in data]
    if missing:
        raise RequestError(f"the request lacks {', '.join(missing)}")

    authorisation = data["authorisation"]
    if not isinstance(authorisation, str) or not _AUTHORISATION.fullmatch(authorisation):
        raise RequestError(
            "authorisation must be the identifier of an authorisation you hold, e.g. "
            "\"IVC-24-001\" (letters, digits, . _ / -; at most 64 characters)"
        )
    population = _string(data["population"], "population")
    pop = _wrap(registry.population, population)
    periods = _periods(data["period"], pop)
    reference_date = _date(data["reference_date"])
    measures = _names(data["measures"], "measures", allow_empty=False)
    dimension_texts = _names(data["dimensions"], "dimensions", allow_empty=True)
    if len(dimension_texts) > registry.MAX_DIMENSIONS:
        raise RequestError(
            f"{len(dimension_texts)} dimensions requested; at most {registry.MAX_DIMENSIONS} are "
            "allowed per table (more dimensions make cells too small to publish)"
        )
    dimensions = tuple(_wrap(dims.parse_dimension, text) for text in dimension_texts)
    keys = [d.key for d in dimensions]
    if len(set(keys)) != len(keys):
        raise RequestError("a dimension is listed twice (after filling in defaults)")
    if len(periods) > 1 and "period" not in {d.kind for d in dimensions}:
        raise RequestError(
            "a request over several periods must include the 'period' dimension; otherwise a "
            "person present in two periods would be counted twice"
        )
    for name in measures:
        _check_measure(_wrap(registry.measure, name), population, periods, reference_date)
    return AggregateRequest(authorisation, population, periods, tuple(measures), dimensions,
                            reference_date)


def _check_measure(m: registry.Measure, population: str, periods: tuple[int, ...],
                   reference_date: _dt.date) -> None:
    if population not in m.populations:
        raise RequestError(
            f"measure {m.name} applies to the population(s) {', '.join(m.populations)}, "
            f"not to {population}"
        )
    for period in periods:
        for condition in m.conditions():
            try:
                condition.check(period)
            except RegistryError as exc:
                raise RequestError(f"measure {m.name} cannot be computed for period {period}: {exc}") from None
        observed = _add_months(_dt.date(period, 12, 31), m.horizon_months)
        if m.horizon_months and reference_date < observed:
            raise RequestError(
                f"measure {m.name} needs outcomes up to {observed.isoformat()} for period {period}, "
                f"after the reference date {reference_date.isoformat()}: the figure would be "
                "incomplete; choose an earlier period or a later reference date"
            )


def _add_months(day: _dt.date, months: int) -> _dt.date:
    """The same day ``months`` calendar months later, clamped to the month's end (as DuckDB does)."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return _dt.date(year, month + 1, min(day.day, last_day))


def _wrap(function, value):
    """Call a registry look-up and present its error as a request error."""
    try:
        return function(value)
    except RequestError:
        raise
    except RegistryError as exc:
        raise RequestError(str(exc)) from None


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise RequestError(f"{name} must be a non-empty string")
    return value


def _names(value: Any, name: str, allow_empty: bool) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise RequestError(f"{name} must be a list of names, e.g. {name} = [\"...\"]")
    if not value and not allow_empty:
        raise RequestError(f"{name} is empty; name at least one")
    if len(set(value)) != len(value):
        raise RequestError(f"{name} lists a name twice")
    return list(value)


def _periods(value: Any, pop: registry.Population) -> tuple[int, ...]:
    years = value if isinstance(value, list) else [value]
    if not years or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
        raise RequestError("period must be a year (e.g. period = 2022) or a list of years")
    if len(set(years)) != len(years):
        raise RequestError("period lists a year twice")
    if len(years) > registry.MAX_PERIODS:
        raise RequestError(f"at most {registry.MAX_PERIODS} periods per request")
    for year in years:
        if not pop.first_period <= year <= pop.last_period:
            raise RequestError(
                f"period {year} is not registered for population {pop.source}: "
                f"{pop.first_period}-{pop.last_period}"
            )
    return tuple(sorted(years))


REFERENCE_YEARS = (1990, 2100)
"""Reference dates outside these years cannot be the date of any registered outcome."""


def _date(value: Any) -> _dt.date:
    if isinstance(value, _dt.datetime):
        raise RequestError("reference_date must be a date without a time, e.g. 2023-12-31")
    day = value if isinstance(value, _dt.date) else None
    if isinstance(value, str):
        try:
            day = _dt.date.fromisoformat(value)
        except ValueError:
            pass
    if day is None:
        raise RequestError("reference_date must be a date, e.g. reference_date = 2023-12-31")
    if not REFERENCE_YEARS[0] <= day.year <= REFERENCE_YEARS[1]:
        raise RequestError(
            f"reference_date must lie in the years {REFERENCE_YEARS[0]} to {REFERENCE_YEARS[1]}, "
            f"not {day.year}"
        )
    return day
