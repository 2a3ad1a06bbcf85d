"""True values of released cells, from the unprotected computation (for judging attacks only:
the attacker never sees them)."""

from __future__ import annotations

import itertools

import numpy as np

from linkage.aggregate.compute import LinkedData, compute
from linkage.aggregate.request import validate_request

from tests.attack.model import AtomModel, FigureId
from tests.attack.releases import Release


def request_of(release: Release) -> dict:
    """The request fields of a release (the authorisation does not change a figure)."""
    periods = list(release.periods)
    return {"authorisation": "TRUTH", "population": release.population,
            "period": periods[0] if len(periods) == 1 else periods,
            "measures": [t.measure for t in release.tables], "dimensions": list(release.dimensions),
            "reference_date": release.reference_date}


def true_figures(model: AtomModel, data: dict[str, LinkedData]) -> dict[FigureId, int]:
    """Every figure of every release in the model, computed exactly on its run's data."""
    out: dict[FigureId, int] = {}
    for r, release in enumerate(model.releases):
        leaves = compute(validate_request(request_of(release)), data[release.run])
        for t, table in enumerate(release.tables):
            leaf = leaves[table.measure]
            order = list(itertools.product(*(d.categories for d in leaf.dimensions)))
            counts = np.array([leaf.counts[k] for k in order], dtype=np.int64)
            matches = model._matches[r][t]
            count = matches @ counts
            numerator = (matches @ np.array([leaf.numerators[k] for k in order], dtype=np.int64)
                         if leaf.numerators is not None else None)
            for c in range(len(table.cells)):
                out[FigureId(r, t, c, "count")] = int(count[c])
                if numerator is not None:
                    out[FigureId(r, t, c, "numerator")] = int(numerator[c])
                    out[FigureId(r, t, c, "complement")] = int(count[c] - numerator[c])
    return out
