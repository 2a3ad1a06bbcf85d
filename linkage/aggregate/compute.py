"""Exact leaf counts of every requested measure over the linked data, with DuckDB.

The input is the broker's linked data: per source, an Arrow table with ``entity_id`` (the
linked cluster a record belongs to; at most one record per source per entity) and that
source's payload columns. The population is the set of entities with a record in the
population source passing its period filter; every other source is joined to it by
``entity_id`` (left join). A population record that is linked to nothing keeps NULL for
the attributes of the other sources: it is counted in ``persons`` with category
``unknown`` in every dimension derived from another source (origin, sex and age come from
KSZ), and it is outside the cohort of any rate whose cohort or numerator needs such an
attribute. That keeps every population record in the person count, so linkage failures
show up as ``unknown`` instead of silently disappearing.

Dimensions are derived once per distinct tuple of their input attributes (a few thousand
nationality histories, not a million persons) and joined back as small mapping tables.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Mapping, Sequence

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.aggregate import registry
from linkage.aggregate.conditions import Attr, all_sql
from linkage.aggregate.dimensions import ResolvedDimension
from linkage.aggregate.plan import Plan, plan
from linkage.aggregate.request import AggregateRequest
from linkage.disclosure.atoms import Membership, mix64, unit_ids
from linkage.errors import LinkageError
from linkage.extract import Extract, arrow_type
from linkage.sources import SOURCES, source_spec

Cell = tuple[str, ...]


class LinkedDataError(LinkageError, ValueError):
    """The linked data handed to the aggregation do not fit the request or the declarations."""


@dataclass(frozen=True)
class LinkedData:
    tables: Mapping[str, pa.Table]
    """Per source: ``entity_id`` (int64) and payload columns as declared in linkage.sources."""
    snapshot: str = ""
    """Identifies the linkage run the entity ids come from (recorded in the answer)."""
    person_keys: tuple[np.ndarray, np.ndarray] | None = None
    """Sorted entity ids and each one's 64-bit person key, stable across runs (the broker
    derives it from the linked national-number token); without it a person is keyed by
    run and entity, so releases on different runs are not related."""

    def persons(self, entity_ids: np.ndarray) -> np.ndarray:
        """The person key (uint64) of each entity."""
        entity_ids = np.asarray(entity_ids, dtype=np.int64)
        run = np.frombuffer(hashlib.sha256(self.snapshot.encode()).digest()[:8], dtype=np.uint64)
        fallback = mix64(entity_ids.astype(np.uint64) ^ run[0])
        if self.person_keys is None:
            return fallback
        ids, keys = self.person_keys
        pos = np.clip(np.searchsorted(ids, entity_ids), 0, max(len(ids) - 1, 0))
        found = (len(ids) > 0) & (ids[pos] == entity_ids) if len(ids) else np.zeros(len(entity_ids), bool)
        return np.where(found, keys[pos] if len(ids) else fallback, fallback)


@dataclass(frozen=True)
class LeafTable:
    """Exact, unprotected counts of one measure for every leaf cell (zeros included)."""

    measure: registry.Measure
    dimensions: tuple[ResolvedDimension, ...]
    counts: dict[Cell, int]
    """Persons in the cohort: the person count, or a rate's denominator."""
    numerators: dict[Cell, int] | None = None

    def margin(self, keep: Sequence[str]) -> "LeafTable":
        """The table summed over every dimension not named in ``keep`` (exact margins)."""
        positions = [i for i, d in enumerate(self.dimensions) if d.name in keep]
        kept = tuple(self.dimensions[i] for i in positions)

        def collapse(values: Mapping[Cell, int]) -> dict[Cell, int]:
            out = dict.fromkeys(itertools.product(*(d.categories for d in kept)), 0)
            for cell, value in values.items():
                out[tuple(cell[i] for i in positions)] += value
            return out

        numerators = collapse(self.numerators) if self.numerators is not None else None
        return LeafTable(self.measure, kept, collapse(self.counts), numerators)


def source_table(extract: Extract, entity_ids: np.ndarray) -> pa.Table:
    """The linked-data table of one extract: its entity ids and its typed payload."""
    spec = source_spec(extract.header.source)
    if len(entity_ids) != len(extract.record_ids):
        raise LinkedDataError(
            f"{spec.name}: {len(entity_ids)} entity ids for {len(extract.record_ids)} records"
        )
    columns = {"entity_id": pa.array(np.asarray(entity_ids, dtype=np.int64))}
    for name in extract.header.payload_columns:
        columns[name] = pa.array(extract.payload[name], arrow_type(spec.attribute(name)))
    return pa.table(columns)


def linked_data_from_clusters(clusters: pa.Table, payloads: Mapping[str, pa.Table],
                              snapshot: str = "") -> LinkedData:
    """Linked data from a run's clusters (source, record_id, entity_id, and ``person_key`` from
    runs that keep it) and, per source, the payload of the linked extract (record_id plus
    payload columns)."""
    missing = {"source", "record_id", "entity_id"} - set(clusters.column_names)
    if missing:
        raise LinkedDataError(f"the clusters table lacks {', '.join(sorted(missing))}")
    tables = {}
    for source, payload in payloads.items():
        ids = clusters.filter(pc.equal(clusters["source"], source)).select(["record_id", "entity_id"])
        joined = payload.join(ids, "record_id", join_type="left outer")
        if joined.num_rows != payload.num_rows or joined["entity_id"].null_count:
            raise LinkedDataError(
                f"{source}: {joined['entity_id'].null_count} records have no entity in the linkage "
                "run (or a record is listed twice); the run does not belong to these extracts"
            )
        tables[source] = joined.drop_columns(["record_id"])
    keys = None
    if "person_key" in clusters.column_names:
        entity = clusters["entity_id"].to_numpy()
        ids, first = np.unique(entity, return_index=True)
        keys = (ids, clusters["person_key"].to_numpy()[first].astype(np.uint64))
    return LinkedData(tables, snapshot, keys)


@dataclass(frozen=True)
class Evaluated:
    """One measure over the linked data: its exact leaf table and the units it counts."""

    leaf: LeafTable
    membership: Membership
    """Each unit's leaf cell (numbered as ``TableStructure`` numbers inner cells: C order over
    the dimensions' categories) and, for a rate, whether it is in the numerator."""


def evaluate(resolved: Plan, data: LinkedData) -> dict[str, Evaluated]:
    """Every measure of a plan in one pass over the linked data, keyed by measure name."""
    table = _per_person(resolved, data)
    dimensions = resolved.dimensions
    shape = tuple(len(d.categories) for d in dimensions)
    index = []
    for i, d in enumerate(dimensions):
        found = pc.index_in(table[f"d{i}"], value_set=pa.array(d.categories))
        if found.null_count:
            raise RuntimeError(f"a row fell outside the declared categories of {d.name}")
        index.append(np.asarray(found))
    leaf = (np.ravel_multi_index(tuple(index), shape).astype(np.int64) if dimensions
            else np.zeros(table.num_rows, dtype=np.int64))
    persons = data.persons(table["entity_id"].to_numpy())
    if len(np.unique(unit_ids(persons, table["period"].to_numpy()))) != len(persons):
        raise LinkedDataError("a person key is counted twice in one period: two entities of "
                              "the run share a person key")
    cells = list(itertools.product(*(d.categories for d in dimensions)))
    out = {}
    for i, m in enumerate(resolved.measures):
        inside = table[f"in_{i}"].to_numpy(zero_copy_only=False).astype(bool)
        counted = leaf[inside]
        counts = dict(zip(cells, np.bincount(counted, minlength=len(cells)).tolist(), strict=True))
        flag, numerators = None, None
        if m.kind == "rate":
            flag = table[f"num_{i}"].to_numpy(zero_copy_only=False).astype(bool)[inside]
            numerators = dict(zip(cells, np.bincount(counted[flag], minlength=len(cells)).tolist(), strict=True))
        out[m.name] = Evaluated(LeafTable(m, dimensions, counts, numerators),
                                Membership(persons[inside], counted, flag))
    return out


def compute(request: AggregateRequest, data: LinkedData) -> dict[str, LeafTable]:
    """Leaf tables for every measure of a validated request, keyed by measure name."""
    return {name: e.leaf for name, e in evaluate(plan(request), data).items()}


def _per_person(resolved: Plan, data: LinkedData) -> pa.Table:
    """One row per person and period: the dimensions' categories and each measure's flags."""
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        sources = _register_sources(con, resolved, data)
        _register_mappings(con, resolved.dimensions, resolved.request.periods)
        return con.sql(_query(resolved, sources)).to_arrow_table()
    finally:
        con.close()


def _needed_attrs(resolved: Plan) -> set[tuple[str, str]]:
    needed = set()
    for period in resolved.request.periods:
        for attr in resolved.population.period_filter.attrs():
            needed.add((attr.source, attr.resolve(period)))
        for m in resolved.measures:
            needed |= m.attributes(period)
    for d in resolved.dimensions:
        needed |= {(a.source, a.name) for a in d.attrs}
    return needed


def _register_sources(con: duckdb.DuckDBPyConnection, resolved: Plan, data: LinkedData) -> list[str]:
    """Register the needed columns of every needed source; returns the joined sources in order."""
    needed = _needed_attrs(resolved)
    population = resolved.request.population
    sources = [population] + sorted({s for s, _ in needed} - {population})
    for source in sources:
        if source not in data.tables:
            raise LinkedDataError(
                f"no linked {source} data: the request needs "
                f"{', '.join(sorted(a for s, a in needed if s == source))} from it; upload a "
                f"{source} extract and run the linkage first"
            )
        table = data.tables[source]
        columns = ["entity_id", *sorted(a for s, a in needed if s == source)]
        missing = [c for c in columns if c not in table.column_names]
        if missing:
            raise LinkedDataError(
                f"the linked {source} data lack column(s) {', '.join(missing)} that the request needs"
            )
        if not pa.types.is_integer(table.schema.field("entity_id").type):
            raise LinkedDataError(f"{source}: entity_id must be an integer column")
        _check_declared_types(source, table, columns[1:])
        con.register(f"src_{source}", table.select(columns))
        ((duplicated, absent),) = con.execute(
            f"SELECT count(*) - count(DISTINCT entity_id), count(*) - count(entity_id) FROM src_{source}"
        ).fetchall()
        if duplicated or absent:
            raise LinkedDataError(
                f"{source}: entity ids must be present and unique (one record per source per "
                "linked person); the linkage result is inconsistent"
            )
    return sources


def _check_declared_types(source: str, table: pa.Table, columns: Sequence[str]) -> None:
    spec = SOURCES[source]
    for name in columns:
        expected = arrow_type(spec.attribute(name))
        actual = table.schema.field(name).type
        if actual != expected and not pa.types.is_null(actual) and not (
            pa.types.is_integer(expected) and pa.types.is_integer(actual)
        ):
            raise LinkedDataError(f"{source}.{name} is {actual}; it is declared as {expected}")


def _mapping_name(index: int) -> str:
    return f"dim_{index}"


def _register_mappings(con: duckdb.DuckDBPyConnection, dimensions: Sequence[ResolvedDimension],
                       periods: Sequence[int]) -> None:
    """One small table per dimension: each distinct input tuple (per period) and its category."""
    for index, dim in enumerate(dimensions):
        tuples = _distinct_inputs(con, dim.attrs)
        keys: list[tuple] = []
        categories: list[str] = []
        for period in (periods if dim.uses_period else periods[:1]):
            for values in tuples:
                keys.append((period, *values))
                categories.append(dim.categorise(period, values))
        allowed = set(dim.categories)
        strays = sorted(set(categories) - allowed)
        if strays:
            raise RuntimeError(f"dimension {dim.name} produced undeclared categories {strays}")
        columns = {"period": pa.array([k[0] for k in keys], pa.int32())}
        for i, attr in enumerate(dim.attrs):
            columns[f"k{i}"] = pa.array([k[i + 1] for k in keys], _input_type(attr))
        columns["category"] = pa.array(categories, pa.string())
        con.register(_mapping_name(index), pa.table(columns))


def _distinct_inputs(con: duckdb.DuckDBPyConnection, attrs: Sequence[Attr]) -> list[tuple]:
    """Every distinct tuple of the attributes in their source, plus all-missing (unlinked)."""
    if not attrs:
        return [()]
    (source,) = {a.source for a in attrs}
    cols = ", ".join(f'"{a.name}"' for a in attrs)
    found = con.execute(f"SELECT DISTINCT {cols} FROM src_{source}").fetchall()
    missing = (None,) * len(attrs)
    return list(dict.fromkeys([*found, missing]))


def _input_type(attr: Attr) -> pa.DataType:
    return arrow_type(SOURCES[attr.source].attribute(attr.name))


def _column(attr: Attr) -> str:
    return f"{attr.source}__{attr.name}"


def _query(resolved: Plan, sources: Sequence[str]) -> str:
    """Per period: population rows with cohort/numerator flags; then one row per person and
    period with its categories (mapped) and flags."""
    request, population = resolved.request, resolved.population
    measures, dimensions = resolved.measures, resolved.dimensions
    dim_attrs = list(dict.fromkeys(a for d in dimensions for a in d.attrs))
    joins = "".join(
        f' LEFT JOIN src_{s} AS "{s}" ON "{s}".entity_id = "{request.population}".entity_id'
        for s in sources[1:]
    )
    selects = []
    for period in request.periods:
        flags = []
        for i, m in enumerate(measures):
            flags.append(f"({all_sql(m.cohort, period)}) AS in_{i}")
            flags.append(f"({all_sql(m.numerator, period)}) AS num_{i}")
        attrs = [f'{a.sql(period)} AS "{_column(a)}"' for a in dim_attrs]
        selects.append(
            f'SELECT {period} AS period, "{request.population}".entity_id AS entity_id, '
            f"{', '.join(attrs + flags)} "
            f'FROM src_{request.population} AS "{request.population}"{joins} '
            f"WHERE {population.period_filter.sql(period)}"
        )
    mapped = []
    for index, dim in enumerate(dimensions):
        on = [f'base."{_column(a)}" IS NOT DISTINCT FROM {_mapping_name(index)}.k{i}'
              for i, a in enumerate(dim.attrs)]
        if dim.uses_period:
            on.append(f"base.period = {_mapping_name(index)}.period")
        mapped.append(f" LEFT JOIN {_mapping_name(index)} ON {' AND '.join(on) or 'TRUE'}")
    groups = [f"{_mapping_name(i)}.category AS d{i}" for i in range(len(dimensions))]
    flags = [f"coalesce({f}_{i}, FALSE) AS {f}_{i}" for i in range(len(measures)) for f in ("in", "num")]
    return (f"WITH base AS ({' UNION ALL '.join(selects)}) "
            f"SELECT base.entity_id, base.period, {', '.join(groups + flags)} "
            f"FROM base{''.join(mapped)}")
