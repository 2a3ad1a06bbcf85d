"""``encode_csv``: a provider's CSV in, an encoded extract and its summary out."""

from __future__ import annotations

import datetime as _dt
from array import array
from pathlib import Path
from typing import Callable

import numpy as np

from linkage.encoding.csvinput import count_lines, open_blocks
from linkage.encoding.keys import shares_name_key
from linkage.encoding.pool import encode_chunks
from linkage.encoding.rows import EncoderConfig, RowEncoder
from linkage.encoding.schema import LinkageSchema, load_schema
from linkage.encoding.secret import key_check
from linkage.encoding.summary import MAX_LISTED, Summary
from linkage.errors import LinkageError
from linkage.extract import Extract, ExtractHeader
from linkage.normalise import DATE_FORMS, NORMALISATION_VERSION
from linkage.sources import source_spec

Progress = Callable[[int, int], None]
"""Called with (rows done, rows expected) as encoding goes on."""
PARALLEL_FROM_ROWS = 20_000
"""Smaller inputs are encoded in one process whatever ``workers`` says: starting workers
costs more than it saves."""


class RejectedRows(LinkageError):
    """More rows were rejected than allowed; the message lists them. Nothing is written."""

    def __init__(self, message: str, summary: Summary) -> None:
        super().__init__(message)
        self.summary = summary


class DuplicateRecordIds(LinkageError):
    """The record-reference column is not unique."""


def encode_csv(
    input_path: str | Path,
    schema: LinkageSchema | str | Path,
    secret: bytes,
    *,
    source: str,
    id_column: str | None = None,
    exact_column: str | None = None,
    replaced_column: str | None = None,
    max_rejected: int = 0,
    workers: int = 1,
    delimiter: str | None = None,
    progress: Progress | None = None,
) -> tuple[Extract, Summary]:
    """Encode a provider's CSV into an extract (not yet written; see ``write_extract``).

    Noisy identifier values are kept and counted (``Summary.noisy_counts``); rows that cannot
    be records are rejected with their line, column and reason. With more than
    ``max_rejected`` rejected rows (default 0: any bad row) nothing is returned and
    :class:`RejectedRows` lists them, so that no person is left out without the provider
    deciding so. ``replaced_column``: the number each record's own number replaced, where the
    provider knows it (the population register knows which BIS number a register number
    superseded), written as a token of its own so that records elsewhere that still carry the
    old number link exactly.
    """
    spec = source_spec(source)
    if not isinstance(schema, LinkageSchema):
        schema = load_schema(schema)
    if not secret:
        raise LinkageError("the linkage secret is empty")
    if max_rejected < 0:
        raise LinkageError("max_rejected must be 0 or more")
    if workers < 1:
        raise LinkageError("workers must be at least 1")
    expected = max(count_lines(input_path) - 1, 0)
    if expected < PARALLEL_FROM_ROWS:
        workers = 1
    with open_blocks(input_path, delimiter) as (header, blocks):
        config = EncoderConfig(schema, secret, tuple(header), source, id_column, exact_column, replaced_column)
        encoder = RowEncoder(config)
        used = {column for feature in encoder.features if feature is not None for column in feature.columns}
        _check_id_column(id_column, used | {exact_column, replaced_column})
        used |= {attribute.name for attribute in spec.payload} | {id_column, exact_column, replaced_column}
        summary = Summary(encoder.feature_names, exact_column, schema.clk_bits,
                          ignored_columns=tuple(name for name in header if name not in used),
                          workers=workers, replaced_column=replaced_column)
        collected = _Collector(spec.payload)
        for chunk in encode_chunks(encoder, blocks, workers):
            if id_column is None:  # row numbers count from each block's start
                chunk.record_ids = [str(summary.rows_read + int(number)) for number in chunk.record_ids]
            summary.add(chunk)
            collected.add(chunk)
            if progress is not None:
                progress(summary.rows_read, max(expected, summary.rows_read))
    _check_outcome(summary, collected, max_rejected, id_column, input_path)
    tokens = collected.tokens
    summary.token_status["duplicate"] = _duplicates(tokens)
    header_info = ExtractHeader(
        source=source,
        fingerprint=schema.configuration_fingerprint(key_check(secret), shares_name_key(encoder.features)),
        schema_fingerprint=schema.fingerprint,
        normalisation_version=NORMALISATION_VERSION,
        clk_bits=schema.clk_bits,
        record_count=summary.records,
        created=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        payload_version=spec.payload_version,
        payload_columns=tuple(attribute.name for attribute in spec.payload),
        summary=summary.counts(),
    )
    clks = np.frombuffer(b"".join(collected.clks), dtype=np.uint8).reshape(summary.records, schema.clk_bits // 8)
    replaced = collected.replaced_tokens if replaced_column is not None else None
    return Extract(header_info, collected.record_ids, clks, tokens, collected.payload, replaced), summary


def _check_id_column(id_column: str | None, identifier_columns: set) -> None:
    if id_column is not None and id_column in identifier_columns:
        raise LinkageError(
            f"--id-column {id_column!r} is an identifier; record references are written in the "
            "clear, so use the provider's own opaque record key (or leave it out for row numbers)"
        )


class _Collector:
    """The records of all chunks; payload values are shared objects (few distinct values)."""

    def __init__(self, payload) -> None:
        self.record_ids: list[str] = []
        self.lines = array("I")
        self.clks: list[bytes] = []
        self.tokens: list[bytes | None] = []
        self.replaced_tokens: list[bytes | None] = []
        self.payload: dict[str, list] = {attribute.name: [] for attribute in payload}
        self._shared: dict = {}

    def add(self, chunk) -> None:
        self.record_ids.extend(chunk.record_ids)
        self.lines.extend(chunk.lines)
        self.clks.append(chunk.clks)
        self.tokens.extend(chunk.tokens)
        self.replaced_tokens.extend(chunk.replaced_tokens)
        for name, column in chunk.payload.items():
            # Keyed by type too: 0 == False and 1 == True would otherwise share an object.
            shared = np.empty(len(column.values), dtype=object)
            for index, value in enumerate(column.values):
                shared[index] = self._shared.setdefault((type(value), value), value)
            self.payload[name].extend(shared[np.frombuffer(column.codes, dtype=np.uint32)].tolist())

    def duplicate_lines(self) -> list[tuple[int, int]]:
        """(first line, later line) of record references that occur more than once."""
        if len(set(self.record_ids)) == len(self.record_ids):
            return []
        first_line: dict[str, int] = {}
        pairs: list[tuple[int, int]] = []
        for record_id, line in zip(self.record_ids, self.lines):
            first = first_line.setdefault(record_id, line)
            if first != line and len(pairs) < MAX_LISTED:
                pairs.append((first, line))
        return pairs


def _check_outcome(summary: Summary, collected: _Collector, max_rejected: int,
                   id_column: str | None, input_path) -> None:
    if summary.rejected_rows > max_rejected:
        allowed = "no rejected rows are allowed" if max_rejected == 0 else f"at most {max_rejected} are allowed"
        raise RejectedRows(
            f"{input_path}: {summary.rejected_rows} rows are invalid and {allowed}; nothing was written.\n"
            + "\n".join(f"  {problem}" for problem in summary.problems[:50])
            + ("\n  …" if len(summary.problems) > 50 else "")
            + "\nFix these rows, or rerun with --max-rejected N to leave up to N rows out "
            "(they are then listed in the summary, not encoded).",
            summary,
        )
    suspect = summary.suspect_columns()
    if suspect:
        columns = ", ".join(f"{column!r} ({count} of {summary.rows_read} rows)" for column, count in suspect.items())
        raise LinkageError(
            f"{input_path}: too many impossible or unreadable dates in {columns} to be typing errors; "
            f"is the day-month-year order right? Accepted forms: {DATE_FORMS}; nothing was written"
        )
    refusals = summary.refusals()
    if refusals:
        raise LinkageError(
            f"{input_path}: the schema's format (pattern, length or enum values) refuses the values of "
            f"{', '.join(sorted({repr(column) for column, _ in refusals}))} on too many rows to be noise, so the CLKs "
            "would not hold that feature; make the schema accept what normalisation gives (names and text: lower "
            "case without accents, words one space apart; an enum: the column's own values) or drop the "
            "constraint; nothing was written:\n"
            + "\n".join(f"  {column}: {reason} ({count} of {summary.rows_read} rows)"
                         for (column, reason), count in refusals.items())
        )
    duplicate_lines = collected.duplicate_lines()
    if duplicate_lines:
        pairs = ", ".join(f"lines {a} and {b}" for a, b in duplicate_lines[:20])
        raise DuplicateRecordIds(
            f"{input_path}: column {id_column!r} must hold a different record reference on each row, "
            f"but {pairs} share one; nothing was written"
        )
    if summary.records == 0:
        raise LinkageError(f"{input_path}: no records to encode; nothing was written")


def _duplicates(tokens: list[bytes | None]) -> int:
    """Records whose national number also appears on another record of this extract."""
    present = [token for token in tokens if token is not None]
    if not present:
        return 0
    array = np.frombuffer(b"".join(present), dtype="V32")
    _, counts = np.unique(array, return_counts=True)
    return int(counts[counts > 1].sum())
