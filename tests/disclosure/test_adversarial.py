"""Attacks across releases. Each scenario releases tables through one global ledger, then an
independent integer attacker (``oracle``) combines *all* released figures and must not
narrow any unsafe figure below its protection interval."""

import itertools

import pytest

from linkage.disclosure import (Dimension, LedgerError, ProtectionRefused, ReleaseLedger,
                                protect)

from .oracle import Oracle, Release

REGION = Dimension("region", ["m1", "m2", "m3", "m4", "m5"],
                   {"m1": "p1", "m2": "p1", "m3": "p1", "m4": "p2", "m5": "p2"})
PROVINCES = Dimension("region", ["p1", "p2"])
ORIGIN = Dimension("origin", ["BE", "MA", "TR"])
SEX = Dimension("sex", ["F", "M"])
FINE = {"origin": ORIGIN.categories, "sex": SEX.categories, "region": REGION.categories}
PERSONS = {key: v for key, v in zip(itertools.product(*FINE.values()), [
    9, 14, 7, 11, 6, 8, 12, 10, 9, 13,    # BE F / BE M by municipality
    2, 0, 6, 1, 7, 3, 5, 0, 8, 2,         # MA
    0, 1, 0, 3, 2, 1, 0, 4, 0, 6,         # TR
])}


def _margin(dims):
    """Leaf counts of a table over ``dims`` (provinces folded from municipalities)."""
    out: dict = {}
    for key, v in PERSONS.items():
        full = dict(zip(FINE, key))
        sub = tuple(REGION.parents[full["region"]] if d is PROVINCES else full[d.name]
                    for d in dims)
        out[sub] = out.get(sub, 0) + v
    return out


def _oracle(numerators=None):
    return Oracle(FINE, PERSONS, numerators, fine_parents={"region": REGION.parents})


def _release_all(ledger, requests, k=5, oracle=None, **kwargs):
    oracle = oracle or _oracle()
    released, refused = [], []
    for dims in requests:
        try:
            table = protect(dims, _margin(dims), k=k, ledger=ledger, snapshot="run-7", **kwargs)
        except (ProtectionRefused, LedgerError) as exc:
            refused.append(str(exc))
            continue
        released.append(table)
        oracle.add(Release(dims, table, k))
    return oracle, released, refused


def test_differencing_pair_municipalities_then_provinces(tmp_path):
    """A small municipality hidden in one table must not reappear as province minus the
    published municipalities of another table."""
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        oracle, released, _ = _release_all(ledger, [[ORIGIN, REGION], [ORIGIN, PROVINCES],
                                                    [ORIGIN]])
    assert len(released) >= 2
    assert list(oracle.unsafe())
    assert oracle.violations() == []


def test_differencing_pair_in_the_other_order(tmp_path):
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        oracle, released, _ = _release_all(ledger, [[ORIGIN, PROVINCES], [ORIGIN, REGION],
                                                    [REGION]])
    assert len(released) >= 2
    assert oracle.violations() == []


def test_tracker_queries_through_overlapping_margins(tmp_path):
    """Tracker: total, total by sex, by origin, and the cross tables that pad a small group
    with a large one; their differences isolate small cells unless the ledger stops them."""
    requests = [[SEX], [ORIGIN], [ORIGIN, SEX], [SEX, REGION], [ORIGIN, SEX, REGION]]
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        oracle, released, _ = _release_all(ledger, requests)
    assert len(released) >= 3
    assert oracle.violations() == []


def test_the_same_cell_stays_the_same_across_requesters(tmp_path):
    """Two requesters (one global ledger) ask overlapping tables; they collude."""
    path = tmp_path / "l.db"
    with ReleaseLedger(path) as ledger_a:
        first = protect([ORIGIN, SEX], _margin([ORIGIN, SEX]), ledger=ledger_a, snapshot="s")
    with ReleaseLedger(path) as ledger_b:
        second = protect([SEX, ORIGIN], _margin([SEX, ORIGIN]), ledger=ledger_b, snapshot="s")
    for cell in first.cells:
        twin = second.cell((cell.key[1], cell.key[0]))
        assert (twin.status == "published") == (cell.status == "published")
        assert twin.value == cell.value
    oracle = _oracle()
    oracle.add(Release([ORIGIN, SEX], first, 5))
    oracle.add(Release([SEX, ORIGIN], second, 5))
    assert oracle.violations() == []


def test_two_requesters_combining_different_tables(tmp_path):
    path = tmp_path / "l.db"
    oracle = _oracle()
    with ReleaseLedger(path) as one:
        _release_all(one, [[ORIGIN, REGION]], oracle=oracle)
    with ReleaseLedger(path) as two:
        _release_all(two, [[SEX, PROVINCES], [ORIGIN, SEX]], oracle=oracle)
    assert len(oracle.releases) >= 2
    assert oracle.violations() == []


def test_a_rate_combined_with_a_count_of_the_same_cells(tmp_path):
    """Counts of the population and a rate over it share denominators: published rate
    denominators and numerators must not uncover the count table's small cells or the
    other way round."""
    numerators = {key: min(v, [0, 1, 3, 5, 8][i % 5]) for i, (key, v) in enumerate(PERSONS.items())}
    oracle = _oracle(numerators)
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        dims = [ORIGIN, PROVINCES]
        count_table = protect(dims, _margin(dims), ledger=ledger, snapshot="s")
        oracle.add(Release(dims, count_table, 5))
        rate_dims = [ORIGIN, REGION]
        nums = {}
        for key, v in numerators.items():
            sub = (key[0], key[2])
            nums[sub] = nums.get(sub, 0) + v
        try:
            rate_table = protect(rate_dims, _margin(rate_dims), numerators=nums, ledger=ledger,
                                 snapshot="s", numerator_measure="employed")
            oracle.add(Release(rate_dims, rate_table, 5))
        except ProtectionRefused:
            rate_table = None
    assert oracle.violations() == []
    if rate_table is not None:
        for cell in rate_table.cells:
            twin_key = (cell.key[0], "Total") if cell.key[1] == "Total" else None
            if twin_key and cell.value is not None:
                twin = count_table.cell(twin_key)
                assert twin.value in (None, cell.value)


def test_a_changed_value_in_the_same_snapshot_is_refused(tmp_path):
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        protect([SEX], {("F",): 20, ("M",): 30}, ledger=ledger, snapshot="s")
        with pytest.raises(LedgerError, match="different value"):
            protect([SEX], {("F",): 21, ("M",): 30}, ledger=ledger, snapshot="s")
        # a new snapshot (a new linkage run) starts afresh
        protect([SEX], {("F",): 21, ("M",): 30}, ledger=ledger, snapshot="s2")


def test_cyclic_combinations_of_dimensions_are_refused(tmp_path):
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        protect([ORIGIN, SEX], _margin([ORIGIN, SEX]), ledger=ledger, snapshot="s")
        protect([SEX, REGION], _margin([SEX, REGION]), ledger=ledger, snapshot="s")
        with pytest.raises(LedgerError, match="cycle"):
            protect([ORIGIN, REGION], _margin([ORIGIN, REGION]), ledger=ledger, snapshot="s")
        # a table containing all three dimensions closes the cycle safely
        protect([ORIGIN, SEX, REGION], _margin([ORIGIN, SEX, REGION]), ledger=ledger,
                snapshot="s")


def test_incompatible_classifications_under_one_name_are_refused(tmp_path):
    eu14 = Dimension("origin", ["EU14", "rest"])
    eu15 = Dimension("origin", ["EU15", "other"])
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        protect([eu14], {("EU14",): 40, ("rest",): 60}, ledger=ledger, snapshot="s")
        with pytest.raises(LedgerError, match="covers different categories"):
            protect([eu15], {("EU15",): 45, ("other",): 55}, ledger=ledger, snapshot="s")


def test_repeating_a_request_changes_nothing(tmp_path):
    dims = [ORIGIN, REGION]
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        first = protect(dims, _margin(dims), ledger=ledger, snapshot="s")
        again = protect(dims, _margin(dims), ledger=ledger, snapshot="s")
        assert ledger.releases("s") == 2
    assert [(c.value, c.status) for c in again.cells] == [(c.value, c.status) for c in first.cells]
    assert again.audit.augmentations == 0


def test_non_nested_groupings_are_a_differencing_attack_the_ledger_stops(tmp_path):
    """sdcTable's linked-tables instance: counties and size classes over the same places.
    Protected one by one they leak K exactly; through the ledger they do not."""
    leaves = list("ABIJKLMN")
    counts = {(x,): v for x, v in zip(leaves, [2, 2, 8, 8, 3, 3, 3, 7])}
    counties = Dimension("region", leaves, {**{x: "c1" for x in "ABIJ"},
                                            **{x: "c2" for x in "KLMN"}})
    sizes = Dimension("region", leaves, {**{x: "small" for x in "ABIJKN"},
                                         **{x: "big" for x in "LM"}})
    fine = {"region": leaves}
    naive = Oracle(fine, {k: v for k, v in counts.items()})
    naive.add(Release([counties], protect([counties], counts, k=4), 4))
    naive.add(Release([sizes], protect([sizes], counts, k=4), 4))
    assert naive.violations(), "the scenario must be an attack when tables are independent"
    guarded = Oracle(fine, counts)
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        for dim in (counties, sizes):
            guarded.add(Release([dim], protect([dim], counts, k=4, ledger=ledger,
                                               snapshot="s"), 4))
    assert guarded.violations() == []


def test_concurrent_requests_are_audited_one_after_the_other(tmp_path):
    """Threads sharing one ledger (as the broker's gRPC workers do) take turns: every pair
    of releases is audited jointly, so the combination leaks nothing."""
    import threading
    leaves = list("ABIJKLMN")
    counts = {(x,): v for x, v in zip(leaves, [2, 2, 8, 8, 3, 3, 3, 7])}
    groupings = [Dimension("region", leaves, {**{x: "c1" for x in "ABIJ"},
                                               **{x: "c2" for x in "KLMN"}}),
                 Dimension("region", leaves, {**{x: "small" for x in "ABIJKN"},
                                              **{x: "big" for x in "LM"}})]
    results = {}
    with ReleaseLedger(tmp_path / "l.db") as ledger:
        threads = [threading.Thread(target=lambda i=i: results.__setitem__(
            i, protect([groupings[i]], counts, k=4, ledger=ledger, snapshot="s")))
            for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert ledger.releases("s") == 2
    oracle = Oracle({"region": leaves}, counts)
    for i in range(2):
        oracle.add(Release([groupings[i]], results[i], 4))
    assert oracle.violations() == []
