"""Charts a statistician would put in a policy report, drawn from a protected answer.

- Categories by a dimension as horizontal bars (long labels stay readable), split by the
  second dimension; a third dimension becomes panels (small multiples), further dimensions
  stay at their total and the subtitle says so.
- Over several periods, lines (one per category) instead of bars; a pooled total over
  periods is not drawn as a year.
- For a rate by origin, the reference group's rate is a dashed line and each bar says its
  gap to the reference group in percentage points, so the origin gap reads at a glance.
- Total and unknown are set apart below the groups, in grey.
- A suppressed cell is marked at the baseline ("suppressed"), never drawn as a bar or a
  zero, so nobody reads a missing figure as a low one; categories with nobody are left out
  and named in the footnote.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib import pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.lines import Line2D  # noqa: E402

from linkage.aggregate.answer import TOTAL, AggregateAnswer, AnswerCell, AnswerDimension, AnswerTable, title  # noqa: E402
from linkage.errors import LinkageError  # noqa: E402
from linkage.files import atomic_file  # noqa: E402

SUPPRESSED_LABEL = "suppressed"
UNKNOWN = "unknown"
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C564B", "#7F7F7F")
"""Okabe-Ito colours: distinguishable with the common colour-vision deficiencies."""
SET_APART = "#9a9a9a"
MARK = "#555555"
MAX_PANELS = 12


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
                width_px: int = 1200, dpi: int = 100) -> Path:
    """Draw one measure of the answer to a PNG file (written atomically); returns the path."""
    table = choose_table(answer, measure)
    figure = _draw(answer, table, width_px / dpi)
    target = Path(path)
    try:
        with atomic_file(target) as handle:
            figure.savefig(handle, dpi=dpi, format="png", bbox_inches="tight", pad_inches=0.25)
    finally:
        plt.close(figure)
    return target


@dataclass(frozen=True)
class _Layout:
    """Which dimension goes where: rows (bars) or x (lines), series, panels; the rest at Total."""

    main: int | None
    series: int | None
    panels: int | None
    fixed: tuple[int, ...]
    lines: bool


def _layout(table: AnswerTable) -> _Layout:
    dims = table.dimensions
    order = list(range(len(dims)))
    period = next((i for i, d in enumerate(dims) if d.name == "period" and len(d.categories) > 1), None)
    if period is not None:
        others = [i for i in order if i != period]
        return _Layout(period, others[0] if others else None, others[1] if len(others) > 1 else None,
                       tuple(others[2:]), True)
    return _Layout(order[0] if order else None, order[1] if len(order) > 1 else None,
                   order[2] if len(order) > 2 else None, tuple(order[3:]), False)


def _value(table: AnswerTable, cell: AnswerCell) -> float | None:
    if table.kind == "rate":
        return None if cell.rate is None else 100 * cell.rate
    return None if cell.count is None else float(cell.count)


def _lookup(table: AnswerTable) -> dict[tuple[str, ...], AnswerCell]:
    return {cell.key: cell for cell in table.cells}


def _key(table: AnswerTable, fixed: dict[int, str]) -> tuple[str, ...]:
    return tuple(fixed.get(i, TOTAL) for i in range(len(table.dimensions)))


def _has_people(table: AnswerTable, position: int, category: str) -> bool:
    """Whether any cell of ``category`` in that dimension is suppressed or counts someone."""
    return any(c.key[position] == category and (c.suppressed or c.count) for c in table.cells)


def _shown(table: AnswerTable, position: int | None, with_total: bool) -> tuple[list[str], list[str]]:
    """Categories of a dimension to draw (leaves with someone, then Total) and, in words, those left out."""
    if position is None:
        return [TOTAL], []
    dimension = table.dimensions[position]
    kept = [c for c in dimension.categories if _has_people(table, position, c)]
    dropped = [f"{dimension.label} {dimension.display(c)}" for c in dimension.categories if c not in kept]
    return kept + ([TOTAL] if with_total else []), dropped


def reference_category(dimension: AnswerDimension) -> str | None:
    """The category an origin gap is measured against (Belgian origin), if the dimension has one."""
    kind, *params = dimension.name.split(":")
    candidates: list[str] = []
    if kind == "origin_category" and params:
        from linkage import origin

        try:
            candidates.append(origin.definition(params[0]).reference_category)
        except LinkageError:
            pass
    elif kind == "origin_group":
        candidates.append("belgium")
    elif kind == "generation":
        candidates.append("none")
    return next((c for c in candidates if c in dimension.categories), None)


def _is_apart(category: str) -> bool:
    return category in (TOTAL, UNKNOWN)


def _draw(answer: AggregateAnswer, table: AnswerTable, width: float):
    layout = _layout(table)
    dims = table.dimensions
    panels, dropped_panels = _shown(table, layout.panels, with_total=True)
    if layout.panels is not None:
        panels = [TOTAL] + [p for p in panels if p != TOTAL]
    if len(panels) > MAX_PANELS:
        raise PlotError(f"{dims[layout.panels].label} has {len(panels)} categories; a chart shows at most "
                        f"{MAX_PANELS} panels: put it first or second in the request, or use the CSV")
    columns = 1 if len(panels) == 1 else 2 if len(panels) <= 4 else 3
    rows = math.ceil(len(panels) / columns)
    mains, dropped_main = _shown(table, layout.main, with_total=not layout.lines)
    series, dropped_series = _shown(table, layout.series, with_total=layout.lines)
    per_panel = 2.6 if layout.lines else 0.9 + 0.24 * len(mains) * max(1, len(series)) ** 0.8
    figure, axes_grid = plt.subplots(rows, columns, figsize=(width, 1.2 + rows * per_panel),
                                     squeeze=False, sharex=True, sharey=layout.lines)
    cells = _lookup(table)
    marks: set[str] = set()
    for index, panel in enumerate(panels):
        axes = axes_grid[index // columns][index % columns]
        fixed = {} if layout.panels is None else {layout.panels: panel}
        if layout.lines:
            marks |= _lines(axes, table, cells, layout, mains, series, fixed)
        else:
            marks |= _bars(axes, table, cells, layout, mains, series, fixed)
        if layout.panels is not None:
            axes.set_title(dims[layout.panels].display(panel), fontsize=10, loc="left")
    for extra in range(len(panels), rows * columns):
        axes_grid[extra // columns][extra % columns].set_visible(False)
    _legend(figure, table, layout, series, marks)
    figure.suptitle(_title(answer, table, layout), x=0.01, ha="left", fontsize=12)
    notes = _footnote(answer, table, layout, dropped_main + dropped_series + dropped_panels)
    figure.text(0.01, 0.0, notes, fontsize=8, color="#444444", ha="left", va="top")
    figure.tight_layout(rect=(0, 0.0, 0.86 if series != [TOTAL] else 1.0, 0.95))
    return figure


def _colour(index: int, category: str) -> str:
    return SET_APART if _is_apart(category) else PALETTE[index % len(PALETTE)]


def _bars(axes, table: AnswerTable, cells, layout: _Layout, mains: list[str], series: list[str],
          fixed: dict[int, str]) -> set[str]:
    dims = table.dimensions
    is_rate = table.kind == "rate"
    reference = reference_category(dims[layout.main]) if is_rate and layout.main is not None else None
    # Groups top to bottom, then a gap, then unknown and Total.
    ordered = [m for m in mains if not _is_apart(m)] + [m for m in mains if _is_apart(m)]
    positions, y, previous = {}, 0.0, None
    for category in ordered:
        if previous is not None and _is_apart(category) and not _is_apart(previous):
            y += 0.6
        positions[category] = y
        y += 1.0
        previous = category
    band = 0.8 / len(series)
    def where(category: str, serie: str) -> tuple[str, ...]:
        return _key(table, {**fixed, **({layout.main: category} if layout.main is not None else {}),
                            **({layout.series: serie} if layout.series is not None else {})})

    drawn = [cells[k] for c in ordered for serie in series if (k := where(c, serie)) in cells]
    top = max([v for c in drawn if not c.suppressed and (v := _value(table, c)) is not None] or [1.0])
    marks: set[str] = set()
    for s_index, serie in enumerate(series):
        ref_value = None
        if reference is not None:
            ref_cell = cells.get(_key(table, {**fixed, layout.main: reference,
                                               **({layout.series: serie} if layout.series is not None else {})}))
            ref_value = None if ref_cell is None or ref_cell.suppressed else _value(table, ref_cell)
        for category in ordered:
            cell = cells.get(where(category, serie))
            y_pos = positions[category] + (s_index - (len(series) - 1) / 2) * band
            colour = _colour(s_index, serie)
            if cell is None:
                continue
            if cell.suppressed:
                marks.add("suppressed")
                axes.plot([0], [y_pos], marker="x", color=MARK, markersize=6, clip_on=False)
                axes.text(top * 0.015, y_pos, SUPPRESSED_LABEL, va="center", fontsize=7, color=MARK,
                          style="italic")
                continue
            value = _value(table, cell)
            if value is None:
                axes.text(top * 0.015, y_pos, "no one in the cohort", va="center", fontsize=7, color=MARK)
                continue
            axes.barh(y_pos, value, band * 0.92, color=colour, alpha=0.45 if _is_apart(category) else 1.0)
            text = f"{value:.1f}%" if is_rate else f"{int(value):,}"
            if ref_value is not None and category != reference and not _is_apart(category):
                text += f"  ({value - ref_value:+.1f} pp)"
            axes.text(value + top * 0.01, y_pos, text, va="center", fontsize=7)
        if ref_value is not None and (layout.series is None or serie == TOTAL or len(series) == 1):
            marks.add("reference")
            axes.axvline(ref_value, color="#222222", linestyle="--", linewidth=1)
    if reference is not None and "reference" not in marks:
        # No Total series: draw the reference of each series in its colour.
        for s_index, serie in enumerate(series):
            ref_cell = cells.get(_key(table, {**fixed, layout.main: reference, layout.series: serie}))
            if ref_cell is not None and not ref_cell.suppressed and _value(table, ref_cell) is not None:
                marks.add("reference")
                axes.axvline(_value(table, ref_cell), color=_colour(s_index, serie), linestyle="--", linewidth=1)
    labels = [dims[layout.main].display(c) if layout.main is not None else TOTAL for c in ordered]
    axes.set_yticks([positions[c] for c in ordered], labels, fontsize=9)
    for tick, category in zip(axes.get_yticklabels(), ordered):
        if _is_apart(category):
            tick.set_color("#666666")
            tick.set_style("italic")
    axes.invert_yaxis()
    axes.set_xlim(0, top * (1.3 if is_rate and reference else 1.18))
    if is_rate:
        axes.set_xticks([t for t in range(0, 101, 20) if t <= top * 1.3])
    axes.set_xlabel(f"{table.label} (%)" if is_rate else "persons", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="x", color="#e5e5e5", linewidth=0.6)
    axes.set_axisbelow(True)
    return marks


def _lines(axes, table: AnswerTable, cells, layout: _Layout, periods: list[str], series: list[str],
           fixed: dict[int, str]) -> set[str]:
    dims = table.dimensions
    reference = reference_category(dims[layout.series]) if layout.series is not None else None
    marks: set[str] = set()
    x = list(range(len(periods)))
    for s_index, serie in enumerate(series):
        ys: list[float] = []
        for period in periods:
            where = {**fixed, layout.main: period, **({layout.series: serie} if layout.series is not None else {})}
            cell = cells.get(_key(table, where))
            value = None if cell is None or cell.suppressed else _value(table, cell)
            if cell is not None and cell.suppressed:
                marks.add("suppressed")
                axes.plot([x[len(ys)]], [0], marker="x", color=_colour(s_index, serie), markersize=6, clip_on=False)
            ys.append(math.nan if value is None else value)
        style = {"linestyle": "--", "linewidth": 1.6} if serie == TOTAL else \
            {"linestyle": ":", "linewidth": 1.4} if serie == UNKNOWN else \
            {"linewidth": 2.8 if serie == reference else 1.8}
        axes.plot(x, ys, marker="o", markersize=3.5, color="#222222" if serie == TOTAL else _colour(s_index, serie),
                  **style)
    axes.set_xticks(x, [dims[layout.main].display(p) for p in periods], fontsize=9)
    axes.set_ylim(bottom=0)
    axes.set_ylabel(f"{table.label} (%)" if table.kind == "rate" else "persons", fontsize=9)
    axes.spines[["top", "right"]].set_visible(False)
    axes.grid(axis="y", color="#e5e5e5", linewidth=0.6)
    return marks


def _legend(figure, table: AnswerTable, layout: _Layout, series: list[str], marks: set[str]) -> None:
    handles = []
    if layout.series is not None:
        dimension = table.dimensions[layout.series]
        for index, serie in enumerate(series):
            colour = "#222222" if serie == TOTAL and layout.lines else _colour(index, serie)
            handles.append(Line2D([], [], color=colour, linewidth=2.5 if layout.lines else 8,
                                  linestyle="--" if serie == TOTAL and layout.lines else "-",
                                  label=dimension.display(serie)))
    if "reference" in marks:
        main = table.dimensions[layout.main]
        handles.append(Line2D([], [], color="#222222", linestyle="--", linewidth=1,
                              label=f"{main.display(reference_category(main) or '')} (reference)"))
    if "suppressed" in marks:
        handles.append(Line2D([], [], color=MARK, marker="x", linestyle="none",
                              label="suppressed (disclosure control)"))
    if handles:
        title = table.dimensions[layout.series].label if layout.series is not None else None
        figure.legend(handles=handles, title=title, loc="upper left", bbox_to_anchor=(0.865, 0.93),
                      frameon=False, fontsize=8, title_fontsize=9)


def _title(answer: AggregateAnswer, table: AnswerTable, layout: _Layout) -> str:
    dims = table.dimensions
    named = [dims[i].label for i in (layout.main, layout.series) if i is not None]
    first = table.label + (" by " + " and ".join(named) if named else "")
    if layout.panels is not None:
        first += f", in panels by {dims[layout.panels].label}"
    second = title(answer, table).split("\n", 1)[1]
    if layout.fixed:
        second += "; " + ", ".join(dims[i].label for i in layout.fixed) + ": all (Total)"
    return f"{first}\n{second}"


def _footnote(answer: AggregateAnswer, table: AnswerTable, layout: _Layout, dropped: list[str]) -> str:
    meta = answer.metadata
    parts = [
        f"Cohort: {table.cohort}." if table.kind == "rate" and table.cohort else "",
        "Percentage points (pp): difference with the reference group in the same series."
        if table.kind == "rate" and layout.main is not None and not layout.lines
        and reference_category(table.dimensions[layout.main]) else "",
        f"Not shown (nobody in the population): {', '.join(dict.fromkeys(dropped))}." if dropped else "",
        f"Suppressed: cells with fewer than {meta.get('min_cell_size', '?')} persons and cells that could "
        "reveal them.",
        f"Registry v{meta.get('registry_version', '?')}, disclosure rules {meta.get('rules_version', '?')}, "
        f"authorisation {answer.request.get('authorisation', '?')}.",
    ]
    return "\n".join(textwrap.wrap(" ".join(p for p in parts if p), 150))
