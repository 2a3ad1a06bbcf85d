import numpy as np
import pytest

from linkage.disclosure import DisclosureError, Dimension, protect
from linkage.disclosure.cellkey import (MODULUS, PerturbationTable, cell_key, load_secret,
                                        perturb, record_key, record_keys)

SECRET = b"k" * 32


def test_perturbation_table_rows_are_unbiased_with_the_variance_asked():
    table = PerturbationTable.build(max_noise=2, variance=1.0, floor=5)
    support = np.arange(-2, 3)
    for i, row in enumerate(table.noise):
        assert row.sum() == pytest.approx(1.0)
        assert row @ support == pytest.approx(0.0, abs=1e-8)
        targets = i + support[row > 0]
        assert (targets >= 5).all() if i >= 5 else (targets == i).all()
    assert table.noise[-1] @ support ** 2 == pytest.approx(1.0)
    assert table.noise[0][2] == 1.0                      # zero stays zero


def test_noise_follows_the_table_and_never_goes_below_the_floor():
    table = PerturbationTable.build(2, 1.0, 5)
    keys = np.random.default_rng(0).integers(0, MODULUS, 20000)
    noise = np.array([table.noise_for(50, int(k)) for k in keys])
    assert abs(noise.mean()) < 0.05 and abs(noise.var() - 1.0) < 0.05
    assert all(5 + table.noise_for(5, int(k)) >= 5 for k in keys[:2000])
    assert table.noise_for(3, 12345) == 0


def test_record_and_cell_keys_are_keyed_and_order_free():
    assert record_key("entity-1", SECRET) == record_key("entity-1", SECRET)
    assert record_key("entity-1", SECRET) != record_key("entity-1", b"x" * 32)
    keys = record_keys(["a", "b", "c"], SECRET)
    assert cell_key(keys) == cell_key(keys[::-1]) < MODULUS


def test_the_same_persons_get_the_same_noise_in_every_table():
    sex = Dimension("sex", ["F", "M"])
    age = Dimension("age", ["young", "old"])
    persons = {("F", "young"): [f"p{i}" for i in range(12)],
               ("F", "old"): [f"q{i}" for i in range(9)],
               ("M", "young"): [f"r{i}" for i in range(30)],
               ("M", "old"): [f"s{i}" for i in range(7)]}
    leaf_keys = {k: cell_key(record_keys(v, SECRET)) for k, v in persons.items()}
    ptable = PerturbationTable.build(2, 1.0, 5)
    two_way = perturb(protect([sex, age], {k: len(v) for k, v in persons.items()}),
                      leaf_keys, ptable)
    by_sex = {("F",): persons[("F", "young")] + persons[("F", "old")],
              ("M",): persons[("M", "young")] + persons[("M", "old")]}
    one_way = perturb(protect([sex], {k: len(v) for k, v in by_sex.items()}),
                      {k: cell_key(record_keys(v, SECRET)) for k, v in by_sex.items()}, ptable)
    assert two_way.cell(("F", "Total")).value == one_way.cell(("F",)).value
    assert two_way.cell(("Total", "Total")).value == one_way.cell(("Total",)).value
    changed = [c for c in two_way.cells if c.value is not None
               and c.value != protect([sex, age], {k: len(v) for k, v in persons.items()}
                                      ).cell(c.key).value]
    assert changed, "some published count should carry noise"


def test_rates_use_perturbed_counts_and_need_numerator_keys():
    sex = Dimension("sex", ["F", "M"])
    table = protect([sex], {("F",): 40, ("M",): 50}, numerators={("F",): 20, ("M",): 10})
    ptable = PerturbationTable.build(2, 1.0, 5)
    with pytest.raises(DisclosureError, match="numerator"):
        perturb(table, {("F",): 1, ("M",): 2}, ptable)
    out = perturb(table, {("F",): 11, ("M",): 2 ** 31}, ptable, {("F",): 99, ("M",): 7})
    for cell in out.cells:
        assert cell.rate == cell.numerator / cell.value


def test_short_secret_is_refused(tmp_path):
    path = tmp_path / "ck.secret"
    path.write_bytes(b"short")
    with pytest.raises(DisclosureError, match="shorter than 32 bytes"):
        load_secret(path)
    path.write_bytes(SECRET + b"\n")
    assert load_secret(path) == SECRET
