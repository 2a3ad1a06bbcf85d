"""Property tests: random small tables and random request sequences, each checked by the
independent integer attacker in ``oracle``."""

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage.disclosure import Dimension, LedgerError, ProtectionRefused, ReleaseLedger, protect
from linkage.disclosure.table import canonical_key

from .oracle import Oracle, Release

SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def tables(draw, max_dims=3):
    n_dims = draw(st.integers(1, max_dims))
    dims = []
    for d in range(n_dims):
        n = draw(st.integers(2, 4 if n_dims < 3 else 3))
        cats = [f"d{d}c{i}" for i in range(n)]
        parents = {}
        if n >= 3 and draw(st.booleans()):
            parents = {cats[0]: f"d{d}g0", cats[1]: f"d{d}g0"}
        dims.append(Dimension(f"dim{d}", cats, parents))
    keys = list(itertools.product(*(d.categories for d in dims)))
    values = draw(st.lists(st.integers(0, 12), min_size=len(keys), max_size=len(keys)))
    k = draw(st.integers(3, 6))
    method = draw(st.sampled_from(["hypercube", "gauss"]))
    return dims, dict(zip(keys, values)), k, method


@SETTINGS
@given(tables())
def test_released_tables_survive_the_integer_attacker(case):
    dims, counts, k, method = case
    try:
        table = protect(dims, counts, k=k, method=method)
    except ProtectionRefused:
        # only when even hiding everything leaves an interval narrower than k
        assert sum(counts.values()) < 2 * k
        return
    oracle = Oracle({d.name: d.categories for d in dims}, counts)
    oracle.add(Release(dims, table, k))
    assert oracle.violations() == []
    again = protect(dims, counts, k=k, method=method)
    assert [c.status for c in again.cells] == [c.status for c in table.cells]


@SETTINGS
@given(tables(max_dims=2), st.data())
def test_rate_tables_survive_the_integer_attacker(case, data):
    dims, counts, k, method = case
    numerators = {key: data.draw(st.integers(0, v)) for key, v in counts.items()}
    try:
        table = protect(dims, counts, k=k, numerators=numerators, method=method)
    except ProtectionRefused:
        return
    oracle = Oracle({d.name: d.categories for d in dims}, counts, numerators)
    oracle.add(Release(dims, table, k))
    assert oracle.violations() == []


DIMS = {"origin": Dimension("origin", ["o1", "o2", "o3"], {"o1": "g", "o2": "g"}),
        "sex": Dimension("sex", ["F", "M"]),
        "region": Dimension("region", ["r1", "r2", "r3"])}
FLAT_ORIGIN = Dimension("origin", ["g", "o3"])


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(0, 9), min_size=18, max_size=18),
       st.lists(st.sampled_from(["origin", "sex", "region", "origin,sex", "origin,region",
                                 "origin,sex,region", "flat"]), min_size=2, max_size=4),
       st.integers(3, 5))
def test_ledger_rules_hold_over_random_request_sequences(tmp_path_factory, values, requests, k):
    fine = {name: d.categories for name, d in DIMS.items()}
    keys = list(itertools.product(*fine.values()))
    persons = dict(zip(keys, values))
    oracle = Oracle(fine, persons, fine_parents={"origin": DIMS["origin"].parents})
    seen: dict[str, int | None] = {}
    path = tmp_path_factory.mktemp("ledger") / "l.db"
    with ReleaseLedger(path) as ledger:
        for request in requests:
            if request == "flat":
                dims = [FLAT_ORIGIN]
                counts = {("g",): sum(v for key, v in persons.items() if key[0] in ("o1", "o2")),
                          ("o3",): sum(v for key, v in persons.items() if key[0] == "o3")}
            else:
                dims = [DIMS[n] for n in request.split(",")]
                counts = {}
                for key, v in persons.items():
                    sub = tuple(key[list(fine).index(d.name)] for d in dims)
                    counts[sub] = counts.get(sub, 0) + v
            try:
                table = protect(dims, counts, k=k, ledger=ledger, snapshot="run")
            except (ProtectionRefused, LedgerError):
                continue
            oracle.add(Release(dims, table, k))
            names = [d.name for d in dims]
            for cell in table.cells:
                key = canonical_key("", "count", names, cell.key)
                if key in seen:
                    assert seen[key] == cell.value, "a cell changed between releases"
                seen[key] = cell.value
    assert oracle.violations() == []
