"""Tidy CSV and Parquet with label columns, and the metadata sidecar a publication needs."""

import csv
import io
import json

import pyarrow.parquet as pq

from linkage.aggregate.answer import AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable
from linkage.aggregate.export import SIDECAR_SUFFIX, columns, to_tidy_csv, write_outputs

ORIGIN = AnswerDimension("origin_group:sem:sem_regions", "Origin group", ("belgium", "near_middle_east"),
                         {"belgium": "Belgium", "near_middle_east": "Near and Middle East"})
SEX = AnswerDimension("sex", "Sex", ("M", "F"), {"M": "Men", "F": "Women"})


def answer() -> AggregateAnswer:
    keys = [(o, s) for o in (*ORIGIN.categories, "Total") for s in (*SEX.categories, "Total")]
    hidden = {("near_middle_east", "F")}
    rate = AnswerTable("employment_rate", "Employment rate (20-64)", "rate", "share", "aged 20-64", "at work",
                       (ORIGIN, SEX), tuple(AnswerCell(k, None, None, "suppressed") if k in hidden
                                            else AnswerCell(k, 40, 30) for k in keys))
    count = AnswerTable("persons", "Persons", "count", "persons", "everyone", "", (ORIGIN, SEX),
                        tuple(AnswerCell(k, None if k in hidden else 50) if k not in hidden
                              else AnswerCell(k, None, None, "suppressed") for k in keys))
    metadata = {"registry_version": "1", "rules_version": "disclosure-rules/2", "min_cell_size": 5,
                "origin_definitions": {"sem": {"version": "1", "fingerprint": "abc"}},
                "audit_receipt": {"leaf_index": 7, "tree_size": 8, "tree_head": {"tree_size": 8}}}
    request = {"authorisation": "IVC-24-001", "population": "ksz", "period": 2023,
               "measures": ["persons", "employment_rate"], "dimensions": [ORIGIN.name, "sex"]}
    return AggregateAnswer(request, metadata, (count, rate))


def test_columns_are_plain_names_with_a_label_next_to_each_code():
    assert columns(answer()) == ["measure", "measure_label", "origin_group", "origin_group_label", "sex",
                                 "sex_label", "persons", "cohort", "numerator", "rate", "status"]


def test_a_rate_row_says_cohort_and_a_hidden_cell_only_suppressed():
    rows = list(csv.DictReader(io.StringIO(to_tidy_csv(answer()))))
    assert len(rows) == 2 * 9
    shown = next(r for r in rows if r["measure"] == "employment_rate" and r["origin_group"] == "belgium"
                 and r["sex"] == "M")
    assert (shown["origin_group_label"], shown["sex_label"], shown["cohort"], shown["numerator"], shown["rate"],
            shown["persons"]) == ("Belgium", "Men", "40", "30", "0.75", "")
    hidden = next(r for r in rows if r["measure"] == "employment_rate" and r["origin_group"] == "near_middle_east"
                  and r["sex"] == "F")
    assert (hidden["cohort"], hidden["numerator"], hidden["rate"], hidden["status"]) == ("", "", "", "suppressed")
    assert {r["status"] for r in rows} == {"published", "suppressed"}


def test_parquet_and_sidecar_carry_the_same_table_and_the_metadata(tmp_path):
    target = tmp_path / "table.parquet"
    written = write_outputs(answer(), target, "parquet")
    assert written == [target, tmp_path / ("table.parquet" + SIDECAR_SUFFIX)]
    table = pq.read_table(target)
    assert table.column_names == columns(answer()) and table.num_rows == 18
    assert table.schema.field("cohort").type == "int64"
    meta = json.loads(written[1].read_text())
    assert meta["rules_version"] == "disclosure-rules/2" and meta["audit_receipt"]["tree_head"] == {"tree_size": 8}
    assert meta["origin_definitions"]["sem"]["fingerprint"] == "abc"
    assert set(meta["columns"]) == set(columns(answer()))
    assert json.loads(table.schema.metadata[b"linkage.metadata"]) == meta


def test_csv_output_writes_the_sidecar_next_to_it(tmp_path):
    write_outputs(answer(), tmp_path / "t.csv", "csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.csv", "t.csv.metadata.json"]
