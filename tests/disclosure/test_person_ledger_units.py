"""The release ledger's unit model is part of its records: a ledger made under another one
cannot be related to new releases and is refused with what to do."""

from __future__ import annotations

import numpy as np
import pytest

from linkage.disclosure import AeadSealer, LedgerError, PersonLedger
from linkage.disclosure import person_ledger
from linkage.disclosure.atoms import Membership
from linkage.disclosure.person_ledger import StoredRelease
from linkage.disclosure.table import Dimension

KEY = b"k" * 32


def _release(release_id: int) -> StoredRelease:
    persons = np.arange(1, 13, dtype=np.uint64)
    return StoredRelease(release_id, (Dimension("sex", ("F", "M")),),
                         Membership(persons, np.arange(12, dtype=np.int64) % 2),
                         np.zeros(3, dtype=bool), 5)


def test_a_ledger_of_person_years_is_refused_with_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "ledger.sqlite"
    monkeypatch.setattr(person_ledger, "UNITS", "person and period")
    with PersonLedger(path, AeadSealer(KEY)) as ledger:
        assert ledger.commit(ledger.view(), [_release(1)], "f" * 64, b"{}")
    monkeypatch.undo()
    with pytest.raises(LedgerError, match="move the ledger file aside|Move the ledger file aside"):
        PersonLedger(path, AeadSealer(KEY))


def test_a_person_counted_in_two_periods_is_one_person_with_two_entries(tmp_path):
    """A pooled table counts a person once per period: the ledger keeps both entries and the
    person stays one atom."""
    pooled = StoredRelease(1, (Dimension("sex", ("F", "M")),),
                           Membership(np.array([7, 7, 8], dtype=np.uint64), np.array([0, 0, 1])),
                           np.zeros(3, dtype=bool), 5)
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(KEY)) as ledger:
        assert ledger.commit(ledger.view(), [pooled], "f" * 64, b"{}")
    with PersonLedger(tmp_path / "ledger.sqlite", AeadSealer(KEY)) as again:
        view = again.view()
        assert list(view.signatures.units) == [7, 8]
        assert list(view.releases[0].figures.values[0]) == [2, 1, 3]
