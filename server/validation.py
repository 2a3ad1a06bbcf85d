"""Checks on an uploaded extract before the broker accepts it, and the copy it stores.

The broker is the trust boundary: besides the structure ``linkage.extract`` defines, it
checks that the extract fits the linkage configuration it was set up with (fingerprint,
CLK length), that record references are unique and opaque, and that every payload value
has the type and range its source declares, because the aggregate step counts on them.

Memory stays bounded whatever the upload's size: row counts and sizes are checked from the
Parquet footer before any data is decoded (a small file that would expand to millions of
rows is refused unread), the upload is read through a seekable stream in pieces, and the
rows are checked and written to the stored copy in batches. What the broker stores is
not the uploaded file but a copy rewritten from the declared columns and the header keys
only, so that nothing it did not validate (other key-value metadata, free content in the
summary, Arrow field metadata) is kept. Messages name columns, counts and the first bad
row, never a value.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from typing import Any, BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from linkage.auditlog.personal_data import text_holds_national_number
from linkage.errors import LinkageError
from linkage.extract import REPLACED_TOKEN, TOKEN_BYTES, ExtractError, ExtractHeader, arrow_type
from linkage.sources import Attribute, PayloadError, SourceSpec, source_spec

INVALID = "invalid"
PRECONDITION = "precondition"
BATCH_ROWS = 65_536
READ_BUFFER_BYTES = 1 << 20
"""Column chunks are read in pieces of this size, never whole."""
MAX_EXPANSION = 32
"""How many times its own size an extract may decode to: CLKs are close to random, so a
genuine extract decodes to about twice its size; more than this is a decompression bomb."""
_PAYLOAD_BYTES = 8
"""Decoded bytes counted per payload value (strings are short codes)."""
_SUMMARY_COUNTS = ("rows_read", "records", "rejected_rows", "without_identifiers", "ignored_columns")
_TOKEN_COUNTS = ("valid_nn", "valid_bis", "invalid", "missing", "duplicate")
_NAME_LIKE = re.compile(r"^[^\d@]*$")
"""A reference without a digit (a name) or with an ``@`` (an e-mail address)..."""
_HEX_CODE = re.compile(r"^[A-Za-z]?[0-9A-Fa-f]+$")
"""...unless it is a hexadecimal code with an optional one-letter prefix."""


class ExtractRejected(LinkageError):
    """An upload is not an acceptable extract. ``kind`` says which gRPC status fits."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Expectation:
    source: str
    clk_bits: int


def _first_row(mask: pa.ChunkedArray | pa.Array) -> int:
    """Index of the first true value in a boolean mask (nulls count as false)."""
    indices = pc.indices_nonzero(pc.fill_null(mask, False))
    return int(indices[0].as_py())


def _bad_values(attribute: Attribute, column: pa.Array) -> pa.Array | None:
    """Boolean mask of values outside the declaration, or None when all fit (a missing
    value always fits)."""
    if attribute.kind == "category":
        outside = pc.invert(pc.is_in(column, value_set=pa.array(attribute.allowed, pa.string())))
        bad = pc.and_(outside, pc.is_valid(column))
    elif attribute.kind == "str" and attribute.pattern:
        bad = pc.invert(pc.match_substring_regex(column, f"^(?:{attribute.pattern})$"))
    elif attribute.kind == "int" and (attribute.minimum is not None or attribute.maximum is not None):
        low = pc.less(column, attribute.minimum) if attribute.minimum is not None else None
        high = pc.greater(column, attribute.maximum) if attribute.maximum is not None else None
        bad = low if high is None else high if low is None else pc.or_(low, high)
    else:
        return None
    bad = pc.fill_null(bad, False)
    return bad if pc.any(bad).as_py() else None


def identifier_like(ids: pa.Array) -> pa.Array:
    """Mask of record references that look like personal data: a national number, a
    name or an e-mail address instead of an opaque code."""
    named = pc.and_(pc.match_substring_regex(ids, _NAME_LIKE.pattern),
                    pc.invert(pc.match_substring_regex(ids, _HEX_CODE.pattern)))
    digits = pc.match_substring_regex(ids, r"\d{2}[.\- ]?\d{2}[.\- ]?\d{2}[.\- ]?\d{3}[.\- ]?\d{2}")
    if pc.any(pc.fill_null(digits, False)).as_py():
        numbers = [bool(text) and text_holds_national_number(text) for text in ids.to_pylist()]
        named = pc.or_(named, pa.array(numbers, pa.bool_()))
    return pc.fill_null(named, False)


class _References:
    """The record references of an extract as 128-bit digests (16 bytes a record instead of
    the references themselves), to find duplicates; two different references share a digest
    with a probability far below 1e-20 for any extract size."""

    def __init__(self) -> None:
        self._digests = bytearray()

    def add(self, references: pa.Array) -> None:
        self._digests += b"".join(hashlib.blake2b(text.encode(), digest_size=16).digest()
                                  for text in references.to_pylist())

    def duplicates(self) -> int:
        digests = np.frombuffer(self._digests, dtype=np.uint64).reshape(-1, 2)
        first_half = np.sort(digests[:, 0])
        if not np.any(first_half[1:] == first_half[:-1]):  # the usual case, without a full sort
            return 0
        return len(digests) - len(np.unique(digests, axis=0))


def _header(schema: pa.Schema) -> ExtractHeader:
    try:
        return ExtractHeader.from_metadata(schema.metadata)
    except ExtractError as exc:
        raise ExtractRejected(INVALID, str(exc)) from None
    except (ValueError, UnicodeDecodeError, TypeError, AttributeError):
        raise ExtractRejected(
            INVALID, "the extract's linkage header is damaged: every linkage.* value must be JSON "
            "as 'linkage encode' writes it"
        ) from None


def _clean_summary(summary: Any) -> dict[str, Any]:
    """The summary's counts only (no column names, reasons or other text)."""
    if not isinstance(summary, dict):
        return {}
    kept: dict[str, Any] = {key: summary[key] for key in _SUMMARY_COUNTS
                            if type(summary.get(key)) is int}
    if isinstance(summary.get("clk_fill"), (int, float)) and not isinstance(summary["clk_fill"], bool):
        kept["clk_fill"] = float(summary["clk_fill"])
    for name in ("exact_token", "replaced_token"):
        tokens = summary.get(name)
        if isinstance(tokens, dict):
            kept[name] = {key: tokens[key] for key in _TOKEN_COUNTS if type(tokens.get(key)) is int}
    return kept


def _check_header(header: ExtractHeader, expected: Expectation) -> SourceSpec:
    if header.source != expected.source:
        raise ExtractRejected(
            INVALID,
            f"the extract's header names source {header.source!r}, but it was uploaded as {expected.source!r}",
        )
    if header.clk_bits != expected.clk_bits:
        raise ExtractRejected(
            INVALID, f"the extract's CLKs have {header.clk_bits} bits; this broker links {expected.clk_bits}-bit CLKs"
        )
    try:
        spec = source_spec(header.source)
    except PayloadError as exc:
        raise ExtractRejected(INVALID, str(exc)) from None
    if header.payload_version != spec.payload_version:
        raise ExtractRejected(
            PRECONDITION,
            f"the extract declares payload version {header.payload_version!r}; the broker uses "
            f"{spec.payload_version!r}: encode again with the current 'linkage encode'",
        )
    declared = {attribute.name for attribute in spec.payload}
    undeclared = sorted(set(header.payload_columns) - declared)
    if undeclared:
        raise ExtractRejected(
            INVALID, f"payload column(s) {', '.join(undeclared)} are not declared for source {header.source!r}"
        )
    return spec


def stored_schema(header: ExtractHeader, spec: SourceSpec, clk_bits: int, replaced: bool = False) -> pa.Schema:
    """The schema of the copy the broker stores: declared columns (``replaced``: with the
    optional replaced-number tokens), no field metadata, the header (with a counts-only
    summary) as the only key-value metadata."""
    fields = [pa.field("record_id", pa.string()), pa.field("clk", pa.binary(clk_bits // 8)),
              pa.field("exact_token", pa.binary(TOKEN_BYTES))]
    if replaced:
        fields.append(pa.field(REPLACED_TOKEN, pa.binary(TOKEN_BYTES)))
    fields += [pa.field(name, arrow_type(spec.attribute(name))) for name in header.payload_columns]
    return pa.schema(fields, metadata=header.to_metadata())


def _check_columns(found: pa.Schema, wanted: pa.Schema) -> None:
    names = set(found.names)
    extra = sorted(names - set(wanted.names))
    missing = sorted(set(wanted.names) - names)
    if extra or missing or len(found.names) != len(names):
        raise ExtractRejected(
            INVALID,
            "the extract's columns do not match its header"
            + (f"; undeclared: {', '.join(extra)}" if extra else "")
            + (f"; missing: {', '.join(missing)}" if missing else "")
            + ("; a column appears twice" if len(found.names) != len(names) else ""),
        )
    for field in wanted:
        if found.field(field.name).type != field.type:
            raise ExtractRejected(
                INVALID, f"column {field.name!r} has type {found.field(field.name).type}, expected {field.type}"
            )


def _check_footer(metadata: pq.FileMetaData, header: ExtractHeader, size: int, schema: pa.Schema) -> None:
    """Row count and decoded size from the footer, before any data is read."""
    if metadata.num_rows != header.record_count:
        raise ExtractRejected(
            INVALID, f"the header says {header.record_count} records, the file holds {metadata.num_rows}"
        )
    if metadata.num_rows == 0:
        raise ExtractRejected(INVALID, "the extract holds no records")
    tokens = TOKEN_BYTES * (2 if REPLACED_TOKEN in schema.names else 1)
    payload = len(header.payload_columns)
    row_bytes = schema.field("clk").type.byte_width + tokens + 16 + _PAYLOAD_BYTES * payload
    # Repeated values shrink under dictionary and run-length encoding (counted by rows), long
    # values under compression (counted by the column chunks' sizes before compression).
    encoded = sum(metadata.row_group(g).column(c).total_uncompressed_size
                  for g in range(metadata.num_row_groups) for c in range(metadata.num_columns))
    decoded = max(metadata.num_rows * row_bytes, encoded)
    if decoded > MAX_EXPANSION * size:
        raise ExtractRejected(
            INVALID,
            f"the file of {size} bytes would decode to about {decoded // 2**20} MiB ({metadata.num_rows} "
            f"records), more than {MAX_EXPANSION} times its size: genuine CLKs do not compress like "
            "that, so it was not read",
        )


def _check_batch(batch: pa.RecordBatch, spec: SourceSpec, header: ExtractHeader, first_row: int) -> None:
    for name in ("record_id", "clk"):
        nulls = batch.column(name).null_count
        if nulls:
            raise ExtractRejected(INVALID, f"column {name!r} is empty in {nulls} record(s)")
    suspicious = identifier_like(batch.column("record_id"))
    if pc.any(suspicious).as_py():
        raise ExtractRejected(
            INVALID,
            f"record_id: {pc.sum(suspicious).as_py()} reference(s) look like a name, an e-mail address "
            f"or a national number, first at row {first_row + _first_row(suspicious) + 1}; record "
            "references must be opaque codes (random or sequential) that only the provider can map back",
        )
    for name in header.payload_columns:
        attribute = spec.attribute(name)
        bad = _bad_values(attribute, batch.column(name))
        if bad is not None:
            raise ExtractRejected(
                INVALID,
                f"column {name!r}: {pc.sum(bad).as_py()} value(s) outside its declaration "
                f"({attribute.description}), first at row {first_row + _first_row(bad) + 1}",
            )


def validate_extract(source: BinaryIO | pa.NativeFile, size: int, expected: Expectation,
                     sink: BinaryIO) -> ExtractHeader:
    """Check the uploaded extract readable from ``source`` (``size`` bytes) and write the
    copy the broker stores to ``sink``; raise :class:`ExtractRejected` if unfit, with
    nothing of value left in ``sink``. Memory stays bounded by a batch, whatever the size.
    The linkage fingerprint is checked by :mod:`server.linkage_config`."""
    try:
        parquet = pq.ParquetFile(source, buffer_size=READ_BUFFER_BYTES, pre_buffer=False)
        found = parquet.schema_arrow
    except (OSError, pa.ArrowException) as exc:
        raise ExtractRejected(INVALID, f"the upload is not a readable Parquet extract ({type(exc).__name__})") from None
    header = _header(found)
    spec = _check_header(header, expected)
    header = replace(header, summary=_clean_summary(header.summary))
    schema = stored_schema(header, spec, expected.clk_bits, REPLACED_TOKEN in found.names)
    _check_columns(found, schema)
    _check_footer(parquet.metadata, header, size, schema)
    references = _References()
    rows = 0
    try:
        with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
            for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=schema.names, use_threads=False):
                batch = pa.RecordBatch.from_arrays([batch.column(name) for name in schema.names], schema=schema)
                _check_batch(batch, spec, header, rows)
                references.add(batch.column("record_id"))
                writer.write_batch(batch)
                rows += batch.num_rows
    except (OSError, pa.ArrowException) as exc:
        raise ExtractRejected(INVALID, f"the extract's data cannot be read ({type(exc).__name__})") from None
    if rows != header.record_count:
        raise ExtractRejected(INVALID, f"the header says {header.record_count} records, the file holds {rows}")
    duplicates = references.duplicates()
    if duplicates:
        raise ExtractRejected(INVALID, f"record_id is not unique: {duplicates} duplicate reference(s)")
    return header
