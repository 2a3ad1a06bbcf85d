"""Answers render to CSV, JSON and text, and draw to a PNG with suppressed cells marked."""

import csv
import io
import itertools

import matplotlib
import pytest
from PIL import Image

from linkage.aggregate import plot
from linkage.aggregate.answer import (
    AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable, render_text, to_csv,
)

ORIGIN = AnswerDimension("origin_group:sem:sem_regions", "Origin group", ("belgium", "maghreb", "unknown"))
SEX = AnswerDimension("sex", "Sex", ("M", "F"))
SUPPRESSED = {("maghreb", "F"), ("maghreb", "M"), ("unknown", "F"), ("unknown", "M")}


def rate_table() -> AnswerTable:
    cells = []
    for origin, sex in itertools.product((*ORIGIN.categories, "Total"), (*SEX.categories, "Total")):
        if (origin, sex) in SUPPRESSED:
            cells.append(AnswerCell((origin, sex), None, None, "primary", "fewer than 5 persons"))
        else:
            cells.append(AnswerCell((origin, sex), 200, 150))
    return AnswerTable("employment_rate", "Employment rate (20-64)", "rate", "share at work",
                       "aged 20-64", "at work", (ORIGIN, SEX), tuple(cells), {"passed": True})


def answer() -> AggregateAnswer:
    request = {"authorisation": "IVC-24-001", "population": "ksz", "period": 2022,
               "measures": ["employment_rate"], "dimensions": [ORIGIN.name, "sex"],
               "reference_date": "2023-12-31"}
    metadata = {"registry_version": "1", "origin_definitions": {"sem": {"version": "1"}},
                "population_label": "residents in the KSZ data warehouse", "min_cell_size": 5,
                "rules_version": "sdc-1", "notes": ["a note"]}
    return AggregateAnswer(request, metadata, (rate_table(),))


def test_json_round_trips():
    original = answer()
    assert AggregateAnswer.from_json(original.to_json()) == original


def test_a_foreign_document_is_refused():
    with pytest.raises(ValueError, match="not an aggregate answer"):
        AggregateAnswer.from_dict({"format": "something-else"})


def test_csv_has_one_row_per_cell_with_empty_values_when_suppressed():
    rows = list(csv.DictReader(io.StringIO(to_csv(answer()))))
    assert len(rows) == 4 * 3
    first = rows[0]
    assert first["origin_group:sem:sem_regions"] == "belgium" and first["rate"] == "0.7500"
    hidden = next(r for r in rows if r["origin_group:sem:sem_regions"] == "maghreb" and r["sex"] == "F")
    assert (hidden["count"], hidden["numerator"], hidden["status"]) == ("", "", "primary")


def test_text_marks_suppressed_cells_and_names_the_population():
    text = render_text(answer())
    assert "residents in the KSZ data warehouse, 2022; origin definition sem" in text
    line = next(line for line in text.splitlines() if line.startswith("maghreb") and " F " in line)
    assert " x " in line and "primary: fewer than 5 persons" in line
    assert "note: a note" in text


def test_the_chart_is_a_png_of_the_asked_size(tmp_path):
    path = plot.plot_answer(answer(), tmp_path / "chart.png", width_px=900, height_px=500)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (900, 500)
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]   # nothing partial left


def test_suppressed_cells_are_hatched_and_labelled_never_drawn_as_values():
    table = rate_table()
    figure = plot._figure(answer(), table, 9, 5)
    axes = figure.axes[0]
    hatched = [p for p in axes.patches if p.get_hatch() == plot.SUPPRESSED_HATCH]
    assert len(hatched) == len(SUPPRESSED)
    labels = [t.get_text() for t in axes.texts]
    assert labels.count(plot.SUPPRESSED_LABEL) == len(SUPPRESSED)
    groups, series = len(ORIGIN.categories) + 1, len(SEX.categories)   # + the Total group
    assert labels.count("75.0%") == groups * series - len(SUPPRESSED)
    assert "suppressed (disclosure control)" in [t.get_text() for t in axes.get_legend().get_texts()]
    assert "Employment rate (20-64) by Origin group and Sex" in axes.get_title(loc="left")
    matplotlib.pyplot.close(figure)


def test_an_unknown_measure_cannot_be_plotted(tmp_path):
    with pytest.raises(plot.PlotError, match="no measure 'persons'; it has employment_rate"):
        plot.plot_answer(answer(), tmp_path / "x.png", measure="persons")
