"""Classify a CSV file of nationality histories, adding origin columns (atomically written)."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from linkage.files import atomic_text_file
from linkage.origin.classify import classify_codes, definition, grouping
from linkage.origin.definitions import Definition
from linkage.origin.errors import OriginError, UnknownCodeError
from linkage.origin.groupings import Grouping
from linkage.origin.rules import FIELDS

OUTPUT_COLUMNS: tuple[str, ...] = ("origin_category", "origin_country", "origin_group", "generation")


@dataclass(frozen=True)
class ClassifySummary:
    rows: int
    definition: Definition
    grouping: Grouping
    reference_date: dt.date


def _header_positions(header: list[str]) -> list[int]:
    duplicates = sorted({name for name in header if header.count(name) > 1})
    if duplicates:
        raise OriginError(f"the header names column(s) {', '.join(duplicates)} more than once")
    absent = [name for name in FIELDS if name not in header]
    if absent:
        raise OriginError(f"the input lacks column(s) {', '.join(absent)}; it needs {', '.join(FIELDS)}")
    clash = [name for name in OUTPUT_COLUMNS if name in header]
    if clash:
        raise OriginError(f"the input already has column(s) {', '.join(clash)}; "
                          "remove them or classify the original file")
    return [header.index(name) for name in FIELDS]


def classify_csv(input_path: str | Path, output_path: str | Path, definition_name: str,
                 reference_date: dt.date, grouping_name: str | None = None,
                 delimiter: str = ",") -> ClassifySummary:
    """Copy INPUT to OUTPUT with the origin columns added; nothing is written on an error.

    Rows are numbered from 1 after the header (blank lines are skipped but counted). Error
    messages name the row and column, never a value.
    """
    if len(delimiter) != 1:
        raise OriginError("the CSV delimiter must be one character (for example , or ;)")
    chosen = definition(definition_name)
    groups = grouping(grouping_name or chosen.natural_grouping)
    output_path = Path(output_path)
    seen: dict[tuple[str | None, ...], list[str]] = {}
    try:
        source = open(input_path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise OriginError(f"cannot read {input_path}: {exc.strerror}") from None
    rows = number = 0
    try:
        with source, atomic_text_file(output_path, newline="") as sink:
            reader = csv.reader(source, delimiter=delimiter)
            writer = csv.writer(sink, delimiter=delimiter, lineterminator="\n")
            header = next(reader, None)
            if not header:
                raise OriginError(f"{input_path} is empty; it needs a header with {', '.join(FIELDS)}")
            positions = _header_positions(header)
            writer.writerow([*header, *OUTPUT_COLUMNS])
            for number, record in enumerate(reader, start=1):
                if not record:  # a blank line
                    continue
                if len(record) != len(header):
                    raise OriginError(f"row {number} has {len(record)} fields but the header has {len(header)}")
                rows += 1
                codes = tuple(record[i].strip() or None for i in positions)
                added = seen.get(codes)
                if added is None:
                    try:
                        origin = classify_codes(chosen.name, codes, reference_date)  # type: ignore[arg-type]
                    except UnknownCodeError as exc:
                        raise UnknownCodeError(f"row {number}, column {exc.field}: {exc.reason}") from None
                    added = seen[codes] = [origin.category, origin.country or "",
                                           groups.group_of(origin.country, reference_date), origin.generation]
                writer.writerow([*record, *added])
    except csv.Error as exc:
        raise OriginError(f"row {number + 1} is not valid CSV ({exc}); check the delimiter and quoting") from None
    except UnicodeDecodeError:
        raise OriginError(f"{input_path} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise OriginError(f"cannot write {output_path}: {exc.strerror}") from None
    return ClassifySummary(rows, chosen, groups, reference_date)
