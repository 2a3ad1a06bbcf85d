"""Reading a leaf table (and hierarchies) from CSV, writing a protected table atomically."""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from linkage.disclosure.errors import TableError
from linkage.disclosure.result import ProtectedTable, table_rows
from linkage.disclosure.table import TOTAL, Dimension

_INTEGER = re.compile(r"^\s*\d+\s*$")


def _open_csv(path: Path):
    try:
        handle = open(path, newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise TableError(f"cannot read {path}: {exc.strerror}") from None
    return handle


def read_hierarchy(path: str | Path) -> dict[str, str]:
    """A ``child,parent`` CSV (header row required) as a child -> parent mapping."""
    path = Path(path)
    with _open_csv(path) as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"child", "parent"} <= set(reader.fieldnames):
            raise TableError(f"{path}: a hierarchy file needs the header 'child,parent'")
        parents: dict[str, str] = {}
        for row_number, row in enumerate(reader, start=2):
            child, parent = (row.get("child") or "").strip(), (row.get("parent") or "").strip()
            if not child or not parent:
                raise TableError(f"{path} row {row_number}: child and parent must both be set")
            if child in parents and parents[child] != parent:
                raise TableError(f"{path} row {row_number}: {child!r} is given two parents")
            parents[child] = parent
    return parents


def read_leaf_table(path: str | Path, dimensions: Sequence[str], count: str,
                    numerator: str | None = None,
                    hierarchies: Mapping[str, Mapping[str, str]] | None = None,
                    ) -> tuple[list[Dimension], dict, dict | None]:
    """Reads one row per combination of leaf categories; returns dimensions, counts and
    numerators for ``protect``. Errors name the row number (the header is row 1)."""
    path = Path(path)
    hierarchies = dict(hierarchies or {})
    unknown = set(hierarchies) - set(dimensions)
    if unknown:
        raise TableError(f"a hierarchy is given for {sorted(unknown)[0]!r}, which is not one of "
                         "the --dimensions")
    with _open_csv(path) as handle:
        reader = csv.DictReader(handle)
        header = reader.fieldnames or []
        needed = list(dimensions) + [count] + ([numerator] if numerator else [])
        missing = [c for c in needed if c not in header]
        if missing:
            raise TableError(f"{path}: column {missing[0]!r} is missing (the header has: "
                             f"{', '.join(header) or 'nothing'})")
        categories: list[dict[str, None]] = [{} for _ in dimensions]
        counts: dict[tuple[str, ...], int] = {}
        numerators: dict[tuple[str, ...], int] | None = {} if numerator else None
        first_row: dict[tuple[str, ...], int] = {}
        for row_number, row in enumerate(reader, start=2):
            key = []
            for d, name in enumerate(dimensions):
                value = (row.get(name) or "").strip()
                if not value:
                    raise TableError(f"{path} row {row_number}: column {name!r} is empty")
                if value == TOTAL:
                    raise TableError(f"{path} row {row_number}: column {name!r} is {TOTAL!r}; "
                                     "give leaf rows only, margins are computed")
                categories[d].setdefault(value)
                key.append(value)
            key = tuple(key)
            if key in first_row:
                raise TableError(f"{path} row {row_number}: duplicate of row {first_row[key]} "
                                 "(same categories); give each combination once")
            first_row[key] = row_number
            counts[key] = _count(path, row_number, count, row.get(count))
            if numerator:
                num = _count(path, row_number, numerator, row.get(numerator))
                if num > counts[key]:
                    raise TableError(f"{path} row {row_number}: {numerator!r} is larger than "
                                     f"{count!r}; a numerator counts persons of the denominator")
                numerators[key] = num
    dims = []
    for d, name in enumerate(dimensions):
        parents = dict(hierarchies.get(name, {}))
        leaves = list(categories[d])
        internal = set(parents.values())
        leaves += [c for c in parents if c not in internal and c not in categories[d]]
        dims.append(Dimension(name, leaves, parents))
    return dims, counts, numerators


def _count(path: Path, row_number: int, column: str, raw: str | None) -> int:
    if raw is None or not _INTEGER.match(raw):
        raise TableError(f"{path} row {row_number}: column {column!r} must be a whole number "
                         "of persons (0 or more)")
    return int(raw)


def write_table(path: str | Path, table: ProtectedTable, count: str = "count",
                numerator: str = "numerator") -> None:
    """Writes every cell (CSV, or JSON with the audit summary when the name ends in .json)
    to a temporary file next to ``path`` and renames it into place."""
    path = Path(path)
    rows = table_rows(table)
    for row in rows:
        row[count] = row.pop("value")
        if table.is_rate:
            row[numerator] = row.pop("numerator")
            row["rate"] = row.pop("rate")
        row["status"] = row.pop("status")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or ".")
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            if path.suffix.lower() == ".json":
                json.dump({"k": table.k, "audit": table.audit.publishable(),
                           "coarsened": list(table.coarsened), "cells": rows}, out, indent=1)
            else:
                columns = list(table.names) + [count] + (
                    [numerator, "rate"] if table.is_rate else []) + ["status"]
                writer = csv.DictWriter(out, fieldnames=columns)
                writer.writeheader()
                for row in rows:
                    writer.writerow({c: "" if row[c] is None else row[c] for c in columns})
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
