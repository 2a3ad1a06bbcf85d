"""A new table is audited with the releases that share persons with it, directly or through
other releases, and not with releases on another population (which it cannot narrow and
which cannot narrow it)."""

from __future__ import annotations

import numpy as np

from linkage.disclosure import AeadSealer, PersonLedger
from linkage.disclosure.atoms import Membership
from linkage.disclosure.release import TableInput, release_alone, release_tables
from linkage.disclosure.table import Dimension

SEX = Dimension("sex", ("F", "M"))
AGE = Dimension("age", ("young", "old"))


def _table(first: int, last: int, dimension: Dimension = SEX) -> TableInput:
    """Persons first..last; by sex every third, by age every second in the second category."""
    units = np.arange(first, last + 1, dtype=np.uint64)
    leaf = (units % (3 if dimension is SEX else 2) == 0).astype(np.int64)
    counts = {(category,): int((leaf == i).sum()) for i, category in enumerate(dimension.categories)}
    return TableInput((dimension,), counts, Membership(units, leaf))


def _release(ledger: PersonLedger, table: TableInput, name: str):
    released, _, stats = release_tables([table], 5, 5, ledger, name * 64, lambda _: b"{}")
    return released[0], stats


def test_only_releases_on_the_same_persons_are_audited_together():
    with PersonLedger(None, AeadSealer(b"k" * 32)) as ledger:
        _release(ledger, _table(1, 40), "a")
        _release(ledger, _table(1, 40, AGE), "b")
        alone = release_alone([_table(101, 140)], 5, 5)[0]
        other, stats = _release(ledger, _table(101, 140), "c")
        assert stats["joint_releases"] == 0
        assert other.suppressed.tolist() == alone.suppressed.tolist()
        # persons 35..110 join the two populations: every release is related now
        _, stats = _release(ledger, _table(35, 110), "d")
        assert stats["joint_releases"] == 3
        # and stay joined: persons 121..140 only, through releases c and d, relate to a and b
        _, stats = _release(ledger, _table(121, 140, AGE), "e")
        assert stats["joint_releases"] == 4


def test_a_table_of_unseen_persons_is_related_to_nothing():
    with PersonLedger(None, AeadSealer(b"k" * 32)) as ledger:
        _release(ledger, _table(1, 40), "a")
        view = ledger.view()
        releases, counted = view.related(np.arange(500, 510, dtype=np.uint64))
        assert releases == [] and not counted.any()
        releases, counted = view.related(np.array([3, 600], dtype=np.uint64))
        assert [r.release_id for r in releases] == [1] and int(counted.sum()) == 40
