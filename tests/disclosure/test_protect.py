import itertools

import numpy as np
import pytest

from linkage.disclosure import (Dimension, ProtectionRefused, TableError, ThresholdError, protect,
                                table_rows)
from linkage.disclosure.table import TableStructure, canonical_key

from .oracle import Oracle, Release

ORIGIN = Dimension("origin", ["BE", "NL", "MA", "TR"],
                   {"BE": "EU", "NL": "EU", "MA": "nonEU", "TR": "nonEU"})
SEX = Dimension("sex", ["F", "M"])
AGE = Dimension("age", ["18-24", "25-49", "50-64"])


def _counts(dims, seed, mean=6.0):
    rng = np.random.default_rng(seed)
    keys = itertools.product(*(d.categories for d in dims))
    return {k: int(v) for k, v in zip(keys, rng.poisson(mean, 10 ** 4))}


def test_every_cell_is_returned_with_margins_and_true_published_values():
    counts = _counts([ORIGIN, SEX], 1)
    table = protect([ORIGIN, SEX], counts, k=5)
    assert len(table.cells) == 7 * 3
    for cell in table.cells:
        origins = {"Total": ORIGIN.categories, "EU": ("BE", "NL"), "nonEU": ("MA", "TR")}
        os_ = origins.get(cell.key[0], (cell.key[0],))
        ss = SEX.categories if cell.key[1] == "Total" else (cell.key[1],)
        true = sum(counts.get((o, s), 0) for o in os_ for s in ss)
        if cell.status == "published":
            assert cell.value == true
        else:
            assert cell.value is None
        assert (cell.status == "primary") == (1 <= true < 5)


def test_published_tables_pass_an_independent_integer_attacker():
    dims = [ORIGIN, SEX, AGE]
    counts = _counts(dims, 7, mean=4.0)
    table = protect(dims, counts, k=5)
    oracle = Oracle({d.name: d.categories for d in dims}, counts)
    oracle.add(Release(dims, table, 5))
    assert list(oracle.unsafe())
    assert oracle.violations() == []


@pytest.mark.parametrize("method", ["hypercube", "gauss", "optimal"])
def test_every_method_protects_a_rate_table(method):
    dims = [ORIGIN, SEX]
    den = _counts(dims, 3, mean=9.0)
    rng = np.random.default_rng(4)
    num = {k: int(rng.integers(0, v + 1)) for k, v in den.items()}
    table = protect(dims, den, k=5, numerators=num, method=method)
    assert table.is_rate and table.audit.passed
    oracle = Oracle({d.name: d.categories for d in dims}, den, num)
    oracle.add(Release(dims, table, 5))
    assert oracle.violations() == []
    for cell in table.cells:
        if cell.value is not None and cell.value:
            assert cell.numerator >= 5 and cell.value - cell.numerator >= 5


def test_protection_is_deterministic_and_idempotent_in_the_pattern():
    dims = [ORIGIN, SEX, AGE]
    counts = _counts(dims, 11, mean=5.0)
    a = protect(dims, counts, k=5)
    b = protect(dims, dict(reversed(list(counts.items()))), k=5)
    assert [c.status for c in a.cells] == [c.status for c in b.cells]


def test_threshold_below_the_system_minimum_is_refused():
    with pytest.raises(ThresholdError, match="minimum of 10"):
        protect([SEX], {("F",): 20, ("M",): 30}, k=5, minimum=10)
    with pytest.raises(ThresholdError):
        protect([SEX], {("F",): 20}, k=1)


def test_a_higher_threshold_suppresses_more():
    counts = _counts([ORIGIN, SEX], 5, mean=8.0)
    low = protect([ORIGIN, SEX], counts, k=5)
    high = protect([ORIGIN, SEX], counts, k=10)
    assert high.counts()["published"] < low.counts()["published"]


@pytest.mark.parametrize("counts, message", [
    ({("F",): -1}, "negative"),
    ({("F",): 2.5}, "not an integer"),
    ({("F",): True}, "not an integer"),
    ({("X",): 3}, "not a category"),
    ({("F", "M"): 3}, "tuple of 1"),
    ({("Total",): 3}, "leaf cells only"),
])
def test_bad_counts_get_clear_errors(counts, message):
    with pytest.raises(TableError, match=message):
        protect([SEX], counts)


def test_numerator_larger_than_count_is_an_error_naming_the_cell():
    with pytest.raises(TableError, match="numerator exceeds the count in cell \\('M',\\)"):
        protect([SEX], {("F",): 10, ("M",): 10}, numerators={("F",): 3, ("M",): 11})


@pytest.mark.parametrize("dims, message", [
    ([Dimension("sex", ["F", "F"])], "twice"),
    ([Dimension("sex", ["Total"])], "reserved"),
    ([Dimension("a", ["x", "y"], {"x": "y"})], "both a leaf category and a parent"),
    ([Dimension("a", ["x"], {"p": "q", "q": "p", "x": "p"})], "cycle"),
    ([Dimension("a", ["x"], {"zz": "p"})], "neither a category"),
    ([SEX, SEX], "given twice"),
])
def test_bad_dimensions_get_clear_errors(dims, message):
    with pytest.raises(TableError, match=message):
        TableStructure(dims)


def test_canonical_key_drops_total_dimensions():
    a = canonical_key("P", "count", ["sex"], ["F"])
    b = canonical_key("P", "count", ["sex", "age"], ["F", "Total"])
    c = canonical_key("P", "count", ["age", "sex"], ["Total", "F"])
    assert a == b == c
    assert a != canonical_key("Q", "count", ["sex"], ["F"])


def test_hierarchy_levels_are_cells_and_add_up():
    st = TableStructure([ORIGIN])
    assert st.nodes[0] == ("BE", "NL", "MA", "TR", "EU", "nonEU", "Total")
    values = st.cell_values(np.array([1, 2, 3, 4]))
    assert list(values) == [1, 2, 3, 4, 3, 7, 10]


def test_coarsening_answers_one_level_up_when_asked(tmp_path):
    from linkage.disclosure import ReleaseLedger
    region = Dimension("region", ["m1", "m2", "m3", "m4"],
                       {"m1": "p1", "m2": "p1", "m3": "p2", "m4": "p2"})
    provinces = Dimension("region", ["p1", "p2"])
    counts = {("m1",): 1, ("m2",): 5, ("m3",): 8, ("m4",): 9}
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        protect([provinces], {("p1",): 6, ("p2",): 17}, k=5, ledger=ledger, snapshot="s")
        # p1 = 6 is public, so m1 (1 person) can only be hidden in [0, 6]: too narrow for k=7
        with pytest.raises(ProtectionRefused, match="cannot be released safely"):
            protect([region], counts, k=7, ledger=ledger, snapshot="s")
        table = protect([region], counts, k=7, ledger=ledger, snapshot="s", coarsen=True)
    assert table.coarsened == ("region",)
    assert [c.key for c in table.cells] == [("p1",), ("p2",), ("Total",)]
    assert table.cell(("p1",)).value == 6
    assert table.cell(("p1",)).reason == "published in an earlier release of this snapshot"


def test_table_rows_render_every_cell():
    table = protect([SEX], {("F",): 3, ("M",): 40}, numerators={("F",): 1, ("M",): 20})
    rows = table_rows(table)
    assert table.cell(("F",)).status == "primary" and table.cell(("M",)).status == "secondary"
    assert rows[0] == {"sex": "F", "value": None, "numerator": None, "rate": None, "status": "suppressed"}
    assert rows[1] == {"sex": "M", "value": None, "numerator": None, "rate": None, "status": "suppressed"}
    assert [r["status"] for r in rows] == ["suppressed", "suppressed", "published"]
    assert rows[2]["value"] == 43 and rows[2]["rate"] == round(21 / 43, 6)
