"""Checks that let tables of one snapshot be audited jointly and exactly.

The joint attacker model links tables only through the cells they share. That is exact
when (a) every dimension name means one classification, whose categories in different
tables are unions of common leaf categories covering the same population, and (b) the sets
of dimensions used by the tables form an acyclic hypergraph (for example A x B and A x C,
or A x B and A x B x C). Then any combination of tables consistent on their shared margins
can be completed to a table of persons, so the linked model is what an attacker can
derive. With a cycle (A x B, B x C, C x A) the three margins constrain the three-way
table in ways the linked model does not see, so such a combination is refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from linkage.disclosure.errors import LedgerError
from linkage.disclosure.table import Dimension


def check_classifications(tables: Sequence[Sequence[Dimension]]) -> None:
    """Same-named dimensions in different tables must partition the same leaf categories."""
    by_name: dict[str, list[Dimension]] = {}
    for dims in tables:
        for dim in dims:
            by_name.setdefault(dim.name, []).append(dim)
    for name, dims in by_name.items():
        children: dict[str, set[str]] = {}
        for dim in dims:
            for child, parent in dim.parents.items():
                children.setdefault(parent, set()).add(child)
        memo: dict[str, frozenset[str]] = {}

        def expand(node: str, path: tuple = (), memo: dict[str, frozenset[str]] = memo,
                   children: dict[str, set[str]] = children, name: str = name) -> frozenset[str]:
            if node in memo:
                return memo[node]
            if node in path:
                raise LedgerError(f"dimension {name!r}: the hierarchies of different tables "
                                  f"contradict each other around {node!r}")
            kids = children.get(node)
            out = frozenset([node]) if not kids else frozenset().union(
                *(expand(k, path + (node,)) for k in kids))
            memo[node] = out
            return out

        universe = None
        for dim in dims:
            for parent in dim.parents.values():
                own = _own_leaves(dim, parent)
                if frozenset().union(*(expand(x) for x in own)) != expand(parent):
                    raise LedgerError(
                        f"dimension {name!r}: category {parent!r} groups different categories "
                        "in different tables; give each grouping its own category name")
            atoms = [expand(c) for c in dim.categories]
            union = frozenset().union(*atoms)
            if sum(len(a) for a in atoms) != len(union) or (universe is not None
                                                            and union != universe):
                raise LedgerError(
                    f"dimension {name!r} covers different categories than in an earlier "
                    "release of this snapshot, so their totals differ; use the same "
                    "classification (with a hierarchy down to common categories) or a "
                    "different dimension name")
            universe = union


def _own_leaves(dim: Dimension, node: str) -> list[str]:
    out, stack = [], [node]
    kids: dict[str, list[str]] = {}
    for child, parent in dim.parents.items():
        kids.setdefault(parent, []).append(child)
    while stack:
        x = stack.pop()
        if x in kids:
            stack.extend(kids[x])
        else:
            out.append(x)
    return out


def is_acyclic(edges: Sequence[Sequence[str]]) -> bool:
    """GYO reduction: repeatedly drop vertices that occur in one hyperedge only and
    hyperedges contained in another; the hypergraph is acyclic iff nothing remains."""
    sets = [set(e) for e in edges if e]
    changed = True
    while changed:
        changed = False
        for s in sets:
            lonely = {v for v in s if sum(v in t for t in sets) == 1}
            if lonely:
                s -= lonely
                changed = True
        kept = []
        for i, s in enumerate(sets):
            if not s:
                changed = True
                continue
            if any(j != i and s <= t and (s != t or j < i) for j, t in enumerate(sets)):
                changed = True
                continue
            kept.append(s)
        sets = kept
    return not sets


def check_acyclic(dimension_sets: Sequence[Sequence[str]]) -> None:
    if not is_acyclic(dimension_sets):
        raise LedgerError(
            "this table's dimensions, together with tables released before for this snapshot "
            "and population, form a cycle (like A x B, B x C and C x A) whose joint "
            "disclosure risk the audit cannot bound exactly; ask for a table whose "
            "dimensions contain, or are contained in, those of an earlier release")
