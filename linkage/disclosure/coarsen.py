"""Coarsening: the same table one hierarchy level up, for a table that cannot be released."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from linkage.disclosure.errors import TableError
from linkage.disclosure.table import Dimension

LeafValues = Mapping[tuple[str, ...], int]


@dataclass(frozen=True)
class Coarser:
    dimensions: list[Dimension]
    counts: dict[tuple[str, ...], int]
    numerators: dict[tuple[str, ...], int] | None
    coarsened: str                      # the dimension answered one level up


def coarser(dims: Sequence[Dimension], counts: LeafValues,
            numerators: LeafValues | None) -> Coarser | None:
    """One hierarchy level coarser in the dimension with the most leaf categories that has
    a hierarchy; None when no dimension can be coarsened."""
    options = [(len(d.categories), -i, i) for i, d in enumerate(dims)
               if any(c in d.parents for c in d.categories)]
    if not options:
        return None
    _, _, i = max(options)
    dim = dims[i]
    mapping = {c: dim.parents.get(c, c) for c in dim.categories}
    categories = list(dict.fromkeys(mapping[c] for c in dim.categories))
    parents = {c: p for c, p in dim.parents.items() if c not in dim.categories}
    new_dims = list(dims)
    new_dims[i] = Dimension(dim.name, categories, parents)

    def fold(values: LeafValues) -> dict[tuple[str, ...], int]:
        out: dict[tuple[str, ...], int] = {}
        for key, value in values.items():
            if not isinstance(key, tuple) or len(key) != len(dims) or key[i] not in mapping:
                raise TableError(f"cell {key!r} does not match the table's dimensions")
            new = key[:i] + (mapping[key[i]],) + key[i + 1:]
            out[new] = out.get(new, 0) + value
        return out

    return Coarser(new_dims, fold(counts), None if numerators is None else fold(numerators),
                   dim.name)
