"""What encoding did, in counts: printed for the provider and stored in the extract header.

Nothing here is ever an identifier value: problems carry a line number, a column name
and a reason.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field

from linkage.encoding.features import REFUSALS
from linkage.normalise import SUSPECT_NOTES

MAX_LISTED = 1000
"""Problems and line numbers kept for the report; all of them are counted."""
SUSPECT_SHARE = 0.05
SUSPECT_MINIMUM = 50
"""A column with more impossible or unreadable dates than this share of the rows (and at
least this many) is in another format, not mistyped: FEBRL 4's typing errors are 1.1 %,
a month-first file has about 60 %."""


@dataclass(frozen=True)
class Problem:
    line: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column!r}: {self.reason}"


@dataclass
class PayloadColumn:
    """A payload column of a chunk as its distinct values and, per record, the index of its
    value: few distinct values (codes, years, categories), sent and expanded in bulk."""

    values: list = field(default_factory=list)
    codes: array = field(default_factory=lambda: array("I"))


@dataclass
class ChunkResult:
    """The encoded records of one chunk of rows and what was counted on the way."""

    record_ids: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    clks: bytes = b""
    tokens: list[bytes | None] = field(default_factory=list)
    replaced_tokens: list[bytes | None] = field(default_factory=list)
    payload: dict[str, PayloadColumn] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    noisy: list[Problem] = field(default_factory=list)
    """Identifier cells kept although noisy (hashed for what they hold, or counted missing)."""
    rejected_rows: int = 0
    missing: Counter = field(default_factory=Counter)
    token_status: Counter = field(default_factory=Counter)
    invalid_token_lines: list[int] = field(default_factory=list)
    replaced_status: Counter = field(default_factory=Counter)
    without_identifiers: int = 0
    bits_set: int = 0


DENSE_FILL = 0.85
"""Above this share of bits set, the encodings lose links (docs/matching.md, candidate floor)."""
DENSE_WARNING = (
    "warning: {share:.0%} of the CLK bits are set: the scores of matches and non-matches crowd "
    "just below 1 and links are lost (FEBRL 4 under a plain schema with more bits per n-gram: F1 "
    "0.999 at 77 %, 0.992 at 90 %, 0.974 at 94 %, 0.90 at 97 % of the bits set); give the features "
    "fewer bits per n-gram or a longer CLK (about half the bits set links best)")


@dataclass
class Summary:
    features: tuple[str, ...]
    exact_column: str | None
    clk_bits: int
    rows_read: int = 0
    records: int = 0
    rejected_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_counts: Counter = field(default_factory=Counter)
    """(column, reason) -> number of rows."""
    noisy: list[Problem] = field(default_factory=list)
    noisy_counts: Counter = field(default_factory=Counter)
    """(column, reason) -> rows kept with a noisy value in that column."""
    missing: Counter = field(default_factory=Counter)
    token_status: Counter = field(default_factory=Counter)
    """valid_nn, valid_bis, invalid, missing, duplicate."""
    invalid_token_lines: list[int] = field(default_factory=list)
    without_identifiers: int = 0
    ignored_columns: tuple[str, ...] = ()
    bits_set: int = 0
    workers: int = 1
    """Processes that encoded (one below 20,000 rows: starting workers costs more)."""
    replaced_column: str | None = None
    replaced_status: Counter = field(default_factory=Counter)
    """valid_nn, valid_bis, invalid, missing of the replaced numbers."""

    def add(self, chunk: ChunkResult) -> None:
        self.records += len(chunk.record_ids)
        self.rows_read += len(chunk.record_ids) + chunk.rejected_rows
        self.rejected_rows += chunk.rejected_rows
        room = MAX_LISTED - len(self.problems)
        self.problems.extend(chunk.problems[:max(room, 0)])
        self.problem_counts.update((p.column, p.reason) for p in chunk.problems)
        room = MAX_LISTED - len(self.noisy)
        self.noisy.extend(chunk.noisy[:max(room, 0)])
        self.noisy_counts.update((p.column, p.reason) for p in chunk.noisy)
        self.missing.update(chunk.missing)
        self.token_status.update(chunk.token_status)
        self.replaced_status.update(chunk.replaced_status)
        room = MAX_LISTED - len(self.invalid_token_lines)
        self.invalid_token_lines.extend(chunk.invalid_token_lines[:max(room, 0)])
        self.without_identifiers += chunk.without_identifiers
        self.bits_set += chunk.bits_set

    def suspect_columns(self) -> dict[str, int]:
        """Columns whose impossible or unreadable dates are too many to be typing errors
        (:data:`SUSPECT_SHARE`): the column's format is the likely cause (month first,
        two-digit years). Column -> rows."""
        counts: Counter = Counter()
        for (column, _), count in self._crowded(SUSPECT_NOTES).items():
            counts[column] += count
        return dict(sorted(counts.items()))

    def refusals(self) -> dict[tuple[str, str], int]:
        """The schema's own format (pattern, length, enum values) refusing the values of a
        column on too many rows: the schema does not fit what normalisation gives, and the
        CLKs would silently lack the feature. (Column, reason) -> rows, for those columns."""
        return self._crowded(REFUSALS)

    def _crowded(self, notes) -> dict[tuple[str, str], int]:
        """(Column, reason) -> rows for the reasons holding one of ``notes``, in the columns
        where those reasons are on more rows than :data:`SUSPECT_SHARE` (and at least
        :data:`SUSPECT_MINIMUM`)."""
        found = {key: count for key, count in self.noisy_counts.items() if any(note in key[1] for note in notes)}
        per_column: Counter = Counter()
        for (column, _), count in found.items():
            per_column[column] += count
        return {key: count for key, count in sorted(found.items())
                if per_column[key[0]] >= SUSPECT_MINIMUM and per_column[key[0]] > SUSPECT_SHARE * self.rows_read}

    @property
    def clk_fill(self) -> float:
        """Mean share of CLK bits set (a check on the schema: 0.4-0.5 is healthy)."""
        return self.bits_set / (self.records * self.clk_bits) if self.records else 0.0

    def counts(self) -> dict:
        """JSON-safe counts for the extract header (no line numbers, no values)."""
        rejected, noisy = _by_column(self.problem_counts), _by_column(self.noisy_counts)
        tokens = None
        if self.exact_column is not None:
            tokens = {"column": self.exact_column, **{key: self.token_status.get(key, 0) for key in
                      ("valid_nn", "valid_bis", "invalid", "missing", "duplicate")}}
        return {
            "rows_read": self.rows_read,
            "records": self.records,
            "rejected_rows": self.rejected_rows,
            "rejected_by_column": rejected,
            "noisy_by_column": noisy,
            "missing": {name: self.missing.get(name, 0) for name in self.features},
            "exact_token": tokens,
            "replaced_token": None if self.replaced_column is None else {
                "column": self.replaced_column,
                **{key: self.replaced_status.get(key, 0) for key in ("valid_nn", "valid_bis", "invalid", "missing")}},
            "without_identifiers": self.without_identifiers,
            "ignored_columns": len(self.ignored_columns),
            "clk_fill": round(self.clk_fill, 4),
        }

    def render(self, listed: int = 20) -> str:
        """A report for the provider, for the terminal."""
        lines = [f"encoded {self.records} of {self.rows_read} rows"]
        if self.rejected_rows:
            lines.append(f"rejected {self.rejected_rows} rows (left out of the extract):")
            lines += [f"  {problem}" for problem in self.problems[:listed]]
            if len(self.problem_counts) and sum(self.problem_counts.values()) > listed:
                lines.append("  by column and reason:")
                lines += [f"    {column}: {reason}: {count}" for (column, reason), count in
                          sorted(self.problem_counts.items())]
        if self.noisy_counts:
            lines.append(f"kept {sum(self.noisy_counts.values())} noisy values (hashed for what they hold "
                         "or counted missing), by column and reason:")
            lines += [f"  {column}: {reason}: {count}" for (column, reason), count in
                      sorted(self.noisy_counts.items())]
            lines.append("  first lines: " + ", ".join(str(p.line) for p in self.noisy[:listed])
                         + (" …" if len(self.noisy) > listed else ""))
        width = max((len(name) for name in self.features), default=0)
        lines.append("missing values per feature:")
        lines += [f"  {name:<{width}}  {self.missing.get(name, 0)}" for name in self.features]
        if self.exact_column is None:
            lines.append("exact token: none (no --exact-column)")
        else:
            status = self.token_status
            valid = status["valid_nn"] + status["valid_bis"]
            share = valid / self.records if self.records else 0.0
            lines.append(
                f"exact token from {self.exact_column!r}: {valid} valid ({share:.1%}; "
                f"{status['valid_nn']} national register, {status['valid_bis']} BIS), "
                f"{status['invalid']} invalid, {status['missing']} missing"
            )
            if status["duplicate"]:
                lines.append(f"  {status['duplicate']} records share their national number with another record")
            if self.invalid_token_lines:
                shown = ", ".join(str(line) for line in self.invalid_token_lines[:listed])
                more = " …" if status["invalid"] > listed else ""
                lines.append(f"  invalid numbers on lines {shown}{more}")
        if self.replaced_column is not None:
            status = self.replaced_status
            lines.append(
                f"replaced number from {self.replaced_column!r}: {status['valid_nn'] + status['valid_bis']} valid "
                f"({status['valid_bis']} BIS), {status['invalid']} invalid (left out), {status['missing']} none"
            )
        if self.without_identifiers:
            lines.append(f"{self.without_identifiers} records have no identifier at all and cannot be linked")
        if self.ignored_columns:
            lines.append(f"not written (neither identifier nor declared payload): {', '.join(self.ignored_columns)}")
        lines.append(f"mean CLK fill {self.clk_fill:.3f}")
        if self.clk_fill > DENSE_FILL:
            lines.append(DENSE_WARNING.format(share=self.clk_fill))
        return "\n".join(lines)


def _by_column(counts: Counter) -> dict[str, dict[str, int]]:
    grouped: dict[str, dict[str, int]] = {}
    for (column, reason), count in sorted(counts.items()):
        grouped.setdefault(column, {})[reason] = count
    return grouped
