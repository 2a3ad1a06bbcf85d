"""Ground truth from the synthetic generator, to measure what linkage errors do to a table.

``linkage synth`` writes ``persons.csv`` (one row per person: the true nationality history,
careers and the payload of the person's record in every source) and ``truth.csv`` (which
records belong to which person). :func:`truth_linked_data` builds the linked data a perfect
linkage would give: one entity per person, with a record in a source exactly when the
person has one there. Computing a request over it and over the broker's linked data, and
comparing the two with :func:`compare`, isolates the effect of linkage errors (missed links
put persons in ``unknown``; false links move them to another group), per origin group.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from linkage.aggregate.compute import LeafTable, LinkedData, LinkedDataError
from linkage.extract import arrow_type
from linkage.sources import PayloadError, SourceSpec, source_spec

PERSONS_FILE = "persons.csv"
TRUTH_FILE = "truth.csv"


def _person_column(source: str, attribute: str) -> str:
    """Where ``persons.csv`` holds a source's payload attribute (KSZ's are the person's own)."""
    if source != "ksz":
        return f"{source}_{attribute}"
    if attribute.startswith("sep_"):
        return f"ksz_{attribute}"
    return "birth_date" if attribute == "birth_year" else attribute


def truth_linked_data(directory: str | Path) -> LinkedData:
    """The linked data of a perfect linkage of the generator's extracts in ``directory``."""
    directory = Path(directory)
    holders = _record_holders(directory / TRUTH_FILE)
    rows: dict[str, dict[str, list]] = {}
    entity_of: dict[str, int] = {}
    with _open(directory / PERSONS_FILE) as handle:
        reader = csv.DictReader(handle)
        for line, person in enumerate(reader, start=2):
            entity = entity_of.setdefault(person["person_id"], len(entity_of))
            for source in holders.get(person["person_id"], ()):
                spec = source_spec(source)
                columns = rows.setdefault(source, {"entity_id": [], **{a.name: [] for a in spec.payload}})
                columns["entity_id"].append(entity)
                for attribute in spec.payload:
                    columns[attribute.name].append(_value(spec, attribute.name, person, line))
    tables = {
        source: pa.table({
            "entity_id": pa.array(columns.pop("entity_id"), pa.int64()),
            **{name: pa.array(values, arrow_type(source_spec(source).attribute(name)))
               for name, values in columns.items()},
        })
        for source, columns in rows.items()
    }
    return LinkedData(tables, snapshot=f"truth:{directory.name}")


def true_entity_ids(directory: str | Path, source: str, record_ids: list[str]) -> np.ndarray:
    """The person (as the entity id :func:`truth_linked_data` gives) of each record of a
    source: the entity ids of a perfect linkage, for comparing linkage runs against."""
    directory = Path(directory)
    person_of: dict[str, str] = {}
    with _open(directory / TRUTH_FILE) as handle:
        for row in csv.DictReader(handle):
            if row["source"] == source:
                person_of[row["record_id"]] = row["person_id"]
    entity_of: dict[str, int] = {}
    with _open(directory / PERSONS_FILE) as handle:
        for person in csv.DictReader(handle):
            entity_of[person["person_id"]] = len(entity_of)
    try:
        return np.array([entity_of[person_of[r]] for r in record_ids], dtype=np.int64)
    except KeyError:
        raise LinkedDataError(f"a {source} record is not in {TRUTH_FILE}: wrong folder?") from None


def _value(spec: SourceSpec, name: str, person: dict, line: int):
    column = _person_column(spec.name, name)
    if column not in person:
        raise LinkedDataError(f"{PERSONS_FILE} has no column {column!r} (needed for {spec.name}.{name})")
    raw = person[column]
    if name == "birth_year":
        raw = raw[:4]
    try:
        return spec.attribute(name).parse(raw)
    except PayloadError as exc:
        raise LinkedDataError(f"{PERSONS_FILE} line {line}, column {column}: {exc}") from None


def _record_holders(path: Path) -> dict[str, set[str]]:
    """Per person, the sources holding at least one of their records."""
    holders: dict[str, set[str]] = defaultdict(set)
    with _open(path) as handle:
        for row in csv.DictReader(handle):
            holders[row["person_id"]].add(row["source"])
    return holders


def _open(path: Path):
    try:
        return path.open(newline="", encoding="utf-8")
    except OSError as exc:
        raise LinkedDataError(f"cannot read {path}: {exc.strerror} (is this a 'linkage synth' folder?)") from None


@dataclass(frozen=True)
class Comparison:
    """One category of a dimension: the truth and what the linked data gave."""

    category: str
    truth: int
    observed: int
    truth_numerator: int | None = None
    observed_numerator: int | None = None

    @property
    def difference(self) -> int:
        return self.observed - self.truth

    @property
    def truth_rate(self) -> float | None:
        return _rate(self.truth_numerator, self.truth)

    @property
    def observed_rate(self) -> float | None:
        return _rate(self.observed_numerator, self.observed)


def _rate(numerator: int | None, denominator: int) -> float | None:
    return None if numerator is None or denominator == 0 else numerator / denominator


def compare(observed: LeafTable, truth: LeafTable, dimension: str) -> list[Comparison]:
    """Per category of ``dimension`` (summed over the others): truth against observed."""
    names = [d.name for d in truth.dimensions]
    if [d.name for d in observed.dimensions] != names or observed.measure != truth.measure:
        raise ValueError("the two tables answer different requests")
    kept_truth, kept_observed = truth.margin([dimension]), observed.margin([dimension])
    result = []
    for (category,), count in kept_truth.counts.items():
        key = (category,)
        result.append(Comparison(
            category, count, kept_observed.counts[key],
            kept_truth.numerators[key] if kept_truth.numerators is not None else None,
            kept_observed.numerators[key] if kept_observed.numerators is not None else None,
        ))
    return result


def format_comparison(rows: list[Comparison]) -> str:
    """A small text table: counts, difference and, for rates, both rates."""
    lines = [f"{'category':<28}{'truth':>9}{'linked':>9}{'diff':>8}{'rel':>8}{'truth %':>9}{'linked %':>9}"]
    for row in rows:
        relative = f"{100 * row.difference / row.truth:+.1f}%" if row.truth else "-"
        rates = ("" if row.truth_rate is None else f"{100 * row.truth_rate:.1f}",
                 "" if row.observed_rate is None else f"{100 * row.observed_rate:.1f}")
        lines.append(f"{row.category:<28}{row.truth:>9}{row.observed:>9}{row.difference:>+8}"
                     f"{relative:>8}{rates[0]:>9}{rates[1]:>9}")
    return "\n".join(lines)
