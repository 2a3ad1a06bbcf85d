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
            cells.append(AnswerCell((origin, sex), None, None, "suppressed"))
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
    assert (hidden["count"], hidden["numerator"], hidden["status"]) == ("", "", "suppressed")


def test_text_marks_suppressed_cells_and_names_the_population():
    text = render_text(answer())
    assert "residents in the KSZ data warehouse, 2022; origin definition sem" in text
    line = next(line for line in text.splitlines() if line.startswith("maghreb") and " F " in line)
    assert " x " in line and line.endswith("suppressed")
    assert "note: a note" in text


def test_the_chart_is_a_png_and_nothing_partial_is_left(tmp_path):
    path = plot.plot_answer(answer(), tmp_path / "chart.png", width_px=900)
    with Image.open(path) as image:
        assert image.format == "PNG" and 700 <= image.size[0] <= 1150   # legend and labels never clipped
    assert [p.name for p in tmp_path.iterdir()] == ["chart.png"]   # nothing partial left


def _texts(axes):
    return [t.get_text() for t in axes.texts]


def test_suppressed_cells_are_marked_at_the_baseline_never_drawn_as_bars():
    figure = plot._draw(answer(), rate_table(), 9)
    axes = figure.axes[0]
    drawn_rows, series = 4, 2          # belgium, maghreb, unknown, Total x M, F
    assert len(axes.patches) == drawn_rows * series - len(SUPPRESSED)
    assert _texts(axes).count(plot.SUPPRESSED_LABEL) == len(SUPPRESSED)
    baseline_marks = [line for line in axes.lines if list(line.get_xdata()) == [0] and line.get_marker() == "x"]
    assert len(baseline_marks) == len(SUPPRESSED)
    assert all(bar.get_width() == 75.0 for bar in axes.patches)       # no placeholder bar for a hidden cell
    legend = [t.get_text() for t in figure.legends[0].get_texts()]
    assert "suppressed (disclosure control)" in legend and "belgium (reference)" in legend
    assert "Employment rate (20-64) by Origin group and Sex" in figure._suptitle.get_text()
    matplotlib.pyplot.close(figure)


def _table(dimensions, value):
    leaves = [(*d.categories, "Total") for d in dimensions]
    cells = tuple(AnswerCell(key, 100, value(key)) for key in itertools.product(*leaves))
    return AnswerTable("employment_rate", "Employment rate (20-64)", "rate", "share", "aged 20-64", "at work",
                       tuple(dimensions), cells, {})


def test_the_gap_to_the_reference_group_is_written_in_percentage_points():
    table = _table((ORIGIN, SEX), lambda key: 80 if key[0] == "belgium" else 60)
    figure = plot._draw(AggregateAnswer(answer().request, answer().metadata, (table,)), table, 9)
    texts = _texts(figure.axes[0])
    assert texts.count("60.0%  (-20.0 pp)") == 2 and texts.count("80.0%") == 2   # maghreb M/F; belgium M/F
    assert [line.get_xdata()[0] for line in figure.axes[0].lines if line.get_linestyle() == "--"] == [80, 80]
    matplotlib.pyplot.close(figure)


def test_a_third_dimension_becomes_panels_and_the_title_says_so():
    age = AnswerDimension("age_band:broad", "Age", ("0-24", "25-49"))
    table = _table((ORIGIN, SEX, age), lambda key: 70)
    figure = plot._draw(AggregateAnswer(answer().request, answer().metadata, (table,)), table, 12)
    panels = [a for a in figure.axes if a.get_visible()]
    assert [a.get_title(loc="left") for a in panels] == ["Total", "0-24", "25-49"]
    assert "in panels by Age" in figure._suptitle.get_text()
    matplotlib.pyplot.close(figure)


def test_periods_are_lines_without_a_pooled_total_year():
    period = AnswerDimension("period", "Period", ("2021", "2022", "2023"))
    table = _table((ORIGIN, period), lambda key: 70)
    figure = plot._draw(AggregateAnswer(answer().request, answer().metadata, (table,)), table, 9)
    axes = figure.axes[0]
    assert not axes.patches                                             # no bars
    assert [t.get_text() for t in axes.get_xticklabels()] == ["2021", "2022", "2023"]
    series = [line for line in axes.lines if len(line.get_xdata()) == 3]
    assert len(series) == len(ORIGIN.categories) + 1                    # each origin and the Total line
    matplotlib.pyplot.close(figure)


def test_an_unknown_measure_cannot_be_plotted(tmp_path):
    with pytest.raises(plot.PlotError, match="no measure 'persons'; it has employment_rate"):
        plot.plot_answer(answer(), tmp_path / "x.png", measure="persons")
