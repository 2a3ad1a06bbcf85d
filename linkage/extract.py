"""The encoded-extract file: what a provider uploads and what ``linkage match`` reads.

An extract is one Parquet file, inspectable with any Parquet tool (``duckdb``, ``pyarrow``,
``parquet-tools``). Columns:

- ``record_id`` (string): the provider's opaque record reference;
- ``clk`` (fixed-size binary, ``clk_bits / 8`` bytes): the clkhash Bloom filter;
- ``exact_token`` (binary, 32 bytes, may be null): the token of a valid INSZ, its first byte
  the kind of number (:func:`linkage.insz.exact_token`);
- ``replaced_token`` (optional, binary, 32 bytes, may be null): the token of the number the
  record's own number replaced (the BIS number a national-register number superseded), when
  the provider knows it (``linkage encode --replaced-column``);
- the payload columns declared for the source in :mod:`linkage.sources`, typed.

The header lives in the Parquet key-value metadata under ``linkage.*`` keys (see
:class:`ExtractHeader`). No plaintext identifier is ever a column.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from linkage.errors import LinkageError
from linkage.files import atomic_file
from linkage.sources import IDENTIFIERS_ONLY, Attribute, Value, source_spec

FORMAT = "linkage-extract/1"
TOKEN_BYTES = 32
REPLACED_TOKEN = "replaced_token"
ENCODING_COLUMNS = ("record_id", "clk", "exact_token", REPLACED_TOKEN)
"""Every column that is not payload (``replaced_token`` is optional)."""
_PREFIX = "linkage."


class ExtractError(LinkageError, ValueError):
    """The file is not a valid encoded extract; the message says what is wrong."""


@dataclass(frozen=True)
class ExtractHeader:
    source: str
    fingerprint: str
    """Linkage-configuration fingerprint: schema, normalisation and token scheme together.
    Two extracts link only when their fingerprints are equal."""
    schema_fingerprint: str
    normalisation_version: str
    clk_bits: int
    record_count: int
    created: str
    """Creation time, ISO 8601 in UTC."""
    payload_version: str
    payload_columns: tuple[str, ...]
    summary: dict = field(default_factory=dict)
    """Encoding summary (counts only, never values): rejected rows, missing values, token coverage."""
    format: str = FORMAT

    def to_metadata(self) -> dict[bytes, bytes]:
        items = asdict(self)
        items["payload_columns"] = list(self.payload_columns)
        return {
            (_PREFIX + key).encode(): json.dumps(value, sort_keys=True).encode()
            for key, value in items.items()
        }

    @classmethod
    def from_metadata(cls, metadata: dict[bytes, bytes] | None) -> "ExtractHeader":
        if not metadata or (_PREFIX + "format").encode() not in metadata:
            raise ExtractError("no linkage header: this is not a file made by 'linkage encode'")
        values = {}
        for key, raw in metadata.items():
            name = key.decode()
            if name.startswith(_PREFIX):
                values[name[len(_PREFIX):]] = json.loads(raw)
        if values.get("format") != FORMAT:
            raise ExtractError(f"unsupported extract format {values.get('format')!r}; expected {FORMAT}")
        try:
            values["payload_columns"] = tuple(values["payload_columns"])
            return cls(**values)
        except TypeError as exc:
            raise ExtractError(f"damaged linkage header: {exc}") from None


@dataclass
class Extract:
    header: ExtractHeader
    record_ids: list[str]
    clks: np.ndarray
    """Shape (records, clk_bits // 8), dtype uint8."""
    exact_tokens: list[bytes | None]
    payload: dict[str, list[Value]] = field(default_factory=dict)
    replaced_tokens: list[bytes | None] | None = None
    """Written as the ``replaced_token`` column when not ``None``."""


def arrow_type(attribute: Attribute) -> pa.DataType:
    return {
        "str": pa.string(),
        "category": pa.string(),
        "int": pa.int32(),
        "date": pa.date32(),
        "bool": pa.bool_(),
    }[attribute.kind]


def write_extract(path: str | Path, extract: Extract) -> None:
    """Write atomically: the file appears complete under its name, or not at all."""
    header = extract.header
    n = len(extract.record_ids)
    nbytes = header.clk_bits // 8
    if extract.clks.shape != (n, nbytes) or extract.clks.dtype != np.uint8:
        raise ExtractError(f"CLK array has shape {extract.clks.shape}, expected ({n}, {nbytes}) uint8")
    if len(extract.exact_tokens) != n or header.record_count != n:
        raise ExtractError("record count, tokens and record ids disagree")
    if extract.replaced_tokens is not None and len(extract.replaced_tokens) != n:
        raise ExtractError("record count and replaced-number tokens disagree")
    spec = source_spec(header.source)
    columns = {
        "record_id": pa.array(extract.record_ids, pa.string()),
        "clk": pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(nbytes), n, [None, pa.py_buffer(np.ascontiguousarray(extract.clks).tobytes())]
        ),
        "exact_token": pa.array(extract.exact_tokens, pa.binary(TOKEN_BYTES)),
    }
    if extract.replaced_tokens is not None:
        columns[REPLACED_TOKEN] = pa.array(extract.replaced_tokens, pa.binary(TOKEN_BYTES))
    for name in header.payload_columns:
        attribute = spec.attribute(name)
        columns[name] = pa.array(extract.payload[name], arrow_type(attribute))
    table = pa.table(columns).replace_schema_metadata(header.to_metadata())
    with atomic_file(path) as handle:
        pq.write_table(table, handle, compression="zstd")


def read_header(path: str | Path) -> ExtractHeader:
    """Read only the header (cheap: the Parquet footer)."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ExtractError(f"{path}: not a readable Parquet file ({exc})") from None
    return ExtractHeader.from_metadata(schema.metadata)


def read_extract(path: str | Path, payload: Sequence[str] | None = None) -> Extract:
    """Read and check an extract; any inconsistency is an :class:`ExtractError`.

    ``payload``: the payload columns to read (those of them the extract has), instead of all:
    each value read becomes a Python object, some 13 of them per record of a KSZ extract."""
    try:
        names = pq.read_schema(path).names
        keep = None if payload is None else [n for n in names if n in {*ENCODING_COLUMNS, *payload}]
        table = pq.read_table(path, columns=keep)
    except (OSError, pa.ArrowInvalid) as exc:
        raise ExtractError(f"{path}: not a readable Parquet file ({exc})") from None
    header = ExtractHeader.from_metadata(table.schema.metadata)
    nbytes = header.clk_bits // 8
    for name in ("record_id", "clk", "exact_token"):
        if name not in table.column_names:
            raise ExtractError(f"{path}: column {name!r} is missing")
    if table.num_rows != header.record_count:
        raise ExtractError(
            f"{path}: header says {header.record_count} records, file holds {table.num_rows}"
        )
    clk_column = table.column("clk").combine_chunks()
    if clk_column.type != pa.binary(nbytes):
        raise ExtractError(f"{path}: CLKs are {clk_column.type}, header says {header.clk_bits} bits")
    if clk_column.null_count:
        raise ExtractError(f"{path}: {clk_column.null_count} records have no CLK")
    buffer = clk_column.buffers()[1]
    offset = clk_column.offset * nbytes
    clks = np.frombuffer(buffer, dtype=np.uint8, count=table.num_rows * nbytes, offset=offset)
    clks = clks.reshape(table.num_rows, nbytes).copy()
    undeclared = set(names) - {*ENCODING_COLUMNS, *header.payload_columns}
    if undeclared:
        raise ExtractError(f"{path}: undeclared columns {sorted(undeclared)}")
    return Extract(
        header=header,
        record_ids=table.column("record_id").to_pylist(),
        clks=clks,
        exact_tokens=table.column("exact_token").to_pylist(),
        payload={name: table.column(name).to_pylist() for name in header.payload_columns
                 if name in table.column_names},
        replaced_tokens=replaced_tokens(table),
    )


def replaced_tokens(table: pa.Table) -> list[bytes | None] | None:
    """The ``replaced_token`` column of an extract's table, or ``None`` when it has none."""
    if REPLACED_TOKEN not in table.column_names:
        return None
    column = table.column(REPLACED_TOKEN)
    if column.type != pa.binary(TOKEN_BYTES):
        raise ExtractError(f"column {REPLACED_TOKEN!r} is {column.type}, expected {TOKEN_BYTES}-byte binary")
    return column.to_pylist()


def read_clkhash_json(path: str | Path, source: str | None = None) -> Extract:
    """Read clkhash's own output (``{"clks": [base64, ...]}``) as an extract without tokens.

    Record ids are the row numbers, as clkhash writes CLKs in input order.
    """
    try:
        document = json.loads(Path(path).read_text())
        encoded: Sequence[str] = document["clks"]
        raw = [base64.b64decode(item, validate=True) for item in encoded]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExtractError(f"{path}: not a clkhash CLK file ({exc})") from None
    lengths = {len(item) for item in raw}
    if len(lengths) > 1:
        raise ExtractError(f"{path}: CLKs of different lengths {sorted(lengths)}")
    nbytes = lengths.pop() if lengths else 128
    clks = np.frombuffer(b"".join(raw), dtype=np.uint8).reshape(len(raw), nbytes).copy()
    name = source or Path(path).stem
    header = ExtractHeader(
        source=name,
        fingerprint="clkhash-json",
        schema_fingerprint="unknown",
        normalisation_version="unknown",
        clk_bits=nbytes * 8,
        record_count=len(raw),
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        payload_version="",
        payload_columns=(),
    )
    return Extract(header, [str(i) for i in range(len(raw))], clks, [None] * len(raw))


def load_encoded(path: str | Path, payload: Sequence[str] | None = None) -> Extract:
    """Read either an extract (Parquet) or a clkhash JSON CLK file, by content (``payload``:
    as for :func:`read_extract`)."""
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic == b"PAR1":
        extract = read_extract(path, payload)
        if extract.header.source == IDENTIFIERS_ONLY.name:
            # Encoded without --source: the file name tells the sets apart.
            return dataclasses.replace(extract, header=dataclasses.replace(extract.header, source=Path(path).stem))
        return extract
    return read_clkhash_json(path)

