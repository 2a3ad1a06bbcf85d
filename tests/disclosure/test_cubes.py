"""The hypercube move search: every move it returns must be an integer change of the table
(inner cells and margins add up), and rate and 3-D/4-D tables protected with such moves
must survive the independent integer attacker."""

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from linkage.disclosure import Dimension, ProtectionRefused, protect
from linkage.disclosure.cubes import _corners, _shape, best_cube, protected_by_move
from linkage.disclosure.table import TableStructure

from .oracle import Oracle, Release

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def structures(draw, max_dims=4):
    dims = []
    n_dims = draw(st.integers(2, max_dims))
    for d in range(n_dims):
        n = draw(st.integers(2, 4 if n_dims < 4 else 3))
        cats = [f"d{d}c{i}" for i in range(n)]
        parents = {cats[0]: f"d{d}g", cats[1]: f"d{d}g"} if n >= 3 and draw(st.booleans()) \
            else {}
        dims.append(Dimension(f"dim{d}", cats, parents))
    return TableStructure(dims)


def _check_move(st_, move, cell, rooms, suppressed_before, forced, value, k):
    """The move is +-1 on its corners; applied to the inner cells it must give exactly
    those changes on every cell (relations hold), stay within the rooms, protect ``cell``
    and suppress nothing forced."""
    assert move.signs[list(move.corners).index(cell)] == 1
    inner = np.zeros(st_.n_inner)
    delta = np.zeros(st_.n_cells)
    delta[move.corners] = move.signs
    leaf_pos = {int(c): i for i, c in enumerate(st_.leaf_cells)}
    for c, s in zip(move.corners, move.signs):
        if st_.inner_count[c] == 1:
            inner[leaf_pos[int(c)]] = s
    assert np.array_equal(st_.A @ inner, delta)
    room_down, room_up = rooms
    plus, minus = move.corners[move.signs > 0], move.corners[move.signs < 0]
    assert move.up >= 1 and np.all(room_up[plus] >= move.up)
    assert np.all(room_down[minus] >= move.up)
    assert np.all(room_down[plus] >= move.down) and np.all(room_up[minus] >= move.down)
    assert move.down == min(move.down, value) and (value == 0 or move.down >= 1)
    assert move.up + move.down >= k
    assert set(move.new) == {int(c) for c in move.corners if not suppressed_before[c]}
    if forced is not None:
        assert not forced[list(move.new)].any()


@SETTINGS
@given(structures(), st.data())
def test_moves_are_integer_changes_of_the_whole_table(st_, data):
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1)))
    inner = rng.poisson(4.0, st_.n_inner)
    values = st_.cell_values(inner)
    rooms = (values, np.where(st_.inner_count == 1, values.max() - values, np.inf))
    suppressed = rng.random(st_.n_cells) < 0.3
    forced = rng.random(st_.n_cells) < 0.1
    cost = values + 1.0
    k = data.draw(st.integers(3, 6))
    cell = data.draw(st.integers(0, st_.n_cells - 1))
    forced[cell] = False
    value = int(values[cell])
    move = best_cube(st_, cell, rooms, value, k, suppressed, forced, cost)
    if move is not None:
        _check_move(st_, move, cell, rooms, suppressed, forced, value, k)
        done = suppressed.copy()
        done[list(move.new)] = True
        proof = protected_by_move(st_, cell, rooms, value, k, done)
        assert proof is not None and proof.new == ()
        _check_move(st_, proof, cell, rooms, done, None, value, k)


@SETTINGS
@given(structures(), st.data())
def test_every_hypercube_searched_is_an_integer_change(st_, data):
    """All option combinations through a cell (leaf pairs, and leaves moving together
    with their margins), not only the ones a search happens to pick."""
    cell = data.draw(st.integers(0, st_.n_cells - 1))
    shape = _shape(st_)
    per_dim = [shape.options(d, int(st_.cell_nodes[cell, d])) for d in range(len(st_.shape))]
    corners, signs = _corners(shape, per_dim, st_.n_cells)
    leaf_pos = np.full(st_.n_cells + 1, -1)
    leaf_pos[st_.leaf_cells] = np.arange(st_.n_inner)
    for row, sign in zip(corners, signs):
        real = sign != 0
        assert cell in row[real]
        delta = np.zeros(st_.n_cells)
        delta[row[real]] = sign[real]
        inner = np.zeros(st_.n_inner)
        leaves = leaf_pos[row] >= 0
        inner[leaf_pos[row[leaves]]] = sign[leaves]
        assert np.array_equal(st_.A @ inner, delta)


def test_the_cheapest_move_is_chosen():
    """2-D table: the move through the unsafe cell may use any other row and column; the
    cheapest rectangle whose corners hold at least k - 1 persons wins."""
    rows = Dimension("r", ["a", "b", "c"])
    cols = Dimension("c", ["x", "y", "z"])
    st_ = TableStructure([rows, cols])
    inner = np.array([1, 9, 20,
                      9, 30, 6,
                      20, 5, 8])
    values = st_.cell_values(inner)
    rooms = (values, np.full(st_.n_cells, np.inf))
    suppressed = np.zeros(st_.n_cells, dtype=bool)
    cell = st_.index(("a", "x"))
    suppressed[cell] = True
    move = best_cube(st_, cell, rooms, 1, 5, suppressed, np.zeros(st_.n_cells, bool),
                     values + 1.0)
    # (a,y) 9, (c,x) 20, (c,y) 5: cost 37; (a,z) 20, (b,x) 9, (b,z) 6 would cost 38
    assert sorted(st_.key(c) for c in move.new) == [("a", "y"), ("c", "x"), ("c", "y")]


def _random_counts(dims, rng, mean):
    keys = list(itertools.product(*(d.categories for d in dims)))
    return {key: int(v) for key, v in zip(keys, rng.poisson(mean, len(keys)))}


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([(3, 3, 2), (2, 3, 2, 2)]))
def test_rate_tables_of_three_and_four_dimensions_survive_the_integer_attacker(seed, shape):
    rng = np.random.default_rng(seed)
    dims = [Dimension(f"dim{d}", [f"d{d}c{i}" for i in range(n)]) for d, n in enumerate(shape)]
    counts = _random_counts(dims, rng, 7.0)
    numerators = {key: int(rng.binomial(v, 0.7)) for key, v in counts.items()}
    try:
        table = protect(dims, counts, k=4, numerators=numerators)
    except ProtectionRefused:
        return
    oracle = Oracle({d.name: d.categories for d in dims}, counts, numerators)
    oracle.add(Release(dims, table, 4))
    assert oracle.violations() == []


def test_a_rate_table_with_tiny_groups_is_protected_by_moves_alone():
    """Small groups in one region (as in the broker's 4-D tables): the unsafe numerators
    need moves that change numerator and denominator together, and some unsafe cells
    need moves through margins; both are integer proofs, so no LP repair is needed."""
    rng = np.random.default_rng(5)
    dims = [Dimension("origin", [f"o{i}" for i in range(6)]), Dimension("sex", ["M", "F"]),
            Dimension("age", ["a", "b", "c"]), Dimension("region", ["r1", "r2", "r3"])]
    counts, numerators = {}, {}
    for key in itertools.product(*(d.categories for d in dims)):
        small = key[0] in ("o4", "o5") and key[3] == "r3"
        counts[key] = int(rng.integers(1, 6) if small else rng.integers(40, 200))
        numerators[key] = int(rng.binomial(counts[key], 0.7))
    table = protect(dims, counts, k=5, numerators=numerators)
    assert table.counts()["primary"] > 0
    assert table.audit.witnessed == table.audit.quantities_checked
    assert table.audit.augmentations == 0
    oracle = Oracle({d.name: d.categories for d in dims}, counts, numerators)
    oracle.add(Release(dims, table, 5))
    assert oracle.violations() == []


def test_a_capped_search_still_gives_valid_protection(monkeypatch):
    """Cells with more hypercubes than the cap (large hierarchies) search the most
    promising options per dimension only; the result must still be protected."""
    import linkage.disclosure.cubes as cubes
    monkeypatch.setattr(cubes, "MAX_ELEMENTS", 40)
    rng = np.random.default_rng(11)
    dims = [Dimension("a", ["a0", "a1", "a2", "a3"], {"a0": "g", "a1": "g"}),
            Dimension("b", ["b0", "b1", "b2"]), Dimension("c", ["c0", "c1", "c2"])]
    counts = _random_counts(dims, rng, 5.0)
    table = protect(dims, counts, k=5)
    assert table.counts()["primary"] > 0
    oracle = Oracle({d.name: d.categories for d in dims}, counts,
                    fine_parents={"a": dims[0].parents})
    oracle.add(Release(dims, table, 5))
    assert oracle.violations() == []
