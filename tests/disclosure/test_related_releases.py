"""A new table is audited with the releases that share persons with it, directly or through
other releases, and not with releases on another population (which it cannot narrow and
which cannot narrow it)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from linkage.disclosure import AeadSealer, AuditUnfinished, PersonLedger
from linkage.disclosure.atoms import Membership
from linkage.disclosure.person_ledger import StoredRelease
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


def _release(ledger: PersonLedger, table: TableInput, name: str, deadline: float | None = None):
    released, _, stats = release_tables([table], 5, 5, ledger, name * 64, lambda _: b"{}",
                                        deadline)
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


def test_an_audit_waits_only_for_audits_on_its_population():
    with PersonLedger(None, AeadSealer(b"k" * 32)) as ledger:
        _release(ledger, _table(1, 40), "a")
        _release(ledger, _table(101, 140), "b")
        with ledger.turn(persons=np.arange(1, 11, dtype=np.uint64)):
            # another population (and one joined to nothing yet) goes ahead
            _release(ledger, _table(101, 140, AGE), "c", deadline=time.monotonic() + 30)
            _release(ledger, _table(201, 240), "d", deadline=time.monotonic() + 30)
            # the population of persons 1..10 waits for the turn, and a table joining it to
            # another population waits too
            for name, table in (("e", _table(1, 40, AGE)), ("f", _table(30, 120))):
                with pytest.raises(AuditUnfinished):
                    _release(ledger, table, name, deadline=time.monotonic() + 0.2)
        with ledger.turn(persons=np.arange(500, 510, dtype=np.uint64)):
            with pytest.raises(AuditUnfinished):       # persons not seen yet: one population
                _release(ledger, _table(300, 340), "g", deadline=time.monotonic() + 0.2)
        assert ledger.release_count == 4


def test_a_release_on_another_population_in_between_does_not_void_a_commit():
    with PersonLedger(None, AeadSealer(b"k" * 32)) as ledger:
        _release(ledger, _table(1, 40), "a")
        stale = ledger.view()
        _release(ledger, _table(101, 140), "b")
        mine = StoredRelease(0, (AGE,), _table(1, 40, AGE).membership, np.zeros(3, dtype=bool), 5)
        assert ledger.commit(stale, [mine], "c" * 64, b"{}")
        assert [r.release_id for r in ledger.view().releases] == [1, 2, 3]
        _release(ledger, _table(30, 40), "d")
        again = StoredRelease(0, (SEX,), _table(1, 29).membership, np.zeros(3, dtype=bool), 5)
        assert not ledger.commit(stale, [again], "e" * 64, b"{}")


def test_turns_on_one_population_go_in_the_order_asked_for():
    """Who asked first goes first, also before one asking just as a turn ends."""
    persons = np.arange(1, 11, dtype=np.uint64)
    order: list[str] = []
    with PersonLedger(None, AeadSealer(b"k" * 32)) as ledger:
        _release(ledger, _table(1, 40), "a")

        def take_turn(name: str) -> None:
            with ledger.turn(deadline=time.monotonic() + 30, persons=persons):
                order.append(name)

        threads = []
        with ledger.turn(persons=persons):
            for count, name in enumerate(["first", "second"], start=1):
                threads.append(threading.Thread(target=take_turn, args=(name,)))
                threads[-1].start()
                while len(ledger._waiting) < count:
                    time.sleep(0.01)
        take_turn("latecomer")
        for thread in threads:
            thread.join()
    assert order == ["first", "second", "latecomer"]
