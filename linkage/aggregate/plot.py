"""A chart a policy maker can read: one measure by the first dimension, split by the second.

Bars show the rate (in %) or the person count per category of the first dimension, one bar
per category of the second dimension (others at their total), with the overall total as a
last group. Suppressed cells are drawn as hatched grey bars labelled "suppressed", never as
zero, so nobody reads a missing figure as a low one. The title names the measure, the
population, the period and the origin definition; a footnote names the disclosure rules.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.patches import Patch  # noqa: E402

from linkage.aggregate.answer import TOTAL, AggregateAnswer, AnswerTable, title  # noqa: E402
from linkage.errors import LinkageError  # noqa: E402
from linkage.files import atomic_file  # noqa: E402

SUPPRESSED_HATCH = "///"
SUPPRESSED_LABEL = "suppressed"
_COLOURS = ("#1f4e79", "#e07b00", "#4f9a3a", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085")


class PlotError(LinkageError):
    """The answer cannot be drawn as asked."""


def choose_table(answer: AggregateAnswer, measure: str | None = None) -> AnswerTable:
    """The named measure's table, else the first rate (the figure policy asks about)."""
    if measure is not None:
        try:
            return answer.table(measure)
        except KeyError:
            known = ", ".join(t.measure for t in answer.tables)
            raise PlotError(f"the answer has no measure {measure!r}; it has {known}") from None
    rates = [t for t in answer.tables if t.kind == "rate"]
    return (rates or list(answer.tables))[0]


def plot_answer(answer: AggregateAnswer, path: str | Path, measure: str | None = None,
                width_px: int = 1200, height_px: int = 700, dpi: int = 100) -> Path:
    """Draw one measure of the answer to a PNG file (written atomically); returns the path."""
    table = choose_table(answer, measure)
    figure = _figure(answer, table, width_px / dpi, height_px / dpi)
    target = Path(path)
    try:
        with atomic_file(target) as handle:
            figure.savefig(handle, dpi=dpi, format="png")
    finally:
        plt.close(figure)
    return target


def _figure(answer: AggregateAnswer, table: AnswerTable, width: float, height: float):
    dims = table.dimensions
    groups = [*dims[0].categories, TOTAL] if dims else [TOTAL]
    series = [None]
    if len(dims) > 1:
        # A category of the second dimension with nobody in it anywhere is left out of the
        # chart (it stays in the table): an empty 'unknown' sex would only add blank bars.
        series = [s for s in dims[1].categories
                  if _has_people(table, 1, s)] or list(dims[1].categories)
    rest = (TOTAL,) * max(0, len(dims) - 2)
    is_rate = table.kind == "rate"

    figure, axes = plt.subplots(figsize=(width, height))
    bar_width = 0.8 / len(series)
    shown = [c.rate if is_rate else c.count for c in table.cells if not c.suppressed]
    top = max([v for v in shown if v is not None] or [1])
    top = top * 100 if is_rate else top
    placeholder = top * 0.08
    suppressed_any = False
    for s_index, serie in enumerate(series):
        colour = _COLOURS[s_index % len(_COLOURS)]
        for g_index, group in enumerate(groups):
            key = (group,) if serie is None else (group, serie)
            cell = table.cell((*key, *rest)) if dims else table.cell(())
            x = g_index + (s_index - (len(series) - 1) / 2) * bar_width
            value = cell.rate if is_rate else cell.count
            if cell.suppressed:
                suppressed_any = True
                axes.bar(x, placeholder, bar_width * 0.95, color="#e6e6e6", edgecolor="#555555",
                         hatch=SUPPRESSED_HATCH, linewidth=0.8)
                axes.text(x, placeholder * 1.1, SUPPRESSED_LABEL, rotation=90, ha="center",
                          va="bottom", fontsize=7, color="#333333")
                continue
            if value is None:  # a rate over nobody: nothing to draw, but say so
                axes.text(x, 0, "none", rotation=90, ha="center", va="bottom", fontsize=7,
                          color="#999999")
                continue
            height_value = value * 100 if is_rate else value
            axes.bar(x, height_value, bar_width * 0.95, color=colour)
            axes.text(x, height_value, f"{height_value:.1f}%" if is_rate else f"{value:,}",
                      ha="center", va="bottom", fontsize=7)
    names = [dims[0].display(g) if dims and g != TOTAL else g for g in groups]
    axes.set_xticks(range(len(groups)), names, rotation=30 if len(groups) > 5 else 0,
                    ha="right" if len(groups) > 5 else "center")
    axes.set_ylabel(f"{table.label} (%)" if is_rate else "persons")
    axes.set_ylim(0, top * 1.2)
    axes.set_xlabel(dims[0].label if dims else "")
    axes.spines[["top", "right"]].set_visible(False)
    legend = [Patch(color=_COLOURS[i % len(_COLOURS)], label=dims[1].display(s))
              for i, s in enumerate(series) if s is not None]
    if suppressed_any:
        legend.append(Patch(facecolor="#e6e6e6", edgecolor="#555555", hatch=SUPPRESSED_HATCH,
                            label="suppressed (disclosure control)"))
    if legend:
        axes.legend(handles=legend, title=dims[1].label if len(dims) > 1 else None,
                    frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes.set_title(title(answer, table), fontsize=11, loc="left")
    figure.text(0.01, 0.01, _footnote(answer, table), fontsize=7, color="#555555")
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def _has_people(table: AnswerTable, position: int, category: str) -> bool:
    """Whether any cell of ``category`` in that dimension is suppressed or counts someone."""
    return any(c.key[position] == category and (c.suppressed or c.count) for c in table.cells)


def _footnote(answer: AggregateAnswer, table: AnswerTable) -> str:
    meta = answer.metadata
    parts = [
        f"Cohort: {table.cohort}." if table.cohort else "",
        f"Cells with fewer than {meta.get('min_cell_size', '?')} persons and cells that could "
        "reveal them are suppressed.",
        f"Registry v{meta.get('registry_version', '?')}, disclosure rules "
        f"{meta.get('rules_version', '?')}, authorisation {answer.request.get('authorisation', '?')}.",
    ]
    return " ".join(p for p in parts if p)
