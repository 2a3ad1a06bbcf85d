"""An answer as a tidy table (CSV, Parquet) with a metadata sidecar, ready for publication.

Tidy: one row per measure and cell, one column per variable, with plain column names
(``origin_group``, ``sex``) and a label column next to each code column
(``origin_group_label``: "Near and Middle East"). A rate table says what its count is:
``cohort`` (the denominator), ``numerator`` and ``rate``; a count table has ``persons``.
Hidden figures are empty and ``status`` says ``suppressed``; nothing says why.

The sidecar (JSON) carries what a reader needs to cite and interpret the figures: request,
origin definitions with their fingerprints, registry and disclosure-rules versions, minimum
cell size, authorisation, audit receipt, notes and a description of every column.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from linkage.aggregate.answer import TOTAL, AggregateAnswer
from linkage.files import write_atomic

SIDECAR_SUFFIX = ".metadata.json"
SIDECAR_FORMAT = "linkage-aggregate-metadata/1"


def dimension_columns(answer: AggregateAnswer) -> list[str]:
    """Plain column names of the dimensions: the kind (``origin_group``), numbered if repeated."""
    dims = answer.tables[0].dimensions if answer.tables else ()
    kinds = [d.name.split(":")[0] for d in dims]
    return [kind if kinds.count(kind) == 1 else f"{kind}_{i + 1}" for i, kind in enumerate(kinds)]


def columns(answer: AggregateAnswer) -> list[str]:
    names = ["measure", "measure_label"]
    for column in dimension_columns(answer):
        names += [column, f"{column}_label"]
    rate = any(t.kind == "rate" for t in answer.tables)
    count = any(t.kind == "count" for t in answer.tables)
    names += (["persons"] if count else []) + (["cohort", "numerator", "rate"] if rate else []) + ["status"]
    return names


def tidy_rows(answer: AggregateAnswer) -> list[dict[str, Any]]:
    """One dict per measure and cell, keyed by :func:`columns`; None where suppressed or not applicable."""
    dim_columns = dimension_columns(answer)
    rows = []
    for table in answer.tables:
        for cell in table.cells:
            row: dict[str, Any] = dict.fromkeys(columns(answer))
            row.update(measure=table.measure, measure_label=table.label,
                       status="suppressed" if cell.suppressed else "published")
            for column, dimension, code in zip(dim_columns, table.dimensions, cell.key):
                row[column] = code
                row[f"{column}_label"] = TOTAL if code == TOTAL else dimension.display(code)
            if table.kind == "rate":
                row.update(cohort=cell.count, numerator=cell.numerator,
                           rate=None if cell.rate is None else round(cell.rate, 6))
            else:
                row["persons"] = cell.count
            rows.append(row)
    return rows


def to_tidy_csv(answer: AggregateAnswer) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns(answer), lineterminator="\n")
    writer.writeheader()
    for row in tidy_rows(answer):
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return out.getvalue()


def to_parquet_bytes(answer: AggregateAnswer) -> bytes:
    """The tidy table as Parquet, with the sidecar's content in the file's metadata too."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = tidy_rows(answer)
    names = columns(answer)
    integer = {"persons", "cohort", "numerator"}
    arrays = {name: pa.array([r[name] for r in rows],
                             pa.int64() if name in integer else pa.float64() if name == "rate" else pa.string())
              for name in names}
    table = pa.table(arrays).replace_schema_metadata({"linkage.metadata": json.dumps(sidecar(answer))})
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="zstd")
    return sink.getvalue()


def _column_descriptions(answer: AggregateAnswer) -> dict[str, str]:
    described = {"measure": "registered measure name", "measure_label": "measure in words",
                 "persons": "number of persons (count measures)",
                 "cohort": "persons in the rate's cohort (its denominator)",
                 "numerator": "persons of the cohort with the outcome", "rate": "numerator / cohort",
                 "status": "published, or suppressed (value withheld by disclosure control)"}
    for column, dimension in zip(dimension_columns(answer), answer.tables[0].dimensions if answer.tables else ()):
        described[column] = f"{dimension.label}: category code ({dimension.name}); Total = all"
        described[f"{column}_label"] = f"{dimension.label}: category in words"
    return {name: described[name] for name in columns(answer)}


def sidecar(answer: AggregateAnswer) -> dict[str, Any]:
    """Metadata to publish next to the table."""
    meta = dict(answer.metadata)
    return {
        "format": SIDECAR_FORMAT,
        "request": dict(answer.request),
        "measures": {t.measure: {"label": t.label, "kind": t.kind, "description": t.description,
                                 "cohort": t.cohort, "numerator": t.numerator} for t in answer.tables},
        "dimensions": [{"column": c, "name": d.name, "label": d.label}
                       for c, d in zip(dimension_columns(answer), answer.tables[0].dimensions)]
        if answer.tables else [],
        "columns": _column_descriptions(answer),
        **{key: meta[key] for key in sorted(meta)},
    }


def write_outputs(answer: AggregateAnswer, path: Path, form: str) -> list[Path]:
    """Write the table in ``form`` (``csv`` or ``parquet``) and its sidecar; returns the paths."""
    content = to_tidy_csv(answer).encode("utf-8") if form == "csv" else to_parquet_bytes(answer)
    meta_path = path.with_name(path.name + SIDECAR_SUFFIX)
    write_atomic(path, content)
    write_atomic(meta_path, (json.dumps(sidecar(answer), indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    return [path, meta_path]
