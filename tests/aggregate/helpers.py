"""Small linked data sets built by hand, typed as the payload declarations say."""

from __future__ import annotations

import pyarrow as pa

from linkage.aggregate.compute import LinkedData
from linkage.extract import arrow_type
from linkage.sources import source_spec


def source_rows(source: str, rows: list[dict]) -> pa.Table:
    """A linked-data table of ``source``: entity_id plus every declared payload column."""
    spec = source_spec(source)
    columns = {"entity_id": pa.array([r["entity_id"] for r in rows], pa.int64())}
    for attribute in spec.payload:
        columns[attribute.name] = pa.array([r.get(attribute.name) for r in rows], arrow_type(attribute))
    return pa.table(columns)


def linked(snapshot: str = "test", **sources: list[dict]) -> LinkedData:
    return LinkedData({name: source_rows(name, rows) for name, rows in sources.items()}, snapshot)


def ksz_person(entity_id: int, sex: str = "F", birth_year: int = 1980, nationality: str = "150",
               father: str | None = "150", mother: str | None = "150", first: str | None = None,
               municipality: str | None = "11002", **sep: str) -> dict:
    """A KSZ row; ``sep`` as sep_2022="111"; nationality is current (and first unless given)."""
    return {
        "entity_id": entity_id, "sex": sex, "birth_year": birth_year, "municipality": municipality,
        "nat_current": nationality, "nat_first": first or nationality,
        "nat_first_father": father, "nat_first_mother": mother, **sep,
    }
