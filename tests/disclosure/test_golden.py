"""Golden vectors from sdc_anchors.md §10.1 (re-computed there against tau-ARGUS,
sdcTable and a scipy prototype)."""

import numpy as np
import pytest

from linkage.disclosure import Dimension, ReleaseLedger, protect
from linkage.disclosure.audit import AttackerModel, Block, Quantity
from linkage.disclosure.table import TableStructure, canonical_key


def _block(dims, inner_values, suppressed_keys, population="P"):
    st = TableStructure(dims)
    values = st.cell_values(np.asarray(inner_values))[None, :]
    suppressed = np.zeros(st.n_cells, dtype=bool)
    for key in suppressed_keys:
        suppressed[st.index(key)] = True
    keys = [[canonical_key(population, "count", st.names, st.key(c)) for c in range(st.n_cells)]]
    return st, Block(st, values, suppressed, keys)


def _interval(blocks, block_index, key, k=5):
    model = AttackerModel(blocks, ub=max(b.values.max() for b in blocks))
    st = blocks[block_index].structure
    c = st.index(key)
    value = int(blocks[block_index].values[0, c])
    check = model.check(Quantity(((0, c, 1),), value, k, c, block_index))
    return check.lo, check.up


def test_handbook_example_interval():
    """Geurts (1992) / tau-ARGUS manual: 3x2 table, the four top-left cells suppressed."""
    dims = [Dimension("row", ["1", "2", "3"]), Dimension("col", ["1", "2"])]
    _, block = _block(dims, [4, 3, 2, 1, 3, 3],
                      [("1", "1"), ("1", "2"), ("2", "1"), ("2", "2")])
    assert _interval([block], 0, ("1", "1")) == (3, 6)


SIMPLE = {"w": [30, 47, 64, 89], "x": [90, 124, 5, 31], "y": [92, 100, 59, 85],
          "z": [800, 991, 651, 685]}
PRIMARIES = [("w", "a"), ("w", "b"), ("w", "c"), ("x", "a"), ("x", "c"), ("y", "b"), ("y", "d"),
             ("z", "b"), ("z", "d")]


@pytest.mark.parametrize("extra, expected", [
    ([], (47, 47)),                 # two suppressions per row and column, yet exact disclosure
    ([("x", "d")], (0, 78)),        # sdcTable's SIMPLEHEURISTIC choice: bnds$up == 78
    ([("x", "b")], (0, 141)),
])
def test_sdctable_simpleheuristic_instance(extra, expected):
    dims = [Dimension("r", list("wxyz")), Dimension("c", list("abcd"))]
    inner = [v for r in "wxyz" for v in SIMPLE[r]]
    _, block = _block(dims, inner, PRIMARIES + extra)
    assert _interval([block], 0, ("w", "b")) == expected


LEAVES = list("ABIJKLMN")
LEAF_VALUES = [2, 2, 8, 8, 3, 3, 3, 7]
COUNTIES = Dimension("region", LEAVES, {**{x: "county-1" for x in "ABIJ"},
                                        **{x: "county-2" for x in "KLMN"}})
SIZES = Dimension("region", LEAVES, {**{x: "small" for x in "ABIJKN"},
                                     **{x: "big" for x in "LM"}})


def test_linked_tables_joint_audit_finds_what_each_table_hides():
    """sdcTable test-linked-tables: each table is safe alone, K = 3 is exact jointly."""
    primaries = [(x,) for x in "ABKLM"]
    _, one = _block([COUNTIES], LEAF_VALUES, primaries)
    _, two = _block([SIZES], LEAF_VALUES, primaries)
    assert _interval([one], 0, ("K",), k=4)[1] > 3
    assert _interval([two], 0, ("K",), k=4)[1] > 3
    assert _interval([one, two], 1, ("K",), k=4) == (3, 3)
    _, one = _block([COUNTIES], LEAF_VALUES, primaries + [("N",)])
    _, two = _block([SIZES], LEAF_VALUES, primaries + [("N",)])
    assert _interval([one, two], 1, ("K",), k=4) == (0, 10)


def test_linked_tables_through_the_ledger_protect_k(tmp_path):
    counts = {(leaf,): v for leaf, v in zip(LEAVES, LEAF_VALUES)}
    with ReleaseLedger(tmp_path / "ledger.db") as ledger:
        first = protect([COUNTIES], counts, k=4, ledger=ledger, snapshot="run-1")
        second = protect([SIZES], counts, k=4, ledger=ledger, snapshot="run-1")
    assert first.audit.joint_releases == 0 and second.audit.joint_releases == 1
    # what the two releases publish together must not pin K down
    _, one = _block([COUNTIES], LEAF_VALUES,
                    [c.key for c in first.cells if c.value is None])
    _, two = _block([SIZES], LEAF_VALUES, [c.key for c in second.cells if c.value is None])
    lo, up = _interval([one, two], 1, ("K",), k=4)
    assert lo <= 2 and up >= 4 and up - lo >= 4


def test_zero_cell_group_disclosure_needs_room_upwards():
    """A protected zero (everyone of the margin in one category) must be able to reach k."""
    dims = [Dimension("origin", ["X", "Y"]), Dimension("status", ["job", "none"])]
    counts = {("X", "job"): 12, ("X", "none"): 0, ("Y", "job"): 30, ("Y", "none"): 25}
    table = protect(dims, counts, k=5, sensitive=["status"])
    assert table.cell(("X", "job")).status == "primary"
    assert "group disclosure" in table.cell(("X", "job")).reason
    # the attacker must not be able to conclude that nobody of origin X is without a job
    st = TableStructure(dims)
    inner = [12, 0, 30, 25]
    _, block = _block(dims, inner, [c.key for c in table.cells if c.value is None])
    model = AttackerModel([block], ub=67)
    p, c = st.index(("X", "Total")), st.index(("X", "job"))
    check = model.check(Quantity(((0, p, 1), (0, c, -1)), 0, 5, c))
    assert check.up >= 5
