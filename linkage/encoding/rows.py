"""Encoding a chunk of CSV rows: validate everything first, then let clkhash hash.

Every cell of a row is normalised and checked by us (identifiers against the schema,
payload against its declaration, the national number with its checksum) before clkhash
sees the row, so clkhash can never fail on a bad value. A noisy identifier (an impossible
date, a value the schema's format refuses) is data: it is hashed for what it holds or
counted missing, and noted with its line, column and reason; the row stays. Only a row
that cannot be a record is rejected: a wrong number of fields, an empty record reference,
a payload value outside its declaration (the statistics would be wrong). This runs in the main
process or in worker processes (:mod:`linkage.encoding.pool`), with the same result.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from linkage.encoding.blip import blip_key, flip
from linkage.encoding.bloom import ClkBuilder
from linkage.encoding.csvinput import Row
from linkage.encoding.diffusion import diffuse, diffusion_key, inputs
from linkage.encoding.features import CACHE_SIZE, plan_features
from linkage.encoding.keys import feature_keys
from linkage.encoding.schema import LinkageSchema, SchemaError
from linkage.encoding.summary import ChunkResult, PayloadColumn, Problem
from linkage.insz import InvalidInsz, exact_token, parse_insz, token_key
from linkage.sources import Attribute, PayloadError, source_spec


@dataclass(frozen=True)
class EncoderConfig:
    """Everything a worker needs (sent once per worker process)."""

    schema: LinkageSchema
    secret: bytes
    header: tuple[str, ...]
    source: str
    id_column: str | None = None
    exact_column: str | None = None
    replaced_column: str | None = None
    """Column with the number the record's own number replaced (a former BIS number)."""


class ColumnsMissing(SchemaError):
    """The CSV lacks columns the schema, the source declaration or an option names."""


def expectation(attribute: Attribute) -> str:
    """What a payload attribute accepts, for messages that must not repeat the value."""
    if attribute.kind == "category":
        return "not one of " + ", ".join(attribute.allowed)
    if attribute.kind == "int":
        bounds = ""
        if attribute.minimum is not None and attribute.maximum is not None:
            bounds = f" from {attribute.minimum} to {attribute.maximum}"
        return "not a whole number" + bounds
    if attribute.kind == "date":
        return "not a date in the form YYYY-MM-DD"
    if attribute.kind == "bool":
        return "not a yes/no value (1 or 0)"
    return f"does not match {attribute.pattern}" if attribute.pattern else "not accepted"


class RowEncoder:
    def __init__(self, config: EncoderConfig) -> None:
        self.config = config
        clk_schema = config.schema.clkhash_schema()
        self.features = plan_features(clk_schema.fields)
        self.payload = source_spec(config.source).payload
        self.parsers = [lru_cache(maxsize=CACHE_SIZE)(attribute.parse) for attribute in self.payload]
        """Per payload attribute, its parser, remembering the values it has seen (they repeat:
        codes, years, categories); a value it refuses is refused again each time."""
        index = {name: i for i, name in enumerate(config.header)}
        needed = [column for feature in self.features if feature is not None for column in feature.columns]
        needed += [attribute.name for attribute in self.payload]
        needed += [name for name in (config.id_column, config.exact_column, config.replaced_column) if name]
        absent = list(dict.fromkeys(name for name in needed if name not in index))
        if absent:
            raise ColumnsMissing(
                f"the input has no column {', '.join(map(repr, absent))} (named by the schema, "
                f"the {config.source} payload declaration or an option); its columns are: "
                f"{', '.join(config.header)}"
            )
        self.index = index
        self.payload_positions = [index[attribute.name] for attribute in self.payload]
        self.positions = [None if feature is None else tuple(index[column] for column in feature.columns)
                          for feature in self.features]
        self.feature_count = len(self.feature_names)
        self.clk_builder = ClkBuilder(clk_schema, feature_keys(clk_schema, config.secret, self.features))
        self.token_key = token_key(config.secret) if config.exact_column or config.replaced_column else None
        self.flip_probability = config.schema.flip_probability
        self.flip_key = blip_key(config.secret) if self.flip_probability else None
        t = config.schema.diffusion_inputs
        self.diffusion = inputs(diffusion_key(config.secret), 8 * self.clk_builder.bytes, t) if t else None

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(feature.identifier for feature in self.features if feature is not None)

    def encode(self, rows: Iterable[Row]) -> ChunkResult:
        result = ChunkResult(payload={attribute.name: PayloadColumn() for attribute in self.payload})
        columns = list(result.payload.values())
        seen: list[dict[str, int]] = [{} for _ in self.payload]  # per attribute: cell text -> code
        clks = bytearray()
        width = len(self.config.header)
        for row in rows:
            if len(row.cells) != width:
                result.problems.append(Problem(
                    row.line, "(row)", f"has {len(row.cells)} fields where the header has {width}"))
                result.rejected_rows += 1
                continue
            problems: list[Problem] = []
            noisy: list[Problem] = []
            record_id = self._record_id(row, problems)
            values, missing = self._features(row, noisy)
            payload = self._payload(row, problems, columns, seen)
            token, status = self._token(row, self.config.exact_column)
            replaced, replaced_status = self._token(row, self.config.replaced_column)
            if not problems:
                try:
                    clks += self.clk_builder.clk(values)
                except Exception as exc:  # noqa: BLE001 - defence in depth: clkhash messages repeat values
                    problems.append(Problem(row.line, "(row)", f"clkhash could not encode it ({type(exc).__name__})"))
            if problems:
                result.problems.extend(problems)
                result.rejected_rows += 1
                continue
            result.record_ids.append(record_id)
            result.lines.append(row.line)
            result.tokens.append(token)
            result.replaced_tokens.append(replaced)
            if replaced_status is not None:
                result.replaced_status[replaced_status] += 1
            for column, code in zip(columns, payload):
                column.codes.append(code)
            result.missing.update(missing)
            result.noisy.extend(noisy)
            if status is not None:
                result.token_status[status] += 1
                if status == "invalid":
                    result.invalid_token_lines.append(row.line)
            if len(missing) == self.feature_count and token is None:
                result.without_identifiers += 1
        result.clks = bytes(clks)
        if self.diffusion is not None:
            result.clks = diffuse(result.clks, self.clk_builder.bytes, self.diffusion)
        if self.flip_key is not None:
            result.clks = flip(result.clks, self.clk_builder.bytes, self.flip_key, self.flip_probability)
        result.bits_set = int.from_bytes(result.clks, "big").bit_count()
        return result

    def _record_id(self, row: Row, problems: list[Problem]) -> str:
        if self.config.id_column is None:
            return str(row.number)
        record_id = row.cells[self.index[self.config.id_column]].strip()
        if not record_id:
            problems.append(Problem(row.line, self.config.id_column, "empty record reference"))
        return record_id

    def _features(self, row: Row, noisy: list[Problem]) -> tuple[list[str], list[str]]:
        """Values to hash and the features missing; a noisy cell is noted once per column."""
        values: list[str] = []
        missing: list[str] = []
        noted: set[str] = set()
        cells = row.cells
        for feature, positions in zip(self.features, self.positions):
            if feature is None:
                values.append("")
                continue
            value, note = feature.cell(*[cells[i] for i in positions])
            if note is not None and noted.isdisjoint(feature.columns):
                noted.update(feature.columns)
                noisy.append(Problem(row.line, feature.column, note))
            if value is None:
                missing.append(feature.identifier)
                values.append(feature.missing_token)
            else:
                values.append(value)
        return values, missing

    def _payload(self, row: Row, problems: list[Problem], columns: list[PayloadColumn],
                 seen: list[dict[str, int]]) -> list[int]:
        """The codes of the row's payload values in this block's columns (``seen``: the
        code of each cell text met so far, per column)."""
        codes = []
        for attribute, position, parse, column, known in zip(self.payload, self.payload_positions, self.parsers,
                                                             columns, seen):
            cell = row.cells[position]
            code = known.get(cell)
            if code is None:
                try:
                    value = parse(cell)
                except PayloadError:
                    problems.append(Problem(row.line, attribute.name, expectation(attribute)))
                    continue
                code = known[cell] = len(column.values)
                column.values.append(value)
            codes.append(code)
        return codes

    def _token(self, row: Row, column: str | None) -> tuple[bytes | None, str | None]:
        """The keyed token of the national number in ``column`` and its status."""
        if column is None:
            return None, None
        try:
            insz = parse_insz(row.cells[self.index[column]])
        except InvalidInsz:
            return None, "invalid"
        if insz is None:
            return None, "missing"
        return exact_token(insz, self.token_key), f"valid_{insz.kind}"

